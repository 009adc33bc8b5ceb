package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config configures a [Logger]. Apart from Module and one of AuditLogPath
// and LogPath (or Output), the zero value of every field is a sensible
// default. [New] copies the Config; changing it afterwards has no effect.
//
// The json tags are the product's parameter names (see [ConfigFromParams]),
// and a Config reads and writes JSON and YAML as a file of parameters: see
// [Config.UnmarshalJSON], [Config.UnmarshalYAML] and their Marshal
// methods. Output, Now and OnError are not parameters and are never read
// or written.
type Config struct {
	// Module names the server module that writes, such as "AgentServer". It
	// is written in every record and names the audit file, so it is made of
	// ASCII letters, digits, '_' and '-', at most 64 bytes. Required.
	Module string `json:"Module"`
	// AuditLogPath is the directory for audit files (parameter AuditLogPath).
	// When empty, LogPath is used.
	AuditLogPath string `json:"AuditLogPath,omitempty"`
	// LogPath is the module's trace-log directory (parameter "Log Path"),
	// used for audit files when AuditLogPath is empty.
	LogPath string `json:"LogPath,omitempty"`
	// EventMask selects the events written (parameter AuditEventMask). The
	// zero value means [DefaultMask].
	EventMask Mask `json:"AuditEventMask,omitzero"`
	// Formatter names the record format (parameter AuditLogFormatter),
	// without regard to case: "BCM" (the default when empty), "JSON",
	// "CEF", "OCSF", or a name given to [RegisterFormatter]. Integrity
	// protection needs BCM or JSON.
	Formatter string `json:"AuditLogFormatter,omitempty"`
	// Retention is how long rotated audit files are kept, measured from
	// their rotation time (parameter RetentionDays, in days). Older backups
	// of this module are removed at New, after each rotation and hourly.
	// Zero keeps them forever; at most [MaxRetention] (100 years).
	Retention time.Duration `json:"RetentionDays,omitzero"`
	// MaxSize is the size in bytes at which the active file is rotated
	// (parameter AuditLogMaxSize, in megabytes). A record is never split
	// across files: the file is rotated before a record that would cross
	// the limit. Zero means 100 MiB; otherwise from [MinFileSize] (2 KiB)
	// to [MaxFileSize] (1 TiB). The parameter counts whole MiB.
	MaxSize int64 `json:"AuditLogMaxSize,omitzero"`
	// MaxBackups is the most rotated files of this module that are kept,
	// oldest removed first (parameter AuditLogMaxBackups). Zero keeps all
	// that Retention keeps; at most [MaxBackupCount].
	MaxBackups int `json:"AuditLogMaxBackups,omitempty"`
	// Compress gzips rotated files in the background (parameter
	// AuditLogCompress).
	Compress bool `json:"AuditLogCompress,omitempty"`
	// Daily selects rotation at midnight so that files map to days
	// (parameter AuditLogDailyRotation): [DailyUTC] (the default),
	// [DailyLocal] or [DailyOff].
	Daily Daily `json:"AuditLogDailyRotation,omitzero"`
	// Sync is the durability policy (parameter AuditLogSync); the default
	// is [SyncWriteThrough].
	Sync SyncPolicy `json:"AuditLogSync,omitzero"`
	// SyncInterval is the period of [SyncInterval] (parameter
	// AuditLogSyncInterval). Zero means one second; otherwise from
	// [MinInterval] (1 ms) to [MaxInterval] (24 hours).
	SyncInterval time.Duration `json:"AuditLogSyncInterval,omitzero"`
	// Failure says what Log does when a record cannot be written (parameter
	// AuditLogFailure): [FailClosed] (the default) or [FailOpen].
	Failure FailurePolicy `json:"AuditLogFailure,omitzero"`
	// OnError, if set, is called with every write error and with every error
	// of background work (retention, compression, interval sync) that has no
	// caller to return to. It may be called from several goroutines at once,
	// must not block for long, and must not call the Logger.
	OnError func(error) `json:"-"`
	// Integrity makes the files tamper-evident: every record carries a MAC
	// chained to the previous record, each file starts with a [FileStart]
	// record chained to the previous file, and [Verify] checks them. It
	// needs the BCM or JSON format.
	Integrity bool `json:"AuditLogIntegrity,omitempty"`
	// IntegrityKeyFile is the key file of the chain (parameter
	// AuditLogKeyFile): HMAC-SHA256 with the key in it. The library replaces
	// the key in the file with the next one at each new audit file (forward
	// security), so the process must be able to write it, and the auditor
	// must keep a copy of the original (see [NewKey]). When empty, the chain
	// is plain SHA-256, which detects accidents but not a forger. It needs
	// Integrity: [New] refuses a key file without it.
	IntegrityKeyFile string `json:"AuditLogKeyFile,omitempty"`
	// CheckpointInterval, when positive and Integrity is on, writes a
	// [Checkpoint] record at that period, so that a verifier can tell how
	// recent the newest record must be (see the README on truncation;
	// parameter AuditLogCheckpointInterval). Zero turns checkpoints off;
	// otherwise from [MinInterval] (1 ms) to [MaxInterval] (24 hours).
	CheckpointInterval time.Duration `json:"AuditLogCheckpointInterval,omitzero"`
	// Output, if set, receives the records instead of files: no directory,
	// rotation or retention applies. Each batch of records is one Write; if
	// Output has a Sync() error method the sync policies call it. For tests,
	// benchmarks and containers that log to a stream.
	Output io.Writer `json:"-"`
	// Now is the clock. Nil means [time.Now].
	Now func() time.Time `json:"-"`
}

