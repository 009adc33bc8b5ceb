package audit

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// cefRecord returns a valid record with the given client.
func cefRecord(client string) Record {
	return Record{Seq: 9, Module: "AgentServer", Event: Event{
		Time: testTime, Type: ChannelOpen, Outcome: Succeeded, Client: client,
	}}
}

// TestCEFClient checks that a client that is an IP address, or an address
// and a port, in canonical form goes to src and spt, and any other client to
// cs5, and that each reads back.
func TestCEFClient(t *testing.T) {
	for _, tc := range []struct{ client, want string }{
		{"10.1.2.3", " src=10.1.2.3 "},
		{"10.1.2.3:5060", " src=10.1.2.3 spt=5060 "},
		{"2001:db8::1", " src=2001:db8::1 "},
		{"[2001:db8::1]:443", " src=2001:db8::1 spt=443 "},
		{"[::1]:0", " src=::1 spt=0 "},
		{"::ffff:10.0.0.1", " src=::ffff:10.0.0.1 "},
		{"console", " cs5Label=client cs5=console "},
		{"cafe", " cs5Label=client cs5=cafe "},
		{"010.1.2.3", " cs5Label=client cs5=010.1.2.3 "},
		{"10.1.2.3:05060", " cs5Label=client cs5=10.1.2.3:05060 "},
		{"10.1.2.3:65536", " cs5Label=client cs5=10.1.2.3:65536 "},
		{"2001:DB8::1", " cs5Label=client cs5=2001:DB8::1 "},
		{"2001:db8:0::1", " cs5Label=client cs5=2001:db8:0::1 "},
		{"fe80::1%eth0", " cs5Label=client cs5=fe80::1%eth0 "},
		{"[fe80::1%eth0]:80", " cs5Label=client cs5=[fe80::1%eth0]:80 "},
		{"[10.1.2.3]:80", " cs5Label=client cs5=[10.1.2.3]:80 "},
		{"1.2.3.4 src=5.6.7.8", ` cs5Label=client cs5=1.2.3.4 src\=5.6.7.8 `},
		{"1.2.3", " cs5Label=client cs5=1.2.3 "},
		{"1.2.3.4.5", " cs5Label=client cs5=1.2.3.4.5 "},
		{"1.2.3.256", " cs5Label=client cs5=1.2.3.256 "},
		{"255.255.255.255:65535", " src=255.255.255.255 spt=65535 "},
		{"0.0.0.0:0", " src=0.0.0.0 spt=0 "},
		{"1.2.3.4:", " cs5Label=client cs5=1.2.3.4: "},
		{"1.2.3.4::80", " cs5Label=client cs5=1.2.3.4::80 "},
		{"dead:beef", " cs5Label=client cs5=dead:beef "},
		{"[::1]", " cs5Label=client cs5=[::1] "},
		{"[::1]:", " cs5Label=client cs5=[::1]: "},
	} {
		t.Run(tc.client, func(t *testing.T) {
			r := cefRecord(tc.client)
			line, err := defaultCEF.Append(nil, &r)
			require.NoError(t, err)
			require.Contains(t, string(line), tc.want)
			got, err := ParseCEF(line)
			require.NoError(t, err, "line %q", line)
			require.Equal(t, r, got)
		})
	}
}

// TestSplitIPAllocs checks that telling an IP address from another client
// allocates nothing.
func TestSplitIPAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, c := range []string{"10.1.2.3", "10.1.2.3:5060", "[2001:db8::1]:443", "2001:db8::1", "cafe", "1.2.3",
		"1.2.3.4:99999", "dead:beef", "01.2.3.4", "console"} {
		allocs := testing.AllocsPerRun(100, func() { splitIP(c) })
		require.Zero(t, allocs, c)
	}
}

// TestCEFSeverity checks the severity table that the README documents.
func TestCEFSeverity(t *testing.T) {
	for typ := EventType(1); typ < numEventTypes; typ++ {
		require.NotEmpty(t, cefInfo[typ].name, typ.String())
		for _, o := range []Outcome{Succeeded, Failed} {
			sev := severity(typ, o)
			require.True(t, 0 <= sev && sev <= 10, "%s %s: %d", typ, o, sev)
		}
	}
	// Failed logons and access changes rank higher.
	require.Greater(t, severity(Logon, Failed), severity(Logon, Succeeded))
	require.Greater(t, severity(SessionStart, Failed), severity(SessionStart, Succeeded))
	require.GreaterOrEqual(t, severity(AccessChange, Succeeded), 7)
	require.Greater(t, severity(AccessChange, Failed), severity(AccessChange, Succeeded))
	require.GreaterOrEqual(t, severity(Logon, Failed), 7)
	require.Equal(t, 9, severity(FileReplaced, Failed))
}

