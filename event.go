package audit

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// EventType names a kind of security-relevant activity. Each type is bound by
// the library to one [Mask] category, so a caller cannot file an event under
// the wrong category. The zero EventType is invalid.
type EventType uint8

// The event types of the product. The comment of each names its category.
const (
	_ EventType = iota
	// Logon is a logon attempt (presence). Requires Actor.
	Logon
	// Logoff is a logoff (presence). Requires Actor.
	Logoff
	// SessionStart is the start of a user session (presence). Requires Actor.
	SessionStart
	// ChannelOpen is a communication channel opened (presence). Requires Client.
	ChannelOpen
	// ChannelClose is a communication channel closed (presence). Requires Client.
	ChannelClose
	// ChannelReject is a communication channel rejected (presence). Its outcome
	// is always [Failed]. Requires Client.
	ChannelReject
	// ServerStart is a server process start (system).
	ServerStart
	// ServerStop is a server process stop (system).
	ServerStop
	// UserChange is a change to user information (modify). Requires Actor and
	// Subject.
	UserChange
	// AccessChange is a change to a user's access rights (modify). Requires
	// Actor and Subject.
	AccessChange
	// NoConsentOverride is an agent overriding a customer's no-consent when
	// recording a call (modify). Requires Actor (the agent) and Object (the
	// call or recording); Subject names the customer.
	NoConsentOverride
	// DataRead is an access to protected user data (read). Requires Actor and
	// Subject.
	DataRead
	// SystemConfigChange is a change to the system configuration (config).
	// Requires Object (the setting).
	SystemConfigChange
	// AuditConfigChange is a change to the audit configuration (config). It is
	// written whatever the mask, so that switching auditing down leaves a
	// trace. Requires Object (the setting).
	AuditConfigChange

	// FileStart is the first record of every audit file, written by the
	// library (system, always written). Callers cannot log it.
	FileStart
	// TornRecord is written by the library when it finds an incomplete final
	// line in an audit file it reopens, and quarantines those bytes (system,
	// always written). Callers cannot log it.
	TornRecord
	// RetentionPrune is written by the library when retention removes files
	// while integrity protection is on, naming the files and the chain value
	// at the cut (system, always written). Callers cannot log it.
	RetentionPrune
	// Checkpoint is written by the library at [Config.CheckpointInterval]
	// when integrity protection is on (system, always written). Callers
	// cannot log it.
	Checkpoint
	// FileReplaced is written by the library as the first record of a new
	// file when it found that the active file had been removed or replaced
	// from outside (system, always written). Callers cannot log it.
	FileReplaced

	numEventTypes
)

// firstLibraryType is the first type that only the library writes.
const firstLibraryType = FileStart

var eventTypeInfo = [numEventTypes]struct {
	name     string
	category Mask
	requires []string // Event field names, as in the JSON keys
}{
	Logon:              {"LOGON", PresenceEvents, []string{"actor"}},
	Logoff:             {"LOGOFF", PresenceEvents, []string{"actor"}},
	SessionStart:       {"SESSION_START", PresenceEvents, []string{"actor"}},
	ChannelOpen:        {"CHANNEL_OPEN", PresenceEvents, []string{"client"}},
	ChannelClose:       {"CHANNEL_CLOSE", PresenceEvents, []string{"client"}},
	ChannelReject:      {"CHANNEL_REJECT", PresenceEvents, []string{"client"}},
	ServerStart:        {"SERVER_START", SystemEvents, nil},
	ServerStop:         {"SERVER_STOP", SystemEvents, nil},
	UserChange:         {"USER_CHANGE", ModifyEvents, []string{"actor", "subject"}},
	AccessChange:       {"ACCESS_CHANGE", ModifyEvents, []string{"actor", "subject"}},
	NoConsentOverride:  {"NO_CONSENT_OVERRIDE", ModifyEvents, []string{"actor", "object"}},
	DataRead:           {"DATA_READ", ReadEvents, []string{"actor", "subject"}},
	SystemConfigChange: {"SYSTEM_CONFIG_CHANGE", ConfigEvents, []string{"object"}},
	AuditConfigChange:  {"AUDIT_CONFIG_CHANGE", ConfigEvents, []string{"object"}},
	FileStart:          {"FILE_START", SystemEvents, nil},
	TornRecord:         {"TORN_RECORD", SystemEvents, nil},
	RetentionPrune:     {"RETENTION_PRUNE", SystemEvents, nil},
	Checkpoint:         {"CHECKPOINT", SystemEvents, nil},
	FileReplaced:       {"FILE_REPLACED", SystemEvents, nil},
}