// Bounds of the duration and size fields of a [Config]. [New] refuses a
// value outside them with an error naming the field, and [ConfigFromParams]
// one naming the parameter, so that no value overflows (a retention of
// 600 years in nanoseconds does not fit in a time.Duration).
const (
	// MaxRetention is the longest Config.Retention: 100 years of 365.25
	// days. Zero keeps backups forever.
	MaxRetention = maxRetentionDays * 24 * time.Hour
	// MaxFileSize is the largest Config.MaxSize: 1 TiB.
	MaxFileSize = 1 << 40
	// MinFileSize is the smallest Config.MaxSize other than zero: 2 KiB.
	// A new file starts with the library's own records: FILE_START under
	// integrity protection, and FILE_REPLACED after the file was replaced
	// from outside; together they take up to about 850 bytes (JSON, a
	// 64-byte module name), which leaves at least 1.1 KiB for the record
	// that follows them. A record that does not fit in a new file after
	// them is refused with [ErrRecordTooLarge], whose error gives the
	// sizes. Files this small are for tests; the AuditLogMaxSize parameter
	// counts whole MiB, so a Config from parameters never goes below 1 MiB.
	MinFileSize = 2 << 10
	// MaxBackupCount is the largest Config.MaxBackups.
	MaxBackupCount = 1 << 20
	// MinInterval and MaxInterval bound Config.SyncInterval and
	// Config.CheckpointInterval when they are not zero.
	MinInterval = time.Millisecond
	MaxInterval = 24 * time.Hour

	maxRetentionDays = 36525
)

// checkBounds checks the duration and size fields of cfg against their
// bounds. Its errors wrap [ErrBadConfig] and name the field.
func (cfg *Config) checkBounds() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("audit: Config.%s %v: %w: want %s", field, v, ErrBadConfig, want)
	}
	if cfg.Retention < 0 || cfg.Retention > MaxRetention {
		return bad("Retention", cfg.Retention, "0 (keep forever) to MaxRetention (100 years, 876600h)")
	}
	if cfg.MaxSize < 0 || cfg.MaxSize > MaxFileSize || cfg.MaxSize > 0 && cfg.MaxSize < MinFileSize {
		return bad("MaxSize", cfg.MaxSize, "0 (100 MiB) or MinFileSize (2 KiB) to MaxFileSize (1 TiB) bytes")
	}
	if cfg.MaxBackups < 0 || cfg.MaxBackups > MaxBackupCount {
		return bad("MaxBackups", cfg.MaxBackups, "0 (no limit) to MaxBackupCount (1048576)")
	}
	if d := cfg.SyncInterval; d != 0 && (d < MinInterval || d > MaxInterval) {
		return bad("SyncInterval", d, "0 (one second) or 1ms to 24h")
	}
	if d := cfg.CheckpointInterval; d != 0 && (d < MinInterval || d > MaxInterval) {
		return bad("CheckpointInterval", d, "0 (off) or 1ms to 24h")
	}
	return nil
}

// Daily selects rotation of the audit file at midnight.
type Daily uint8

