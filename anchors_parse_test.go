package audit

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSyslog(t *testing.T) {
	tests := []struct {
		line                    string
		ok                      bool
		msg, host, module, file string
	}{
		{line: `<109>1 2026-03-14T09:26:53.589000Z agent01 AgentServer - LOGON [audit@32473 host="agent01" module="AgentServer" file="7" seq="42" outcome="SUCCESS"] the record`,
			ok: true, msg: "the record", host: "agent01", module: "AgentServer", file: "7"},
		{line: `<13>1 - - - - - - rec`, ok: true, msg: "rec"},
		{line: `<13>1 - h a - - -`, ok: true, host: "h", module: "a"},
		{line: `<13>1 - h a - - [x@1 file="a\"b\\c\]d\e"][y@2] ` + "\xef\xbb\xbfbom", ok: true, msg: "bom", host: "h", module: "a", file: `a"b\c]d\e`},
		{line: `<13>1 - h a - - [x@1 host="other"] m`, ok: true, msg: "m", host: "other", module: "a"},
		{line: `<13>1 - h a - - [x@1 file="unterminated] m`},
		{line: `<13>1 - h a - - [x@1 file=unquoted] m`},
		{line: `<13>1 - h a - - [x@1 file="a"`},
		{line: `<13>1 - h a - - [x@1 file="a"]m`},
		{line: `<13>1 - h a - - x`},
		{line: `<13>x - h a - - - m`},
		{line: `<13>1 - h a`},
		{line: `<1234>1 - - - - - - m`},
		{line: `<>1 - - - - - - m`},
		{line: `13>1 - - - - - - m`},
		{line: `<13>1  - - - - - m`},
		{line: `<13>1 - h a - - [] m`},
		{line: `<13>1 - h a - - [x@1 =""] m`},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			m, ok := parseSyslog([]byte(tt.line))
			require.Equal(t, tt.ok, ok)
			if !ok {
				return
			}
			require.Equal(t, tt.msg, string(m.msg))
			require.Equal(t, tt.host, m.host)
			require.Equal(t, tt.module, m.module)
			require.Equal(t, tt.file, m.file)
		})
	}
}

// escapeParam escapes a PARAM-VALUE as RFC 5424 (section 6.3.3) asks.
func escapeParam(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`)
	return r.Replace(s)
}

// FuzzParseSyslog: any line parses without panic, MSG is the line's
// tail, and a message built from any host, file and MSG reads back as
// built.
func FuzzParseSyslog(f *testing.F) {
	f.Add([]byte(`<109>1 2026-03-14T09:26:53.589000Z agent01 AgentServer - LOGON [audit@32473 host="agent01" file="7"] rec`), "agent01", "7", []byte("rec"))
	f.Add([]byte(`<13>1 - - - - - [a@1 x="\]"][b@2] m`), "h", `a"]\`, []byte("x] \"\\\xff"))
	f.Fuzz(func(t *testing.T, line []byte, host, file string, msg []byte) {
		if m, ok := parseSyslog(line); ok {
			require.True(t, bytes.HasSuffix(line, m.msg))
		}
		if host == "" || host == "-" || strings.ContainsFunc(host, func(r rune) bool { return r < 33 || r > 126 }) {
			host = "h"
		}
		if bytes.HasPrefix(msg, []byte("\xef\xbb\xbf")) {
			msg = msg[3:]
		}
		built := "<109>1 - " + host + ` AgentServer - - [audit@32473 host="` + escapeParam(host) + `" file="` + escapeParam(file) + `" seq="1"] ` + string(msg)
		m, ok := parseSyslog([]byte(built))
		require.True(t, ok, "%q", built)
		require.Equal(t, host, m.host)
		require.Equal(t, "AgentServer", m.module)
		require.Equal(t, file, m.file)
		require.Equal(t, string(msg), string(m.msg))
	})
}

// FuzzAnchorsRead: whatever a collector's file holds, reading it neither
// panics, nor fails but on a malformed capture of frames, nor makes an anchor of a line that does not verify with the key.
func FuzzAnchorsRead(f *testing.F) {
	dir := f.TempDir()
	path := dir + "/k"
	require.NoError(f, NewKey(path))
	key, err := ReadKey(path)
	require.NoError(f, err)
	f.Add([]byte("2026-11-25T09:14:40.123456Z AgentServer FILE_START SUCCESS seq=1 object=\"audit file\" file=0 prev=" + strings.Repeat("0", 64) + " chain=hmac-sha256 mac=" + strings.Repeat("1", 64) + "\n"))
	f.Add([]byte("<13>1 - h AgentServer - - - x\n\n<"))
	f.Add([]byte("12 <13>1 - h A - 7 <13>1 - h"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a := &Anchors{Key: func(string) ([]byte, bool) { return key, true }}
		if err := a.Read(bytes.NewReader(data), "f"); err != nil {
			// Only a capture of octet-counted frames can be malformed.
			require.ErrorIs(t, err, ErrBadRecord)
			require.True(t, octetCounted(data), "%v", err)
		}
		// Random bytes cannot carry an HMAC of this fresh key.
		require.Empty(t, a.Modules())
	})
}