// TestCEFName checks the Name of the records that the library writes as
// failures only: it says what happened, not that it failed to.
func TestCEFName(t *testing.T) {
	for _, tc := range []struct {
		typ  EventType
		o    Outcome
		want string
	}{
		{Logon, Succeeded, "Logon"},
		{Logon, Failed, "Logon failed"},
		{ChannelReject, Failed, "Channel reject"},
		{TornRecord, Failed, "Torn audit record"},
		{FileReplaced, Failed, "Audit file replaced"},
		{RetentionPrune, Failed, "Audit files pruned failed"},
	} {
		r := Record{Seq: 1, Module: "m", Event: Event{Time: testTime, Type: tc.typ, Outcome: tc.o, Client: "c"}}
		line, err := defaultCEF.Append(nil, &r)
		require.NoError(t, err)
		fields := strings.SplitN(string(line), "|", 8)
		require.Equal(t, tc.want, fields[5], "%s %s", tc.typ, tc.o)
	}
}

func TestNewCEFFormatter(t *testing.T) {
	f, err := NewCEFFormatter(`Acme|Corp\`, "Call Center", "7.2")
	require.NoError(t, err)
	r := cefRecord("10.0.0.1")
	line, err := f.Append(nil, &r)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(line), `CEF:0|Acme\|Corp\\|Call Center|7.2|CHANNEL_OPEN|Channel open|2|rt=`), "%s", line)
	got, err := ParseCEF(line)
	require.NoError(t, err)
	require.Equal(t, r, got)
	got, err = f.Parse(line)
	require.NoError(t, err)
	require.Equal(t, r, got)

	for _, bad := range [][3]string{
		{"", "p", "1"},
		{"v", "", "1"},
		{"v", "p", ""},
		{"v\n", "p", "1"},
		{"v", "p\x00", "1"},
		{"v", "p", "1\u0085"},
		{"v\u202e", "p", "1"},
		{"v", "p\u2028", "1"},
		{"v\xff", "p", "1"},
		{strings.Repeat("v", 64), "p", "1"},
	} {
		_, err := NewCEFFormatter(bad[0], bad[1], bad[2])
		require.ErrorIs(t, err, ErrBadConfig, "%q", bad)
	}
}

// TestCEFRegistered checks that a Logger writes CEF by name, and that New
// refuses CEF with integrity protection.
func TestCEFRegistered(t *testing.T) {
	f, err := LookupFormatter("cef")
	require.NoError(t, err)
	require.Same(t, defaultCEF, f)
	require.Contains(t, FormatterNames(), FormatCEF)

	var out bytes.Buffer
	l, err := New(Config{Module: "AgentServer", Formatter: "CEF", Output: &out, Now: func() time.Time { return testTime }})
	require.NoError(t, err)
	require.NoError(t, l.Log(context.Background(), Event{Type: Logon, Outcome: Failed, Actor: "mallory", Client: "203.0.113.9", Reason: "invalid password"}))
	require.NoError(t, l.Close())
	line := strings.TrimSuffix(out.String(), "\n")
	require.Equal(t, `CEF:0|auditkit|audit|1|LOGON|Logon failed|7|rt=1795598080123 externalId=1 deviceFacility=AgentServer outcome=failure suser=mallory src=203.0.113.9 reason=invalid password flexString1Label=time flexString1=2026-11-25T09:14:40.123456Z`, line)
	r, err := ParseRecord([]byte(line))
	require.NoError(t, err)
	require.Equal(t, "mallory", r.Event.Actor)

	_, err = New(Config{Module: "AgentServer", Formatter: "CEF", Output: &out, Integrity: true})
	require.ErrorIs(t, err, ErrBadConfig)
}

// cefBase is a valid CEF line that the error cases change.
const cefBase = `CEF:0|auditkit|audit|1|LOGON|Logon failed|7|rt=1795598080123 externalId=3 deviceFacility=AgentServer outcome=failure suser=alice flexString1Label=time flexString1=2026-11-25T09:14:40.123456Z`

var cefErrorCases = []parseErrorCase{
	{"empty", "", "byte 0: want \"CEF:0|\""},
	{"version 1", "CEF:1|" + cefBase[6:], "byte 0: want \"CEF:0|\""},
	{"header ends", "CEF:0|auditkit|audit", "line ends in the product"},
	{"bad header escape", `CEF:0|audit\kit|audit|1|LOGON|Logon failed|7|`, "a backslash escapes only"},
	{"empty vendor", strings.Replace(cefBase, "auditkit", "", 1), `vendor ""`},
	{"control in vendor", strings.Replace(cefBase, "auditkit", "audit\x1bkit", 1), "printable UTF-8"},
	{"unknown type", strings.Replace(cefBase, "LOGON|", "LOGIN|", 1), `unknown event type "LOGIN"`},
	{"wrong name", strings.Replace(cefBase, "Logon failed", "Logon", 1), "not as the formatter writes"},
	{"wrong severity", strings.Replace(cefBase, "|7|", "|3|", 1), "not as the formatter writes"},
	{"wrong rt", strings.Replace(cefBase, "rt=1795598080123", "rt=1795598080124", 1), "not as the formatter writes"},
	{"no time", strings.Replace(cefBase, " flexString1Label=time flexString1=2026-11-25T09:14:40.123456Z", "", 1), "missing key flexString1"},
	{"bad time", strings.Replace(cefBase, "flexString1=2026-11-25T09:14:40.123456Z", "flexString1=yesterday", 1), "time"},
	{"seq 0", strings.Replace(cefBase, "externalId=3", "externalId=0", 1), "seq 0"},
	{"bad seq", strings.Replace(cefBase, "externalId=3", "externalId=x", 1), `externalId "x"`},
	{"bad outcome", strings.Replace(cefBase, "outcome=failure", "outcome=failed", 1), `outcome "failed"`},
	{"no module", strings.Replace(cefBase, " deviceFacility=AgentServer", "", 1), `module ""`},
	{"no actor", strings.Replace(cefBase, " suser=alice", "", 1), "LOGON record without actor"},
	{"duplicate key", cefBase + " suser=root", `duplicate key "suser"`},
	{"unknown key", cefBase + " dhost=x", `unknown key "dhost"`},
	{"bad extra key", cefBase + " ad.=x", "empty key"},
	{"unescaped equals", strings.Replace(cefBase, "suser=alice", "suser=a=b", 1), "unescaped '=' in a value"},
	{"unknown escape", strings.Replace(cefBase, "suser=alice", `suser=a\qb`, 1), `unknown escape \q`},
	{"trailing backslash", cefBase + ` ad.x=\`, "backslash at the end"},
	{"escaped letter", strings.Replace(cefBase, "suser=alice", `suser=\u0061lice`, 1), "not as the formatter writes"},
	{"raw tab", strings.Replace(cefBase, "suser=alice", "suser=a\tb", 1), "not as the formatter writes"},
	{"raw newline", strings.Replace(cefBase, "suser=alice", "suser=a\nb", 1), "not as the formatter writes"},
	{"invalid UTF-8", strings.Replace(cefBase, "suser=alice", "suser=a\xffb", 1), "not as the formatter writes"},
	{"x escape of valid UTF-8", strings.Replace(cefBase, "suser=alice", `suser=\xc3\xa9`, 1), "not as the formatter writes"},
	{"surrogate escape", strings.Replace(cefBase, "suser=alice", `suser=\ud800`, 1), "Unicode scalar value"},
	{"key order", strings.Replace(cefBase, "externalId=3 deviceFacility=AgentServer", "deviceFacility=AgentServer externalId=3", 1), "not as the formatter writes"},
	{"double space", strings.Replace(cefBase, " suser", "  suser", 1), `outcome "failure "`},
	{"src and cs5", cefBase + " src=10.0.0.1 cs5=x", "both src and cs5"},
	{"channel reject success", strings.Replace(strings.Replace(cefBase, "LOGON|Logon failed|7", "CHANNEL_REJECT|Channel reject|5", 1), "failure", "success", 1), "always a FAILURE"},
}

func TestParseCEFErrors(t *testing.T) {
	for _, tc := range cefErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCEF([]byte(tc.line))
			require.ErrorIs(t, err, ErrBadRecord)
			require.Contains(t, err.Error(), tc.want)
			require.True(t, strings.HasPrefix(err.Error(), "audit: malformed record: cef byte "), err.Error())
		})
	}
	_, err := ParseCEF([]byte(cefBase))
	require.NoError(t, err, "the base line is valid")
}

// TestCEFEdgeSpaces checks that a space at the start or the end of a value
// is escaped, so that a reader that trims values (as CEF readers and
// syslog relays commonly do) cannot show "root " as "root".
func TestCEFEdgeSpaces(t *testing.T) {
	for _, tc := range []struct{ actor, want string }{
		{"root ", `suser=root\u0020 duser=bob`},
		{" root", `suser=\u0020root duser=bob`},
		{" ", `suser=\u0020 duser=bob`},
		{"  ", `suser=\u0020\u0020 duser=bob`},
		{"a  b", `suser=a  b duser=bob`},
	} {
		r := Record{Seq: 1, Module: "m", Event: withFields(Event{Time: testTime, Type: UserChange, Outcome: Succeeded,
			Actor: tc.actor, Subject: "bob"}, "x", tc.actor)}
		line, err := defaultCEF.Append(nil, &r)
		require.NoError(t, err)
		require.Contains(t, string(line), tc.want)
		require.False(t, strings.HasSuffix(string(line), " "), "%q", line)
		got, err := ParseCEF(line)
		require.NoError(t, err, "%s", line)
		require.Equal(t, r, got)
	}
	// The lines a writer that left edge spaces bare would write.
	for _, line := range []string{
		strings.Replace(cefBase, "suser=alice", "suser=alice ", 1),
		strings.Replace(cefBase, "suser=alice", "suser= alice", 1),
		cefBase + " ad.x= ",
	} {
		_, err := ParseCEF([]byte(line))
		require.ErrorIs(t, err, ErrBadRecord, "%s", line)
	}
}