const (
	// DailyUTC rotates at the first record after midnight UTC.
	DailyUTC Daily = iota
	// DailyLocal rotates at the first record after local midnight.
	DailyLocal
	// DailyOff rotates by size only.
	DailyOff
)

var dailyNames = [...]string{"utc", "local", "off"}

// String returns "utc", "local" or "off".
func (d Daily) String() string { return enumString(dailyNames[:], uint8(d), "Daily") }

// MarshalText implements [encoding.TextMarshaler].
func (d Daily) MarshalText() ([]byte, error) {
	return enumMarshal(dailyNames[:], uint8(d), "daily rotation")
}

// UnmarshalText implements [encoding.TextUnmarshaler]; it accepts "utc",
// "local" and "off" without regard to case.
func (d *Daily) UnmarshalText(b []byte) error {
	return enumUnmarshal(dailyNames[:], (*uint8)(d), string(b), "daily rotation")
}

// SyncPolicy says when records reach stable storage.
type SyncPolicy uint8

const (
	// SyncWriteThrough (write-through) returns from Log after the record was
	// written to the operating system with write(2): a crash of the process
	// loses nothing acknowledged; a crash of the operating system may lose
	// what it had not yet flushed.
	SyncWriteThrough SyncPolicy = iota
	// SyncInterval is SyncWriteThrough plus fdatasync every [Config.SyncInterval],
	// at rotation and at Close.
	SyncInterval
	// SyncEveryEvent returns from Log only after the record is on stable storage
	// (fdatasync). Concurrent callers share one write and one sync per batch.
	SyncEveryEvent
)

var syncNames = [...]string{"write", "interval", "every"}

// String returns "write", "interval" or "every".
func (p SyncPolicy) String() string { return enumString(syncNames[:], uint8(p), "SyncPolicy") }

// MarshalText implements [encoding.TextMarshaler].
func (p SyncPolicy) MarshalText() ([]byte, error) {
	return enumMarshal(syncNames[:], uint8(p), "sync policy")
}

// UnmarshalText implements [encoding.TextUnmarshaler]; it accepts "write"
// (or "write-through"), "interval" and "every" (or "every-event") without
// regard to case.
func (p *SyncPolicy) UnmarshalText(b []byte) error {
	v, err := parseSyncPolicy(string(b))
	if err != nil {
		return fmt.Errorf("audit: sync policy %q: %w: %w", b, ErrBadConfig, err)
	}
	*p = v
	return nil
}

// parseSyncPolicy is SyncPolicy.UnmarshalText with an error that says only
// what is wrong.
func parseSyncPolicy(s string) (SyncPolicy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "write-through", "writethrough":
		return SyncWriteThrough, nil
	case "every-event", "everyevent":
		return SyncEveryEvent, nil
	}
	n, err := enumParse(syncNames[:], s)
	return SyncPolicy(n), err
}

// FailurePolicy says what [Logger.Log] does when a record cannot be written.
type FailurePolicy uint8

const (
	// FailClosed returns the error from Log, so that the caller can refuse
	// the audited action.
	FailClosed FailurePolicy = iota
	// FailOpen returns nil from Log; the record is counted as dropped in
	// [Stats] and the error goes to [Config.OnError].
	FailOpen
)

var failureNames = [...]string{"closed", "open"}

// String returns "closed" or "open".
func (p FailurePolicy) String() string { return enumString(failureNames[:], uint8(p), "FailurePolicy") }

// MarshalText implements [encoding.TextMarshaler].
func (p FailurePolicy) MarshalText() ([]byte, error) {
	return enumMarshal(failureNames[:], uint8(p), "failure policy")
}

// UnmarshalText implements [encoding.TextUnmarshaler]; it accepts "closed"
// and "open" without regard to case.
func (p *FailurePolicy) UnmarshalText(b []byte) error {
	return enumUnmarshal(failureNames[:], (*uint8)(p), string(b), "failure policy")
}

func enumString(names []string, v uint8, typ string) string {
	if int(v) < len(names) {
		return names[v]
	}
	return typ + "(" + strconv.Itoa(int(v)) + ")"
}

func enumMarshal(names []string, v uint8, what string) ([]byte, error) {
	if int(v) < len(names) {
		return []byte(names[v]), nil
	}
	return nil, fmt.Errorf("audit: %s %d: %w", what, v, ErrBadConfig)
}