// String returns the stable upper-case name of t, such as "LOGON" or
// "NO_CONSENT_OVERRIDE", as written in every format. An invalid type gives
// "EventType(N)".
func (t EventType) String() string {
	if t.Valid() {
		return eventTypeInfo[t].name
	}
	return fmt.Sprintf("EventType(%d)", uint8(t))
}

// Valid reports whether t is one of the declared event types.
func (t EventType) Valid() bool { return t > 0 && t < numEventTypes }

// Category returns the [Mask] category t belongs to, or 0 for an invalid type.
func (t EventType) Category() Mask {
	if !t.Valid() {
		return 0
	}
	return eventTypeInfo[t].category
}

// MarshalText implements [encoding.TextMarshaler] with [EventType.String].
func (t EventType) MarshalText() ([]byte, error) {
	if !t.Valid() {
		return nil, fmt.Errorf("audit: %w: %d", ErrUnknownEventType, uint8(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseEventType].
func (t *EventType) UnmarshalText(text []byte) error {
	v, err := ParseEventType(string(text))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// ErrUnknownEventType is wrapped by errors about an event type that does not
// exist.
var ErrUnknownEventType = errors.New("unknown event type")

// ParseEventType returns the type whose [EventType.String] is s, without
// regard to case.
func ParseEventType(s string) (EventType, error) {
	for t := EventType(1); t < numEventTypes; t++ {
		if strings.EqualFold(s, eventTypeInfo[t].name) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("audit: event type %q: %w", s, ErrUnknownEventType)
}

// EventTypes returns every event type callers can log, in declaration order.
func EventTypes() []EventType {
	ts := make([]EventType, 0, firstLibraryType-1)
	for t := EventType(1); t < firstLibraryType; t++ {
		ts = append(ts, t)
	}
	return ts
}

// Outcome says whether the audited action succeeded. The zero Outcome is
// unset: [Logger.Log] refuses an event without an outcome (except a
// [ChannelReject], which is always [Failed]), so that a caller who forgets
// it does not record a success.
type Outcome uint8

const (
	// Succeeded is a successful action, written "SUCCESS".
	Succeeded Outcome = iota + 1
	// Failed is an unsuccessful or refused action, written "FAILURE".
	Failed
)

// Valid reports whether o is [Succeeded] or [Failed].
func (o Outcome) Valid() bool { return o == Succeeded || o == Failed }

// String returns "SUCCESS" or "FAILURE" ("Outcome(N)" for other values,
// such as the unset "Outcome(0)").
func (o Outcome) String() string {
	switch o {
	case Succeeded:
		return "SUCCESS"
	case Failed:
		return "FAILURE"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// AppendText implements [encoding.TextAppender]: it appends "SUCCESS" or
// "FAILURE", and refuses any other value, the unset Outcome included, with
// an error wrapping [ErrUnknownOutcome].
func (o Outcome) AppendText(b []byte) ([]byte, error) {
	if !o.Valid() {
		return b, fmt.Errorf("audit: outcome %d: %w (want Succeeded or Failed)", uint8(o), ErrUnknownOutcome)
	}
	return appendOutcome(b, o), nil
}

// MarshalText implements [encoding.TextMarshaler] with [Outcome.AppendText].
func (o Outcome) MarshalText() ([]byte, error) { return o.AppendText(nil) }

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseOutcome].
func (o *Outcome) UnmarshalText(text []byte) error {
	v, err := ParseOutcome(string(text))
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// outcomeNames are the words that ParseOutcome accepts, without regard to
// case, for each outcome.
var outcomeNames = [...]struct {
	o     Outcome
	words [4]string
}{
	{Succeeded, [4]string{"success", "succeeded", "successful", "ok"}},
	{Failed, [4]string{"failure", "failed", "fail", "unsuccessful"}},
}

// ParseOutcome parses an outcome without regard to case: "success",
// "succeeded", "successful" or "ok" is [Succeeded]; "failure", "failed",
// "fail" or "unsuccessful" is [Failed]. So ParseOutcome(o.String()) == o for both outcomes. Any other
// string, the empty one included, is an error wrapping [ErrUnknownOutcome].
func ParseOutcome(s string) (Outcome, error) {
	for _, n := range outcomeNames {
		for _, w := range n.words {
			if strings.EqualFold(s, w) {
				return n.o, nil
			}
		}
	}
	return 0, fmt.Errorf("audit: outcome %q: %w (want success, succeeded, successful, ok, failure, failed, fail or unsuccessful)", s, ErrUnknownOutcome)
}

// ErrUnknownOutcome is wrapped by errors about an outcome that does not
// exist.
var ErrUnknownOutcome = errors.New("unknown outcome")

// Field is an extra named value of an [Event], added with [Event.AddField].
type Field struct {
	Key   string
	Value string
}

// inlineFields is how many extra fields an Event holds without allocating.
const inlineFields = 4

// Event is one audited activity. Only Type is always required; see each
// [EventType] for the fields it needs. Event is a value: [Logger.Log] copies
// it and keeps nothing that belongs to the caller.
type Event struct {
	// Time is when the activity happened. The zero Time means the logger's
	// clock at the moment of [Logger.Log]. Records carry it in UTC at
	// microsecond precision.
	Time time.Time
	// Type is the kind of activity.
	Type EventType
	// Outcome says whether it succeeded: [Succeeded] or [Failed]. It is
	// required; the library sets it to Failed for a [ChannelReject].
	Outcome Outcome
	// Actor is who acted: a user, agent or process name.
	Actor string
	// Subject is whose account or data was acted on.
	Subject string
	// Object is what was acted on: a setting, channel, recording, attribute.
	Object string
	// OldValue and NewValue are a changed value before and after.
	OldValue string
	NewValue string
	// Client is the remote address or client application.
	Client string
	// Session identifies the user or communication session.
	Session string
	// Reason explains a failure or a change.
	Reason string

	front  [inlineFields]Field // the first extra fields, stored without allocating
	nFront int
	back   []Field // extra fields past inlineFields
}

// AddField appends an extra named field. The first four extra fields are
// stored inside the Event without allocating. Keys must be non-empty, made of
// ASCII letters, digits, '_', '-' and '.', and must not repeat a standard key
// (time, seq, module, type, outcome, actor, subject, object, old, new, client,
// session, reason, mac); [Logger.Log] rejects an event that breaks this.
func (e *Event) AddField(key, value string) {
	if e.nFront < inlineFields {
		e.front[e.nFront] = Field{key, value}
		e.nFront++
		return
	}
	e.back = append(e.back, Field{key, value})
}

// NumFields returns the number of extra fields.
func (e *Event) NumFields() int { return e.nFront + len(e.back) }

// Field returns the i'th extra field, in the order they were added. It panics
// if i is out of range, like a slice index.
func (e *Event) Field(i int) Field {
	if i < e.nFront {
		return e.front[i]
	}
	return e.back[i-inlineFields]
}

// ErrInvalidEvent is wrapped by every error about an event that cannot be
// logged as given: an unknown type or a missing or malformed field.
var ErrInvalidEvent = errors.New("invalid event")

// reservedKeys are the standard keys that an extra field may not use.
var reservedKeys = [...]string{"time", "seq", "module", "type", "outcome", "actor", "subject",
	"object", "old", "new", "client", "session", "reason", "mac"}

// Validate reports whether e can be logged by a caller: a known type that is
// not reserved for the library, an outcome (which only a [ChannelReject] may
// leave unset), the fields that type requires, and well-formed extra field
// keys. The error wraps [ErrInvalidEvent] and names the field.
func (e *Event) Validate() error {
	if !e.Type.Valid() {
		return fmt.Errorf("audit: event type %d: %w: %w", uint8(e.Type), ErrInvalidEvent, ErrUnknownEventType)
	}
	if e.Type >= firstLibraryType {
		return fmt.Errorf("audit: %s event: %w: type is written only by the library", e.Type, ErrInvalidEvent)
	}
	if err := checkOutcome(e); err != nil {
		return err
	}
	for _, name := range eventTypeInfo[e.Type].requires {
		if e.value(name) == "" {
			return fmt.Errorf("audit: %s event: %w: field %s is required (Event.%s is empty)", e.Type, ErrInvalidEvent, name, strings.ToUpper(name[:1])+name[1:])
		}
	}
	if u := e.Time.Unix(); (u < minTime || u > maxTime) && !e.Time.IsZero() {
		return fmt.Errorf("audit: %s event: %w: field time has year %d (want 0000 to 9999)", e.Type, ErrInvalidEvent, e.Time.UTC().Year())
	}
	var keys fieldKeys
	for i := range e.NumFields() {
		key := e.Field(i).Key
		if err := checkFieldKey(key); err != nil {
			return fmt.Errorf("audit: %s event: %w: extra field %d: %w", e.Type, ErrInvalidEvent, i, err)
		}
		if keys.repeated(e, i) {
			return fmt.Errorf("audit: %s event: %w: extra field %q is repeated", e.Type, ErrInvalidEvent, key)
		}
	}
	return nil
}

// fieldKeys finds a repeated extra field key in time linear in the number
// of fields: it compares a key with those before it while they are few,
// and looks it up in a set of them once they are many, so that neither
// Validate nor a parser given a line of a hundred thousand fields takes
// quadratic time. The zero fieldKeys is ready to use.
type fieldKeys struct {
	set map[string]struct{}
}

// keySetFrom is the number of extra fields from which fieldKeys keeps a
// set of their keys.
const keySetFrom = 32

// repeated reports whether the key of e's extra field i is that of a field
// before it. It must be called for i = 0, 1, 2... in turn, and the fields
// before i must not repeat a key.
func (k *fieldKeys) repeated(e *Event, i int) bool {
	key := e.Field(i).Key
	if i < keySetFrom {
		for j := range i {
			if e.Field(j).Key == key {
				return true
			}
		}
		return false
	}
	if k.set == nil {
		k.set = make(map[string]struct{}, 2*keySetFrom)
		for j := range i {
			k.set[e.Field(j).Key] = struct{}{}
		}
	}
	if _, ok := k.set[key]; ok {
		return true
	}
	k.set[key] = struct{}{}
	return false
}

// checkOutcome reports whether e has an outcome. The unset Outcome is
// accepted only for a [ChannelReject], whose outcome the library sets.
func checkOutcome(e *Event) error {
	switch {
	case e.Outcome == 0 && e.Type != ChannelReject:
		return fmt.Errorf("audit: %s event: %w: field outcome is required (Event.Outcome is unset; want Succeeded or Failed)", e.Type, ErrInvalidEvent)
	case e.Outcome > Failed:
		return fmt.Errorf("audit: %s event: %w: field outcome has unknown value %d", e.Type, ErrInvalidEvent, uint8(e.Outcome))
	}
	return nil
}

// Bits of callerTypes: the standard fields an event type requires, and
// whether callers may log it at all.
const (
	needActor uint8 = 1 << iota
	needSubject
	needObject
	needClient
	notCallerType // invalid, or written only by the library
)

// callerTypes holds, for every value of an EventType, the needX bits of the
// fields in its eventTypeInfo requires, or notCallerType, so that
// [Event.valid] tests a type with one load and no bounds check.
var callerTypes = func() (r [256]uint8) {
	bits := map[string]uint8{"actor": needActor, "subject": needSubject, "object": needObject, "client": needClient}
	for t := range r {
		if t == 0 || t >= int(firstLibraryType) {
			r[t] = notCallerType
			continue
		}
		for _, name := range eventTypeInfo[t].requires {
			r[t] |= bits[name]
		}
	}
	return r
}()

// valid is a fast form of Validate for the common event: it reports true
// only for an event that Validate accepts, and false for every event that
// Validate refuses, for one with extra fields (whose keys it does not
// check), and for a ChannelReject without outcome (which the library sets). Log calls it for every event, filtered out or not, so it is small
// enough to be inlined and costs a few comparisons.
func (e *Event) valid() bool {
	r := callerTypes[e.Type]
	return r&notCallerType == 0 && e.Outcome-1 <= Failed-1 && e.nFront == 0 &&
		(r&needActor == 0 || e.Actor != "") && (r&needSubject == 0 || e.Subject != "") &&
		(r&needObject == 0 || e.Object != "") && (r&needClient == 0 || e.Client != "") &&
		(e.Time.IsZero() || timeInRange(e.Time))
}

// timeInRange reports whether a record can carry t (see minTime).
func timeInRange(t time.Time) bool {
	u := t.Unix()
	return u >= minTime && u <= maxTime
}

// The first and last seconds (Unix time) that a record can carry: years
// 0000 to 9999 in UTC, as RFC 3339 writes them.
var (
	minTime = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).Unix() - 1
)

// value returns the standard field named by its JSON key.
func (e *Event) value(name string) string {
	switch name {
	case "actor":
		return e.Actor
	case "subject":
		return e.Subject
	case "object":
		return e.Object
	case "client":
		return e.Client
	}
	return ""
}

// checkFieldKey reports whether key may name an extra field.
func checkFieldKey(key string) error {
	if key == "" {
		return errors.New("empty key")
	}
	if len(key) > 64 {
		return fmt.Errorf("key %.16q... longer than 64 bytes", key)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("key %q: byte %q not allowed (want ASCII letters, digits, '_', '-', '.')", key, c)
		}
	}
	for _, r := range reservedKeys {
		if strings.EqualFold(key, r) {
			return fmt.Errorf("key %q is a standard field", key)
		}
	}
	return nil
}

// Record is an [Event] as written to an audit file: with the module that wrote
// it and its sequence number in that file. [Formatter] implementations render
// Records, and the parsers of the built-in formats return them.
type Record struct {
	// Seq is the record's position in its file, starting at 1 (with the
	// file's [FileStart] record when integrity protection is on). A gap in
	// Seq is a missing record.
	Seq uint64
	// Module names the server module that wrote the record.
	Module string
	// Event is the audited activity.
	Event Event
	// MAC is the integrity chain value of the record in lower-case hex, or
	// empty when the file is written without integrity protection.
	MAC string
}
