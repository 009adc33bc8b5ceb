package audit

import (
	"encoding/json"
	"flag"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseMask(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Mask
		wantErr string // substring of the error; "" means success
	}{
		{name: "default", in: "presence+failure+system+config", want: DefaultMask},
		{name: "single", in: "read", want: ReadEvents},
		{name: "case and spaces", in: " Presence + READ+ modify ", want: PresenceEvents | ReadEvents | ModifyEvents},
		{name: "all", in: "all", want: AllEvents},
		{name: "all with others", in: "read+ALL", want: AllEvents},
		{name: "repeated token", in: "read+read", want: ReadEvents},
		{name: "every token", in: "modify+read+config+system+failure+presence", want: AllEvents},
		{name: "empty", in: "", wantErr: "empty"},
		{name: "blank", in: "   ", wantErr: "empty"},
		{name: "empty token", in: "presence++read", wantErr: "empty token"},
		{name: "trailing plus", in: "presence+", wantErr: "empty token"},
		{name: "unknown token", in: "presence+writes", wantErr: `unknown token "writes"`},
		{name: "comma separated", in: "presence,read", wantErr: `unknown token "presence,read"`},
		{name: "lists valid tokens", in: "x", wantErr: "presence, failure, system, config, read, modify, all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMask(tt.in)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrBadMask)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestMaskString(t *testing.T) {
	require.Equal(t, "presence+failure+system+config", DefaultMask.String())
	require.Equal(t, "presence+failure+system+config+read+modify", AllEvents.String())
	require.Equal(t, "read+modify", (ModifyEvents | ReadEvents).String())
	require.Equal(t, "", Mask(0).String())
	for m := Mask(1); m <= AllEvents; m++ {
		got, err := ParseMask(m.String())
		require.NoError(t, err, "mask %#x", uint8(m))
		require.Equal(t, m, got, "mask %#x", uint8(m))
	}
}

func TestMaskText(t *testing.T) {
	type conf struct {
		Mask Mask `json:"AuditEventMask"`
	}
	var c conf
	require.NoError(t, json.Unmarshal([]byte(`{"AuditEventMask":"presence+read"}`), &c))
	require.Equal(t, PresenceEvents|ReadEvents, c.Mask)
	out, err := json.Marshal(c)
	require.NoError(t, err)
	require.JSONEq(t, `{"AuditEventMask":"presence+read"}`, string(out))

	err = json.Unmarshal([]byte(`{"AuditEventMask":"presence+bogus"}`), &c)
	require.ErrorIs(t, err, ErrBadMask)

	_, err = Mask(0).MarshalText()
	require.ErrorIs(t, err, ErrBadMask)
}

func TestMaskFlag(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(nopWriter{})
	m := DefaultMask
	fs.Var(&m, "mask", "event mask")
	require.NoError(t, fs.Parse([]string{"-mask", "config+modify"}))
	require.Equal(t, ConfigEvents|ModifyEvents, m)

	var tv Mask
	fs2 := flag.NewFlagSet("test", flag.ContinueOnError)
	fs2.SetOutput(nopWriter{})
	fs2.TextVar(&tv, "mask", DefaultMask, "event mask")
	err := fs2.Parse([]string{"-mask", "nope"})
	require.Error(t, err)
	require.Contains(t, err.Error(), `unknown token "nope"`)
	require.NoError(t, m.Set("read"))
	require.Equal(t, ReadEvents, m)
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

func FuzzParseMask(f *testing.F) {
	for _, s := range []string{"presence+failure+system+config", "all", " read + MODIFY ", "", "+", "a+b", "read++"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMask(s)
		if err != nil {
			require.ErrorIs(t, err, ErrBadMask)
			return
		}
		require.NotZero(t, m)
		require.Zero(t, m&^AllEvents)
		again, err := ParseMask(m.String())
		require.NoError(t, err)
		require.Equal(t, m, again)
	})
}

func TestMaskEnables(t *testing.T) {
	tests := []struct {
		m    Mask
		t    EventType
		o    Outcome
		want bool
	}{
		{DefaultMask, Logon, Succeeded, true},
		{DefaultMask, DataRead, Succeeded, false},
		{DefaultMask, DataRead, Failed, true},
		{ReadEvents, DataRead, Failed, true},
		{ReadEvents, Logon, Failed, false},
		{ReadEvents, AuditConfigChange, Succeeded, true},
		{ReadEvents, FileStart, Succeeded, true},
		{FailureEvents, ChannelReject, Succeeded, true},
		{SystemEvents, ChannelReject, Failed, false},
		{AllEvents, 0, Succeeded, false},
		{AllEvents, 200, Failed, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.m.Enables(tt.t, tt.o), "%v %v %v", tt.m, tt.t, tt.o)
	}
}