func enumUnmarshal(names []string, v *uint8, s, what string) error {
	n, err := enumParse(names, s)
	if err != nil {
		return fmt.Errorf("audit: %s %q: %w: %w", what, s, ErrBadConfig, err)
	}
	*v = n
	return nil
}

// enumParse returns the index of s in names, without regard to case or
// surrounding spaces; its error says only what is wrong.
func enumParse(names []string, s string) (uint8, error) {
	for i, n := range names {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return uint8(i), nil
		}
	}
	return 0, fmt.Errorf("want one of %s", strings.Join(names, ", "))
}

// Parameter names accepted by [ConfigFromParams].
const (
	ParamEventMask     = "AuditEventMask"
	ParamFormatter     = "AuditLogFormatter"
	ParamAuditLogPath  = "AuditLogPath"
	ParamLogPath       = "LogPath"
	ParamRetentionDays = "RetentionDays"
	ParamMaxSize       = "AuditLogMaxSize"
	ParamMaxBackups    = "AuditLogMaxBackups"
	ParamCompress      = "AuditLogCompress"
	ParamDaily         = "AuditLogDailyRotation"
	ParamSync          = "AuditLogSync"
	ParamFailure       = "AuditLogFailure"
	ParamIntegrity     = "AuditLogIntegrity"
	ParamKeyFile       = "AuditLogKeyFile"
	// ParamSyncInterval and ParamCheckpointInterval are durations as Go
	// writes them ("1s", "500ms", "1m30s").
	ParamSyncInterval       = "AuditLogSyncInterval"
	ParamCheckpointInterval = "AuditLogCheckpointInterval"
)

// paramAliases maps other spellings operators use to the canonical names.
// Keys are folded with foldParam.
var paramAliases = map[string]string{
	"retention":             ParamRetentionDays,
	"logretention":          ParamRetentionDays,
	"logretentiondays":      ParamRetentionDays,
	"auditlogretention":     ParamRetentionDays,
	"auditlogretentiondays": ParamRetentionDays,
	"expire":                ParamRetentionDays,
}

// foldParam lower-cases a parameter name and removes spaces, so that the
// product's "Log Path" matches LogPath.
func foldParam(s string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
}

