package audit

import (
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
	o, err := ParseOutcome("failure")
	require.NoError(t, err)
	require.Equal(t, Failed, o)
	_, err = ParseOutcome("OK")
	require.Error(t, err)
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
		e := Event{Type: ServerStart}
		e.AddField(k, "v")
		return e
	}
	tests := []struct {
		name    string
		e       Event
		wantErr string
	}{
		{"logon ok", Event{Type: Logon, Actor: "alice"}, ""},
		{"logon without actor", Event{Type: Logon}, "field actor is required (Event.Actor is empty)"},
		{"reject without client", Event{Type: ChannelReject}, "field client is required"},
		{"config change without object", Event{Type: SystemConfigChange, Actor: "admin"}, "field object is required"},
		{"audit config change without object", Event{Type: AuditConfigChange}, "field object is required"},
		{"data read without subject", Event{Type: DataRead, Actor: "bob"}, "field subject is required"},
		{"override without object", Event{Type: NoConsentOverride, Actor: "agent7"}, "field object is required"},
		{"server start", Event{Type: ServerStart}, ""},
		{"zero type", Event{}, "unknown event type"},
		{"unknown type", Event{Type: 99}, "unknown event type"},
		{"library type", Event{Type: FileStart}, "written only by the library"},
		{"bad outcome", Event{Type: ServerStart, Outcome: 7}, "field outcome"},
		{"good extra key", withKey("tenant.id"), ""},
		{"empty extra key", withKey(""), "empty key"},
		{"reserved extra key", withKey("Actor"), "standard field"},
		{"extra key with space", withKey("a b"), "not allowed"},
		{"extra key with equals", withKey("a=b"), "not allowed"},
		{"repeated extra key", func() Event { e := withKey("k"); e.AddField("k", "w"); return e }(), `"k" is repeated`},
		{"time out of range", Event{Type: ServerStart, Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "year 10000"},
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
