package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// operatorFile is a configuration file of parameters as an operator writes
// it: numbers and booleans as JSON values or as strings, names in any case.
const operatorFile = `{
	"Module": "AgentServer",
	"AuditEventMask": "presence+failure+read",
	"AuditLogFormatter": "json",
	"AuditLogPath": "/var/log/audit",
	"Log Path": "/var/log/trace",
	"RetentionDays": 30,
	"AuditLogMaxSize": "100",
	"auditlogmaxbackups": 7,
	"AuditLogCompress": true,
	"AuditLogDailyRotation": "local",
	"AuditLogSync": "interval",
	"AuditLogSyncInterval": "500ms",
	"AuditLogFailure": "open",
	"AuditLogIntegrity": "true",
	"AuditLogKeyFile": "/etc/audit/agent.key",
	"AuditLogCheckpointInterval": "1m"
}`

func TestConfigUnmarshalJSON(t *testing.T) {
	var cfg Config
	require.NoError(t, json.Unmarshal([]byte(operatorFile), &cfg))
	want := Config{
		Module:             "AgentServer",
		EventMask:          PresenceEvents | FailureEvents | ReadEvents,
		Formatter:          "json",
		AuditLogPath:       "/var/log/audit",
		LogPath:            "/var/log/trace",
		Retention:          30 * 24 * time.Hour,
		MaxSize:            100 << 20,
		MaxBackups:         7,
		Compress:           true,
		Daily:              DailyLocal,
		Sync:               SyncInterval,
		SyncInterval:       500 * time.Millisecond,
		Failure:            FailOpen,
		Integrity:          true,
		IntegrityKeyFile:   "/etc/audit/agent.key",
		CheckpointInterval: time.Minute,
	}
	require.Equal(t, want, cfg)

	// The same parameters as strings give the same Config as ConfigFromParams.
	var obj map[string]any
	require.NoError(t, json.Unmarshal([]byte(operatorFile), &obj))
	params := map[string]string{}
	for k, v := range obj {
		if k != "Module" {
			params[k] = strings.TrimSuffix(strings.TrimPrefix(mustJSON(t, v), `"`), `"`)
		}
	}
	fromParams, err := ConfigFromParams("AgentServer", params)
	require.NoError(t, err)
	require.Equal(t, want, fromParams)

	// Fields the object does not name keep their value; null leaves one as
	// it is; Output, Now and OnError are never touched.
	var out bytes.Buffer
	now := func() time.Time { return day1 }
	onError := func(error) {}
	cfg = Config{Module: "CEMServer", Output: &out, Now: now, OnError: onError, MaxBackups: 3, Compress: true}
	require.NoError(t, json.Unmarshal([]byte(`{"RetentionDays": "7d", "AuditLogCompress": null, "AuditLogSync": "every"}`), &cfg))
	require.Equal(t, "CEMServer", cfg.Module)
	require.Equal(t, 7*24*time.Hour, cfg.Retention)
	require.Equal(t, 3, cfg.MaxBackups)
	require.True(t, cfg.Compress)
	require.Equal(t, SyncEveryEvent, cfg.Sync)
	require.Same(t, &out, cfg.Output)
	require.NotNil(t, cfg.Now)
	require.NotNil(t, cfg.OnError)

	// null and {} change nothing.
	before := Config{Module: "X", MaxSize: 5 << 20}
	cfg = before
	require.NoError(t, json.Unmarshal([]byte(`null`), &cfg))
	require.NoError(t, json.Unmarshal([]byte(`{}`), &cfg))
	require.Equal(t, before, cfg)

	// Inside another document, as a configuration file holds it.
	var doc struct {
		Audit Config `json:"audit"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"audit": {"Module": "BatchJobServer", "LogPath": "/tmp/x"}}`), &doc))
	require.Equal(t, Config{Module: "BatchJobServer", LogPath: "/tmp/x"}, doc.Audit)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestConfigUnmarshalJSONErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"not an object", `[1]`, "want a JSON object of parameters"},
		{"unknown parameter", `{"AuditLevel": 3}`, `parameter "AuditLevel": invalid configuration: unknown parameter`},
		{"bad mask", `{"AuditEventMask": "presence+nope"}`, `parameter AuditEventMask="presence+nope": invalid configuration: invalid event mask: unknown token "nope"`},
		{"retention out of range", `{"RetentionDays": 36526}`, "parameter RetentionDays=\"36526\": invalid configuration: want a whole number from 0 to 36525 (100 years)"},
		{"retention fraction", `{"RetentionDays": 1.5}`, "want a whole number"},
		{"max size out of range", `{"AuditLogMaxSize": 1048577}`, "from 0 to 1048576 (1 TiB)"},
		{"negative max size", `{"AuditLogMaxSize": -1}`, "from 0 to 1048576"},
		{"interval out of range", `{"AuditLogSyncInterval": "25h"}`, "0 (one second) or a duration from 1ms to 24h"},
		{"interval as a number", `{"AuditLogCheckpointInterval": 60}`, "such as 1s"},
		{"object value", `{"AuditLogPath": {"dir": "/x"}}`, `parameter "AuditLogPath": invalid configuration: want a string, number or boolean`},
		{"module not a string", `{"Module": 7}`, "want a string"},
		{"two names, two values", `{"RetentionDays": 30, "expire": "31"}`, "both set RetentionDays, to different values"},
		{"bad bool", `{"AuditLogCompress": "maybe"}`, "want true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Module: "Kept", MaxBackups: 2}
			err := json.Unmarshal([]byte(tt.in), &cfg)
			require.ErrorIs(t, err, ErrBadConfig)
			require.ErrorContains(t, err, tt.want)
			requireOnePrefix(t, err)
			require.Equal(t, Config{Module: "Kept", MaxBackups: 2}, cfg, "unchanged on error")
		})
	}
	// Bad JSON is refused by encoding/json before UnmarshalJSON.
	cfg := Config{Module: "Kept"}
	var syntax *json.SyntaxError
	require.ErrorAs(t, json.Unmarshal([]byte(`{"RetentionDays": }`), &cfg), &syntax)
	require.Equal(t, Config{Module: "Kept"}, cfg)
	// Called directly, UnmarshalJSON refuses it as a bad configuration.
	require.ErrorIs(t, cfg.UnmarshalJSON([]byte(`{"RetentionDays": }`)), ErrBadConfig)

	// The same text as ConfigFromParams for the same parameter.
	err := json.Unmarshal([]byte(`{"AuditLogSync": "sometimes"}`), &cfg)
	_, perr := ConfigFromParams("", map[string]string{"AuditLogSync": "sometimes"})
	require.EqualError(t, err, perr.Error())
}