// ConfigFromParams builds a Config for module from parameters as operators
// write them. Names are matched without regard to case or spaces ("Log Path"
// is LogPath):
//
//	AuditEventMask         tokens joined by '+' (see ParseMask)
//	AuditLogFormatter      BCM, JSON, CEF, OCSF or a registered name
//	AuditLogPath           directory for audit files
//	LogPath                trace-log directory, used when AuditLogPath is empty
//	RetentionDays          days to keep rotated files ("30", "30d" or "30 days"),
//	                       at most 36525 (100 years); 0 keeps them forever
//	                       (also accepted as Retention, LogRetention,
//	                       LogRetentionDays, AuditLogRetention,
//	                       AuditLogRetentionDays and expire)
//	AuditLogMaxSize        rotation size in megabytes (MiB), at most 1048576 (1 TiB)
//	AuditLogMaxBackups     most rotated files kept, at most 1048576
//	AuditLogCompress       true or false
//	AuditLogDailyRotation  utc, local or off
//	AuditLogSync           write (write-through), interval or every (every-event)
//	AuditLogSyncInterval   period of the interval sync policy ("1s", "500ms"),
//	                       0 (one second) or 1ms to 24h
//	AuditLogFailure        closed or open
//	AuditLogIntegrity      true or false: tamper-evident files
//	AuditLogKeyFile        key file of the integrity chain
//	AuditLogCheckpointInterval  period of checkpoint records ("1m"), 0 (off)
//	                       or 1ms to 24h
//
// AuditLogMaxSize counts whole MiB, so a Config from parameters rotates at
// 1 MiB at the least; smaller sizes, down to [MinFileSize], can be set in
// [Config.MaxSize] only.
//
// The result does not depend on the order of the map. The same parameter
// given twice under different names (AuditLogPath and auditlogpath,
// RetentionDays and expire) must have the same value; otherwise it is an
// error naming both. An unknown name, a bad value or a value out of range is
// an error that wraps [ErrBadConfig] and names the parameter as given. The
// result is not checked further: [New] does that.
func ConfigFromParams(module string, params map[string]string) (Config, error) {
	cfg := Config{Module: module}
	if err := cfg.setParams(params); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// setParams sets the fields of cfg named by params, as ConfigFromParams
// describes. cfg's func fields must be nil (they defeat the comparison that
// finds a parameter set twice to different values).
func (cfg *Config) setParams(params map[string]string) error {
	names := slices.Sorted(maps.Keys(params))
	setBy := make(map[string]string, len(names)) // canonical key → name that set it
	for _, name := range names {
		key := paramKey(name)
		raw := params[name]
		before := *cfg
		known, err := cfg.setParam(key, strings.TrimSpace(raw))
		if !known {
			return fmt.Errorf("audit: parameter %q: %w: unknown parameter (known: %s)", name, ErrBadConfig, knownParams)
		}
		if err != nil {
			return fmt.Errorf("audit: parameter %s=%q: %w: %w", name, raw, ErrBadConfig, err)
		}
		if first, ok := setBy[key]; ok {
			if !reflect.DeepEqual(before, *cfg) {
				return fmt.Errorf("audit: parameters %s=%q and %s=%q: %w: both set %s, to different values",
					first, params[first], name, raw, ErrBadConfig, canonicalParam(key))
			}
			continue
		}
		setBy[key] = name
	}
	return nil
}

// paramKey returns the folded canonical name of the parameter name.
func paramKey(name string) string {
	key := foldParam(name)
	if canon, ok := paramAliases[key]; ok {
		key = foldParam(canon)
	}
	return key
}

// canonicalParam returns the canonical name of the folded parameter name key.
func canonicalParam(key string) string {
	for _, p := range strings.Split(knownParams, ", ") {
		if foldParam(p) == key {
			return p
		}
	}
	return key
}

// setParam sets the field of parameter key (folded and canonical) from its
// value v. known is false for an unknown parameter.
func (cfg *Config) setParam(key, v string) (known bool, err error) {
	switch key {
	case foldParam(ParamEventMask):
		cfg.EventMask, err = parseMask(v)
	case foldParam(ParamFormatter):
		_, err = lookupFormatter(v)
		cfg.Formatter = v
	case foldParam(ParamAuditLogPath):
		cfg.AuditLogPath = v
	case foldParam(ParamLogPath):
		cfg.LogPath = v
	case foldParam(ParamRetentionDays):
		var days int64
		days, err = parseNonNegative(trimDays(v), maxRetentionDays, "100 years")
		cfg.Retention = time.Duration(days) * 24 * time.Hour
	case foldParam(ParamMaxSize):
		var mb int64
		mb, err = parseNonNegative(v, MaxFileSize>>20, "1 TiB")
		cfg.MaxSize = mb << 20
	case foldParam(ParamMaxBackups):
		var n int64
		n, err = parseNonNegative(v, MaxBackupCount, "")
		cfg.MaxBackups = int(n)
	case foldParam(ParamCompress):
		cfg.Compress, err = parseBool(v)
	case foldParam(ParamDaily):
		var n uint8
		n, err = enumParse(dailyNames[:], v)
		cfg.Daily = Daily(n)
	case foldParam(ParamSync):
		cfg.Sync, err = parseSyncPolicy(v)
	case foldParam(ParamSyncInterval):
		cfg.SyncInterval, err = parseInterval(v, "one second")
	case foldParam(ParamFailure):
		var n uint8
		n, err = enumParse(failureNames[:], v)
		cfg.Failure = FailurePolicy(n)
	case foldParam(ParamIntegrity):
		cfg.Integrity, err = parseBool(v)
	case foldParam(ParamKeyFile):
		cfg.IntegrityKeyFile = v
	case foldParam(ParamCheckpointInterval):
		cfg.CheckpointInterval, err = parseInterval(v, "off")
	default:
		return false, nil
	}
	return true, err
}

const knownParams = ParamEventMask + ", " + ParamFormatter + ", " + ParamAuditLogPath + ", " + ParamLogPath +
	", " + ParamRetentionDays + ", " + ParamMaxSize + ", " + ParamMaxBackups + ", " + ParamCompress +
	", " + ParamDaily + ", " + ParamSync + ", " + ParamSyncInterval + ", " + ParamFailure + ", " + ParamIntegrity +
	", " + ParamKeyFile + ", " + ParamCheckpointInterval

// parseBool parses a boolean parameter as strconv.ParseBool does ("true",
// "false", "1", "0", "t", "f" in any case); its error says only what is
// wrong.
func parseBool(s string) (bool, error) {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, errors.New("want true or false")
	}
	return b, nil
}

