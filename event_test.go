package audit

import (
	"encoding"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestEventTypeNames(t *testing.T) {
	want := map[EventType]struct {
		name string
		cat  Mask
	}{
		Logon: {"LOGON", PresenceEvents}, Logoff: {"LOGOFF", PresenceEvents},
		SessionStart: {"SESSION_START", PresenceEvents}, ChannelOpen: {"CHANNEL_OPEN", PresenceEvents},
		ChannelClose: {"CHANNEL_CLOSE", PresenceEvents}, ChannelReject: {"CHANNEL_REJECT", PresenceEvents},
		ServerStart: {"SERVER_START", SystemEvents}, ServerStop: {"SERVER_STOP", SystemEvents},
		UserChange: {"USER_CHANGE", ModifyEvents}, AccessChange: {"ACCESS_CHANGE", ModifyEvents},
		NoConsentOverride: {"NO_CONSENT_OVERRIDE", ModifyEvents}, DataRead: {"DATA_READ", ReadEvents},
		SystemConfigChange: {"SYSTEM_CONFIG_CHANGE", ConfigEvents}, AuditConfigChange: {"AUDIT_CONFIG_CHANGE", ConfigEvents},
	}
	require.Len(t, EventTypes(), len(want))
	for _, typ := range EventTypes() {
		w, ok := want[typ]
		require.True(t, ok, "unexpected type %v", typ)
		require.Equal(t, w.name, typ.String())
		require.Equal(t, w.cat, typ.Category())
		parsed, err := ParseEventType(w.name)
		require.NoError(t, err)
		require.Equal(t, typ, parsed)
		text, err := typ.MarshalText()
		require.NoError(t, err)
		var back EventType
		require.NoError(t, back.UnmarshalText(text))
		require.Equal(t, typ, back)
	}
	_, err := ParseEventType("LOGIN")
	require.ErrorIs(t, err, ErrUnknownEventType)
	require.Equal(t, "EventType(0)", EventType(0).String())
	require.Zero(t, EventType(200).Category())
}

func TestOutcome(t *testing.T) {
	require.Equal(t, "SUCCESS", Succeeded.String())
	require.Equal(t, "FAILURE", Failed.String())
	require.Equal(t, "Outcome(0)", Outcome(0).String())
	require.False(t, Outcome(0).Valid(), "the zero Outcome is unset")
	for _, tt := range []struct {
		in   string
		want Outcome
	}{
		{"SUCCESS", Succeeded}, {"success", Succeeded}, {"Succeeded", Succeeded}, {"OK", Succeeded}, {"ok", Succeeded},
		{"FAILURE", Failed}, {"failure", Failed}, {"FAILED", Failed}, {"fail", Failed}, {"Fail", Failed},
		{"successful", Succeeded}, {"Successful", Succeeded}, {"unsuccessful", Failed}, {"UNSUCCESSFUL", Failed},
	} {
		o, err := ParseOutcome(tt.in)
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, o, tt.in)
		var u Outcome
		require.NoError(t, u.UnmarshalText([]byte(tt.in)), tt.in)
		require.Equal(t, tt.want, u, tt.in)
	}
	for _, in := range []string{"", " success", "succes", "yes", "true", "0", "1", "Outcome(0)", "failures"} {
		_, err := ParseOutcome(in)
		require.ErrorIs(t, err, ErrUnknownOutcome, "%q", in)
		require.ErrorContains(t, err, "want success, succeeded, successful, ok, failure, failed, fail or unsuccessful")
		u := Failed
		require.ErrorIs(t, u.UnmarshalText([]byte(in)), ErrUnknownOutcome, "%q", in)
		require.Equal(t, Failed, u, "unchanged on error")
	}
}