func TestConfigJSONRoundTrip(t *testing.T) {
	var full Config
	require.NoError(t, json.Unmarshal([]byte(operatorFile), &full))
	for _, cfg := range []Config{
		{},
		{Module: "A"},
		full,
		{Module: "B", Retention: MaxRetention, MaxSize: MaxFileSize, MaxBackups: MaxBackupCount,
			SyncInterval: MaxInterval, CheckpointInterval: MinInterval, Daily: DailyOff, Sync: SyncEveryEvent,
			EventMask: AllEvents},
		{Module: "C", SyncInterval: 1500 * time.Millisecond, CheckpointInterval: time.Hour + time.Nanosecond*1e6},
	} {
		b, err := json.Marshal(cfg)
		require.NoError(t, err, "%+v", cfg)
		var back Config
		require.NoError(t, json.Unmarshal(b, &back), "%s", b)
		require.Equal(t, cfg, back, "%s", b)
		// A pointer marshals the same.
		pb, err := json.Marshal(&cfg)
		require.NoError(t, err)
		require.Equal(t, string(b), string(pb))
	}
	b, err := json.Marshal(Config{})
	require.NoError(t, err)
	require.Equal(t, `{}`, string(b), "zero fields are left out")
	b, err = json.Marshal(full)
	require.NoError(t, err)
	require.Equal(t, `{"Module":"AgentServer","AuditEventMask":"presence+failure+read","AuditLogFormatter":"json",`+
		`"AuditLogPath":"/var/log/audit","LogPath":"/var/log/trace","RetentionDays":30,"AuditLogMaxSize":100,`+
		`"AuditLogMaxBackups":7,"AuditLogCompress":true,"AuditLogDailyRotation":"local","AuditLogSync":"interval",`+
		`"AuditLogSyncInterval":"500ms","AuditLogFailure":"open","AuditLogIntegrity":true,`+
		`"AuditLogKeyFile":"/etc/audit/agent.key","AuditLogCheckpointInterval":"1m0s"}`, string(b))
}

func TestConfigMarshalJSONErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"retention in hours", Config{Retention: 36 * time.Hour}, "Config.Retention 36h0m0s: invalid configuration: parameter RetentionDays counts whole days"},
		{"max size in bytes", Config{MaxSize: 64 << 10}, "Config.MaxSize 65536: invalid configuration: parameter AuditLogMaxSize counts whole MiB"},
		{"retention out of range", Config{Retention: -1}, "Config.Retention"},
		{"interval out of range", Config{SyncInterval: time.Microsecond}, "Config.SyncInterval"},
		{"unknown mask bits", Config{EventMask: 0x80}, "Config.EventMask 0x80"},
		{"unknown policy", Config{Sync: 9}, "Sync SyncPolicy(9)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.MarshalJSON()
			require.ErrorIs(t, err, ErrBadConfig)
			require.ErrorContains(t, err, tt.want)
			requireOnePrefix(t, err)
			_, err = json.Marshal(tt.cfg)
			require.ErrorIs(t, err, ErrBadConfig, "through encoding/json too")
		})
	}
}

// FuzzConfigJSON checks that a JSON object of two parameters gives the
// Config, or the error, that ConfigFromParams gives for them, and that an
// accepted Config makes the JSON round trip.
func FuzzConfigJSON(f *testing.F) {
	f.Add("RetentionDays", "213504", "expire", "30")
	f.Add("AuditLogMaxSize", "1048576", "AuditLogMaxBackups", "5")
	f.Add("AuditLogPath", "/a", "auditlogpath", "/b")
	f.Add("Log Path", "/t", "AuditEventMask", "presence+read")
	f.Add("AuditLogSyncInterval", "1s", "AuditLogCheckpointInterval", "24h1s")
	f.Add("AuditLogCompress", "T", "AuditLogDailyRotation", " OFF ")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		for _, s := range []string{n1, v1, n2, v2} {
			if !utf8.ValidString(s) {
				return // JSON cannot carry it as it is
			}
		}
		if foldParam(n1) == "module" || foldParam(n2) == "module" {
			return // a JSON field, not a parameter
		}
		params := map[string]string{n1: v1, n2: v2}
		want, wantErr := ConfigFromParams("", params)
		b, err := json.Marshal(params)
		require.NoError(t, err)
		var got Config
		err = json.Unmarshal(b, &got)
		if wantErr != nil {
			require.EqualError(t, err, wantErr.Error())
			require.Equal(t, Config{}, got)
			return
		}
		require.NoError(t, err)
		require.Equal(t, want, got)
		back, err := json.Marshal(got)
		require.NoError(t, err)
		var again Config
		require.NoError(t, json.Unmarshal(back, &again), "%s", back)
		require.Equal(t, got, again, "%s", back)
	})
}