// parseInterval parses the period of an interval parameter: 0, which
// means zero (what zero amounts to says in the error), or a duration from
// MinInterval to MaxInterval.
func parseInterval(s, zero string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d != 0 && (d < MinInterval || d > MaxInterval) {
		return 0, fmt.Errorf("want 0 (%s) or a duration from 1ms to 24h, such as 1s or 500ms", zero)
	}
	return d, nil
}

// trimDays removes a unit of days from a retention value: "30", "30d",
// "30 day" and "30 days" all mean 30 days.
func trimDays(s string) string {
	l := strings.ToLower(s)
	for _, unit := range []string{"days", "day", "d"} {
		if n, ok := strings.CutSuffix(l, unit); ok {
			return strings.TrimSpace(n)
		}
	}
	return s
}

// parseNonNegative parses a whole number from 0 to max; what, if not empty,
// says what max amounts to in the error.
func parseNonNegative(s string, max int64, what string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, errors.New("want a whole number") // strconv's error would repeat the value
	}
	if err != nil || n < 0 || n > max {
		if what != "" {
			return 0, fmt.Errorf("want a whole number from 0 to %d (%s)", max, what)
		}
		return 0, fmt.Errorf("want a whole number from 0 to %d", max)
	}
	return n, nil
}

// UnmarshalJSON implements [json.Unmarshaler]: it reads a JSON object of
// parameters, such as an operator's configuration file, with the names,
// units, bounds and errors of [ConfigFromParams]:
//
//	{"Module": "AgentServer", "AuditLogPath": "/var/log/audit",
//	 "AuditEventMask": "presence+failure+read", "RetentionDays": 30,
//	 "AuditLogMaxSize": 100, "AuditLogCompress": true, "AuditLogSync": "interval",
//	 "AuditLogSyncInterval": "500ms"}
//
// A value is a string, a number or a boolean, read as the parameter's
// text ("30" and 30 are the same); null leaves the field as it is. Module
// is read here too, since it is not a parameter of ConfigFromParams. As
// with any struct that encoding/json fills, a field the object does not
// name keeps its value, and Output, Now and OnError are never touched. On
// error cfg is unchanged. Errors wrap [ErrBadConfig] and name the
// parameter as the object spells it.
func (cfg *Config) UnmarshalJSON(b []byte) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("audit: configuration: %w: want a JSON object of parameters: %w", ErrBadConfig, err)
	}
	values := make(map[string]paramValue, len(obj))
	for _, name := range slices.Sorted(maps.Keys(obj)) { // the same error whatever the order
		raw := obj[name]
		v, err := paramText(raw)
		if err != nil {
			return fmt.Errorf("audit: parameter %q: %w: %w", name, ErrBadConfig, err)
		}
		values[name] = v
	}
	return cfg.setObject(values)
}

// UnmarshalYAML reads a YAML mapping of parameters as [Config.UnmarshalJSON]
// reads a JSON object, with the same names, values, errors and rules:
//
//	Module: AgentServer
//	AuditLogPath: /var/log/audit
//	AuditEventMask: presence+failure+read
//	RetentionDays: 30
//	AuditLogSyncInterval: 500ms
//
// It implements the interface that YAML packages call with a function that
// decodes the value (UnmarshalYAML(func(any) error) error): those of
// gopkg.in/yaml.v2 and v3, go.yaml.in/yaml and github.com/goccy/go-yaml.
// Packages that turn YAML into JSON first, such as sigs.k8s.io/yaml, call
// UnmarshalJSON.
func (cfg *Config) UnmarshalYAML(unmarshal func(any) error) error {
	var obj map[string]any
	if err := unmarshal(&obj); err != nil {
		return fmt.Errorf("audit: configuration: %w: want a YAML mapping of parameters: %w", ErrBadConfig, err)
	}
	values := make(map[string]paramValue, len(obj))
	for _, name := range slices.Sorted(maps.Keys(obj)) { // the same error whatever the order
		pv, err := yamlParam(obj[name])
		if err != nil {
			return fmt.Errorf("audit: parameter %q: %w: %w", name, ErrBadConfig, err)
		}
		values[name] = pv
	}
	return cfg.setObject(values)
}