func TestOutcomeText(t *testing.T) {
	for _, o := range []Outcome{Succeeded, Failed} {
		text, err := o.MarshalText()
		require.NoError(t, err)
		require.Equal(t, o.String(), string(text))
		b, err := o.AppendText([]byte("x:"))
		require.NoError(t, err)
		require.Equal(t, "x:"+o.String(), string(b))
		var back Outcome
		require.NoError(t, back.UnmarshalText(text))
		require.Equal(t, o, back)
		parsed, err := ParseOutcome(o.String())
		require.NoError(t, err)
		require.Equal(t, o, parsed)

		// As a JSON value and map key, through encoding/json.
		j, err := json.Marshal(map[Outcome]Outcome{o: o})
		require.NoError(t, err)
		require.Equal(t, `{"`+o.String()+`":"`+o.String()+`"}`, string(j))
		var m map[Outcome]Outcome
		require.NoError(t, json.Unmarshal(j, &m))
		require.Equal(t, map[Outcome]Outcome{o: o}, m)
	}
	for _, o := range []Outcome{0, 3, 255} {
		_, err := o.MarshalText()
		require.ErrorIs(t, err, ErrUnknownOutcome, "%d", o)
		b, err := o.AppendText([]byte("x"))
		require.ErrorIs(t, err, ErrUnknownOutcome)
		require.Equal(t, "x", string(b))
	}
	var _ encoding.TextAppender = Outcome(0)
	var _ encoding.TextMarshaler = Outcome(0)
	var _ encoding.TextUnmarshaler = (*Outcome)(nil)
}

func TestEventFields(t *testing.T) {
	var e Event
	for i := range 7 {
		e.AddField(string(rune('a'+i)), string(rune('A'+i)))
	}
	require.Equal(t, 7, e.NumFields())
	for i := range 7 {
		require.Equal(t, Field{string(rune('a' + i)), string(rune('A' + i))}, e.Field(i))
	}
	// Adding to a copy does not change the original.
	c := e
	c.AddField("z", "Z")
	require.Equal(t, 7, e.NumFields())
	require.Equal(t, 8, c.NumFields())
}

func TestEventValidate(t *testing.T) {
	withKey := func(k string) Event {
		e := Event{Type: ServerStart, Outcome: Succeeded}
		e.AddField(k, "v")
		return e
	}
	tests := []struct {
		name    string
		e       Event
		wantErr string
	}{
		{"logon ok", Event{Type: Logon, Outcome: Succeeded, Actor: "alice"}, ""},
		{"logon without actor", Event{Type: Logon, Outcome: Succeeded}, "field actor is required (Event.Actor is empty)"},
		{"reject without client", Event{Type: ChannelReject}, "field client is required"},
		{"config change without object", Event{Type: SystemConfigChange, Outcome: Succeeded, Actor: "admin"}, "field object is required"},
		{"audit config change without object", Event{Type: AuditConfigChange, Outcome: Succeeded}, "field object is required"},
		{"data read without subject", Event{Type: DataRead, Outcome: Succeeded, Actor: "bob"}, "field subject is required"},
		{"override without object", Event{Type: NoConsentOverride, Outcome: Succeeded, Actor: "agent7"}, "field object is required"},
		{"server start", Event{Type: ServerStart, Outcome: Succeeded}, ""},
		{"zero type", Event{}, "unknown event type"},
		{"unknown type", Event{Type: 99, Outcome: Succeeded}, "unknown event type"},
		{"library type", Event{Type: FileStart, Outcome: Succeeded}, "written only by the library"},
		{"bad outcome", Event{Type: ServerStart, Outcome: 7}, "field outcome has unknown value 7"},
		{"no outcome", Event{Type: Logon, Actor: "alice"}, "field outcome is required (Event.Outcome is unset"},
		{"no outcome, always written", Event{Type: AuditConfigChange, Object: "setting"}, "field outcome is required"},
		{"reject without outcome", Event{Type: ChannelReject, Client: "10.0.0.1"}, ""},
		{"good extra key", withKey("tenant.id"), ""},
		{"empty extra key", withKey(""), "empty key"},
		{"reserved extra key", withKey("Actor"), "standard field"},
		{"extra key with space", withKey("a b"), "not allowed"},
		{"extra key with equals", withKey("a=b"), "not allowed"},
		{"repeated extra key", func() Event { e := withKey("k"); e.AddField("k", "w"); return e }(), `"k" is repeated`},
		{"time out of range", Event{Type: ServerStart, Outcome: Succeeded, Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "year 10000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidEvent)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}