// paramValue is the value of a parameter in a JSON object or a YAML
// mapping: its text, whether it was a string, and whether it was null.
type paramValue struct {
	text           string
	isString, null bool
}

// setObject sets the fields named by the parameters of a JSON object or a
// YAML mapping, as UnmarshalJSON describes: Module, which must be a
// string, and the parameters of ConfigFromParams. On error cfg is
// unchanged.
func (cfg *Config) setObject(values map[string]paramValue) error {
	var module *string
	params := make(map[string]string, len(values))
	for _, name := range slices.Sorted(maps.Keys(values)) {
		v := values[name]
		switch {
		case v.null:
		case foldParam(name) == "module":
			if !v.isString {
				return fmt.Errorf("audit: parameter %q: %w: want a string", name, ErrBadConfig)
			}
			if module != nil && *module != v.text {
				return fmt.Errorf("audit: parameter %q: %w: Module set twice, to different values", name, ErrBadConfig)
			}
			module = &v.text
		default:
			params[name] = v.text
		}
	}
	// Check every parameter on a fresh Config, as ConfigFromParams does,
	// then set the fields the object names.
	var check Config
	if err := check.setParams(params); err != nil {
		return err
	}
	for name, v := range params {
		cfg.setParam(paramKey(name), strings.TrimSpace(v))
	}
	if module != nil {
		cfg.Module = *module
	}
	return nil
}

// yamlParam returns the value of a parameter as a YAML package decodes it
// into an interface: a string, a boolean, an integer or a float, or nil.
func yamlParam(v any) (paramValue, error) {
	switch v := v.(type) {
	case nil:
		return paramValue{null: true}, nil
	case string:
		return paramValue{text: v, isString: true}, nil
	case bool:
		return paramValue{text: strconv.FormatBool(v)}, nil
	case int:
		return paramValue{text: strconv.Itoa(v)}, nil
	case int64:
		return paramValue{text: strconv.FormatInt(v, 10)}, nil
	case uint64:
		return paramValue{text: strconv.FormatUint(v, 10)}, nil
	case float64:
		return paramValue{text: strconv.FormatFloat(v, 'g', -1, 64)}, nil
	}
	return paramValue{}, errors.New("want a string, number or boolean")
}

// paramText returns the value of a parameter's JSON value: a string's
// contents, a number as written, "true" or "false", or null.
func paramText(raw json.RawMessage) (paramValue, error) {
	switch raw[0] {
	case 'n':
		return paramValue{null: true}, nil
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return paramValue{text: s, isString: true}, err
	case 't', 'f':
		return paramValue{text: string(raw)}, nil
	case '{', '[':
		return paramValue{}, errors.New("want a string, number or boolean")
	}
	return paramValue{text: string(raw)}, nil // a number, as written
}

// configJSON is the JSON and YAML form of a Config, in the order of the
// parameter list of ConfigFromParams.
type configJSON struct {
	Module             string        `json:"Module,omitempty" yaml:"Module,omitempty"`
	EventMask          Mask          `json:"AuditEventMask,omitzero" yaml:"AuditEventMask,omitempty"`
	Formatter          string        `json:"AuditLogFormatter,omitempty" yaml:"AuditLogFormatter,omitempty"`
	AuditLogPath       string        `json:"AuditLogPath,omitempty" yaml:"AuditLogPath,omitempty"`
	LogPath            string        `json:"LogPath,omitempty" yaml:"LogPath,omitempty"`
	RetentionDays      int64         `json:"RetentionDays,omitempty" yaml:"RetentionDays,omitempty"`
	MaxSizeMiB         int64         `json:"AuditLogMaxSize,omitempty" yaml:"AuditLogMaxSize,omitempty"`
	MaxBackups         int           `json:"AuditLogMaxBackups,omitempty" yaml:"AuditLogMaxBackups,omitempty"`
	Compress           bool          `json:"AuditLogCompress,omitempty" yaml:"AuditLogCompress,omitempty"`
	Daily              Daily         `json:"AuditLogDailyRotation,omitzero" yaml:"AuditLogDailyRotation,omitempty"`
	Sync               SyncPolicy    `json:"AuditLogSync,omitzero" yaml:"AuditLogSync,omitempty"`
	SyncInterval       string        `json:"AuditLogSyncInterval,omitempty" yaml:"AuditLogSyncInterval,omitempty"`
	Failure            FailurePolicy `json:"AuditLogFailure,omitzero" yaml:"AuditLogFailure,omitempty"`
	Integrity          bool          `json:"AuditLogIntegrity,omitempty" yaml:"AuditLogIntegrity,omitempty"`
	IntegrityKeyFile   string        `json:"AuditLogKeyFile,omitempty" yaml:"AuditLogKeyFile,omitempty"`
	CheckpointInterval string        `json:"AuditLogCheckpointInterval,omitempty" yaml:"AuditLogCheckpointInterval,omitempty"`
}

// MarshalJSON implements [json.Marshaler]: it writes cfg as the object of
// parameters that [Config.UnmarshalJSON] reads back to the same Config
// (Output, Now and OnError aside), leaving out the fields that are zero.
// Retention is written in days and MaxSize in MiB, as the parameters count
// them; a Retention that is not a whole number of days, a MaxSize that is
// not a whole number of MiB, or a field out of its bounds or unknown, has
// no parameter and is an error wrapping [ErrBadConfig] that names the field.
func (cfg Config) MarshalJSON() ([]byte, error) {
	j, err := cfg.params()
	if err != nil {
		return nil, err
	}
	return json.Marshal(j)
}

// MarshalYAML writes cfg as the mapping of parameters that
// [Config.UnmarshalYAML] reads back, as [Config.MarshalJSON] writes JSON,
// with the same errors. It implements the Marshaler interface of the YAML
// packages that UnmarshalYAML names.
func (cfg Config) MarshalYAML() (any, error) {
	j, err := cfg.params()
	if err != nil {
		return nil, err
	}
	return j, nil
}

// params returns cfg as parameters, for MarshalJSON and MarshalYAML.
func (cfg Config) params() (configJSON, error) {
	if err := cfg.checkBounds(); err != nil {
		return configJSON{}, err
	}
	day := 24 * time.Hour
	switch {
	case cfg.Retention%day != 0:
		return configJSON{}, fmt.Errorf("audit: Config.Retention %v: %w: parameter %s counts whole days", cfg.Retention, ErrBadConfig, ParamRetentionDays)
	case cfg.MaxSize%(1<<20) != 0:
		return configJSON{}, fmt.Errorf("audit: Config.MaxSize %d: %w: parameter %s counts whole MiB (1048576 bytes)", cfg.MaxSize, ErrBadConfig, ParamMaxSize)
	case cfg.EventMask&^AllEvents != 0:
		return configJSON{}, fmt.Errorf("audit: Config.EventMask %#x: %w: unknown bits", uint8(cfg.EventMask), ErrBadConfig)
	case cfg.Daily > DailyOff || cfg.Sync > SyncEveryEvent || cfg.Failure > FailOpen:
		return configJSON{}, fmt.Errorf("audit: Config.Daily %v, Sync %v, Failure %v: %w", cfg.Daily, cfg.Sync, cfg.Failure, ErrBadConfig)
	}
	j := configJSON{
		Module:           cfg.Module,
		EventMask:        cfg.EventMask,
		Formatter:        cfg.Formatter,
		AuditLogPath:     cfg.AuditLogPath,
		LogPath:          cfg.LogPath,
		RetentionDays:    int64(cfg.Retention / day),
		MaxSizeMiB:       cfg.MaxSize >> 20,
		MaxBackups:       cfg.MaxBackups,
		Compress:         cfg.Compress,
		Daily:            cfg.Daily,
		Sync:             cfg.Sync,
		Failure:          cfg.Failure,
		Integrity:        cfg.Integrity,
		IntegrityKeyFile: cfg.IntegrityKeyFile,
	}
	if cfg.SyncInterval != 0 {
		j.SyncInterval = cfg.SyncInterval.String()
	}
	if cfg.CheckpointInterval != 0 {
		j.CheckpointInterval = cfg.CheckpointInterval.String()
	}
	return j, nil
}

var (
	_ json.Marshaler   = Config{}
	_ json.Unmarshaler = (*Config)(nil)
	_ interface {
		UnmarshalYAML(func(any) error) error
	} = (*Config)(nil)
	_ interface{ MarshalYAML() (any, error) } = Config{}
)
