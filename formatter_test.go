package audit

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// testTime is the time of most test records, in UTC at microsecond precision
// as records carry it.
var testTime = time.Date(2026, 11, 25, 9, 14, 40, 123456000, time.UTC)

// withFields returns e with the extra fields kv (key, value, key, value...).
func withFields(e Event, kv ...string) Event {
	for i := 0; i+1 < len(kv); i += 2 {
		e.AddField(kv[i], kv[i+1])
	}
	return e
}

// formatCase is a record and, when known, its exact line in each format.
// When refused is set, the record is one that a Logger never writes: the
// formatters write it, and the parsers refuse the line with an error that
// contains refused.
type formatCase struct {
	name    string
	rec     Record
	bcm     string
	json    string
	cef     string
	ocsf    string
	refused string
}

// testMAC is a well-formed chain value.
var testMAC = strings.Repeat("0123456789abcdef", 4)

// lineCases are records with their exact lines.
var lineCases = []formatCase{
	{
		name: "spec example",
		rec: Record{Seq: 3, Module: "AgentServer", Event: withFields(Event{
			Time: testTime, Type: Logon, Outcome: Failed, Actor: "alice",
			Client: "10.1.2.3:5060", Session: "S-77", Reason: "bad password",
		}, "attempt", "2")},
		bcm:  `2026-11-25T09:14:40.123456Z AgentServer LOGON FAILURE seq=3 actor=alice client=10.1.2.3:5060 session=S-77 reason="bad password" attempt=2`,
		json: `{"time":"2026-11-25T09:14:40.123456Z","seq":3,"module":"AgentServer","type":"LOGON","outcome":"FAILURE","actor":"alice","client":"10.1.2.3:5060","session":"S-77","reason":"bad password","attempt":"2"}`,
		cef:  `CEF:0|auditkit|audit|1|LOGON|Logon failed|7|rt=1795598080123 externalId=3 deviceFacility=AgentServer outcome=failure suser=alice src=10.1.2.3 spt=5060 reason=bad password cs4Label=session cs4=S-77 flexString1Label=time flexString1=2026-11-25T09:14:40.123456Z ad.attempt=2`,
		ocsf: `{"class_uid":3002,"class_name":"Authentication","category_uid":3,"category_name":"Identity & Access Management","activity_id":1,"activity_name":"Logon","type_uid":300201,"type_name":"Authentication: Logon","severity_id":4,"severity":"High","status_id":2,"status":"Failure","time":1795598080123,"time_dt":"2026-11-25T09:14:40.123456Z","status_detail":"bad password","metadata":{"version":"1.3.0","product":{"name":"audit","vendor_name":"auditkit","version":"1","feature":{"name":"AgentServer"}},"profiles":["datetime"],"event_code":"LOGON","sequence":3},"actor":{"user":{"name":"alice"}},"user":{"name":"alice"},"service":{"name":"AgentServer"},"src_endpoint":{"ip":"10.1.2.3","port":5060},"session":{"uid":"S-77"},"unmapped":{"attempt":"2"}}`,
	},
	{
		name:    "zero record",
		rec:     Record{Event: Event{Type: ServerStart, Outcome: Succeeded}},
		bcm:     `0001-01-01T00:00:00.000000Z "" SERVER_START SUCCESS seq=0`,
		json:    `{"time":"0001-01-01T00:00:00.000000Z","seq":0,"module":"","type":"SERVER_START","outcome":"SUCCESS"}`,
		cef:     `CEF:0|auditkit|audit|1|SERVER_START|Server start|3|rt=-62135596800000 externalId=0 outcome=success flexString1Label=time flexString1=0001-01-01T00:00:00.000000Z`,
		ocsf:    `{"class_uid":6002,"class_name":"Application Lifecycle","category_uid":6,"category_name":"Application Activity","activity_id":3,"activity_name":"Start","type_uid":600203,"type_name":"Application Lifecycle: Start","severity_id":2,"severity":"Low","status_id":1,"status":"Success","time":-62135596800000,"time_dt":"0001-01-01T00:00:00.000000Z","metadata":{"version":"1.3.0","product":{"name":"audit","vendor_name":"auditkit","version":"1","feature":{"name":""}},"profiles":["datetime"],"event_code":"SERVER_START","sequence":0},"app":{"name":"","vendor_name":"auditkit"}}`,
		refused: "zero time",
	},
	{
		name: "every standard field",
		rec: Record{Seq: 7, Module: "Admin", MAC: testMAC, Event: Event{
			Time: testTime, Type: AccessChange, Outcome: Succeeded, Actor: "root", Subject: "bob", Object: "role",
			OldValue: "agent", NewValue: "supervisor", Client: "console", Session: "S-1", Reason: "promotion",
		}},
		bcm:  `2026-11-25T09:14:40.123456Z Admin ACCESS_CHANGE SUCCESS seq=7 actor=root subject=bob object=role old=agent new=supervisor client=console session=S-1 reason=promotion mac=` + testMAC,
		json: `{"time":"2026-11-25T09:14:40.123456Z","seq":7,"module":"Admin","type":"ACCESS_CHANGE","outcome":"SUCCESS","actor":"root","subject":"bob","object":"role","old":"agent","new":"supervisor","client":"console","session":"S-1","reason":"promotion","mac":"` + testMAC + `"}`,
		cef:  `CEF:0|auditkit|audit|1|ACCESS_CHANGE|Access change|7|rt=1795598080123 externalId=7 deviceFacility=Admin outcome=success suser=root duser=bob reason=promotion cs1Label=object cs1=role cs2Label=old cs2=agent cs3Label=new cs3=supervisor cs4Label=session cs4=S-1 cs5Label=client cs5=console cs6Label=mac cs6=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef flexString1Label=time flexString1=2026-11-25T09:14:40.123456Z`,
		ocsf: `{"class_uid":3001,"class_name":"Account Change","category_uid":3,"category_name":"Identity & Access Management","activity_id":99,"activity_name":"Access Change","type_uid":300199,"type_name":"Account Change: Other","severity_id":4,"severity":"High","status_id":1,"status":"Success","time":1795598080123,"time_dt":"2026-11-25T09:14:40.123456Z","status_detail":"promotion","metadata":{"version":"1.3.0","product":{"name":"audit","vendor_name":"auditkit","version":"1","feature":{"name":"Admin"}},"profiles":["datetime"],"event_code":"ACCESS_CHANGE","sequence":7},"actor":{"user":{"name":"root"}},"user":{"name":"bob"},"src_endpoint":{"name":"console"},"unmapped":{"object":"role","old":"agent","new":"supervisor","session":"S-1","mac":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}}`,
	},
	{
		name: "escapes",
		rec: Record{Seq: math.MaxUint64, Module: "Agent Server", MAC: "ab12", Event: withFields(Event{
			Time: testTime, Type: UserChange, Outcome: Succeeded, Actor: "a b", Subject: "x\u2028y\u202e", Object: "\x00\x1b\x7f",
			OldValue: "caf\xc3", NewValue: "\U000e0001", Client: "k=v", Session: `q"\`, Reason: "l1\nl2\r\tz",
		}, "note", "", "uni", "Zoë🙂", "c1", "\u0085\u00a0")},
		bcm: `2026-11-25T09:14:40.123456Z "Agent Server" USER_CHANGE SUCCESS seq=18446744073709551615 actor="a b" ` +
			`subject="x\u2028y\u202e" object="\u0000\u001b\u007f" old="caf\xc3" new="\U000e0001" client="k=v" ` +
			`session="q\"\\" reason="l1\nl2\r\tz" note="" uni=Zoë🙂 c1="\u0085\u00a0" mac=ab12`,
		json: `{"time":"2026-11-25T09:14:40.123456Z","seq":18446744073709551615,"module":"Agent Server","type":"USER_CHANGE",` +
			`"outcome":"SUCCESS","actor":"a b","subject":"x\u2028y\u202e","object":"\u0000\u001b\u007f",` +
			`"old":"caf\udcc3","new":"\udb40\udc01","client":"k=v","session":"q\"\\","reason":"l1\nl2\r\tz",` +
			`"note":"","uni":"Zoë🙂","c1":"\u0085\u00a0","mac":"ab12"}`,
		cef:     `CEF:0|auditkit|audit|1|USER_CHANGE|User change|5|rt=1795598080123 externalId=18446744073709551615 deviceFacility=Agent Server outcome=success suser=a b duser=x\u2028y\u202e reason=l1\nl2\r\tz cs1Label=object cs1=\u0000\u001b\u007f cs2Label=old cs2=caf\xc3 cs3Label=new cs3=\U000e0001 cs4Label=session cs4=q"\\ cs5Label=client cs5=k\=v cs6Label=mac cs6=ab12 flexString1Label=time flexString1=2026-11-25T09:14:40.123456Z ad.note= ad.uni=Zoë🙂 ad.c1=\u0085\u00a0`,
		ocsf:    `{"class_uid":3001,"class_name":"Account Change","category_uid":3,"category_name":"Identity & Access Management","activity_id":99,"activity_name":"User Change","type_uid":300199,"type_name":"Account Change: Other","severity_id":3,"severity":"Medium","status_id":1,"status":"Success","time":1795598080123,"time_dt":"2026-11-25T09:14:40.123456Z","status_detail":"l1\nl2\r\tz","metadata":{"version":"1.3.0","product":{"name":"audit","vendor_name":"auditkit","version":"1","feature":{"name":"Agent Server"}},"profiles":["datetime"],"event_code":"USER_CHANGE","sequence":18446744073709551615},"actor":{"user":{"name":"a b"}},"user":{"name":"x\u2028y\u202e"},"src_endpoint":{"name":"k=v"},"unmapped":{"object":"\u0000\u001b\u007f","old":"caf\udcc3","new":"\udb40\udc01","session":"q\"\\","mac":"ab12","note":"","uni":"Zoë🙂","c1":"\u0085\u00a0"}}`,
		refused: `module "Agent Server"`,
	},
	{
		name: "forging attempts",
		rec: Record{Seq: 1, Module: "m", Event: Event{
			Time: testTime, Type: Logon, Outcome: Succeeded, Actor: "bob actor=root",
			Reason: "x\n2026-11-25T09:14:40.000000Z m LOGON SUCCESS seq=2 actor=root",
			Client: `","actor":"root`,
		}},
		bcm: `2026-11-25T09:14:40.123456Z m LOGON SUCCESS seq=1 actor="bob actor=root" client="\",\"actor\":\"root" ` +
			`reason="x\n2026-11-25T09:14:40.000000Z m LOGON SUCCESS seq=2 actor=root"`,
		json: `{"time":"2026-11-25T09:14:40.123456Z","seq":1,"module":"m","type":"LOGON","outcome":"SUCCESS",` +
			`"actor":"bob actor=root","client":"\",\"actor\":\"root",` +
			`"reason":"x\n2026-11-25T09:14:40.000000Z m LOGON SUCCESS seq=2 actor=root"}`,
		cef:  `CEF:0|auditkit|audit|1|LOGON|Logon|3|rt=1795598080123 externalId=1 deviceFacility=m outcome=success suser=bob actor\=root reason=x\n2026-11-25T09:14:40.000000Z m LOGON SUCCESS seq\=2 actor\=root cs5Label=client cs5=","actor":"root flexString1Label=time flexString1=2026-11-25T09:14:40.123456Z`,
		ocsf: `{"class_uid":3002,"class_name":"Authentication","category_uid":3,"category_name":"Identity & Access Management","activity_id":1,"activity_name":"Logon","type_uid":300201,"type_name":"Authentication: Logon","severity_id":2,"severity":"Low","status_id":1,"status":"Success","time":1795598080123,"time_dt":"2026-11-25T09:14:40.123456Z","status_detail":"x\n2026-11-25T09:14:40.000000Z m LOGON SUCCESS seq=2 actor=root","metadata":{"version":"1.3.0","product":{"name":"audit","vendor_name":"auditkit","version":"1","feature":{"name":"m"}},"profiles":["datetime"],"event_code":"LOGON","sequence":1},"actor":{"user":{"name":"bob actor=root"}},"user":{"name":"bob actor=root"},"service":{"name":"m"},"src_endpoint":{"name":"\",\"actor\":\"root"}}`,
	},
	{
		name: "more extra fields than inline",
		rec: Record{Seq: 99, Module: "CallServer", Event: withFields(Event{
			Time: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), Type: NoConsentOverride, Outcome: Succeeded,
			Actor: "agent7", Subject: "customer", Object: "call-1",
		}, "a", "1", "B_2", "two words", "c.3", "", "d-4", "=", "e5", `\`, "f6", "last")},
		bcm: `9999-12-31T23:59:59.999999Z CallServer NO_CONSENT_OVERRIDE SUCCESS seq=99 actor=agent7 subject=customer ` +
			`object=call-1 a=1 B_2="two words" c.3="" d-4="=" e5="\\" f6=last`,
		json: `{"time":"9999-12-31T23:59:59.999999Z","seq":99,"module":"CallServer","type":"NO_CONSENT_OVERRIDE",` +
			`"outcome":"SUCCESS","actor":"agent7","subject":"customer","object":"call-1","a":"1","B_2":"two words",` +
			`"c.3":"","d-4":"=","e5":"\\","f6":"last"}`,
		cef:  `CEF:0|auditkit|audit|1|NO_CONSENT_OVERRIDE|No-consent override|7|rt=253402300799999 externalId=99 deviceFacility=CallServer outcome=success suser=agent7 duser=customer cs1Label=object cs1=call-1 flexString1Label=time flexString1=9999-12-31T23:59:59.999999Z ad.a=1 ad.B_2=two words ad.c.3= ad.d-4=\= ad.e5=\\ ad.f6=last`,
		ocsf: `{"class_uid":3004,"class_name":"Entity Management","category_uid":3,"category_name":"Identity & Access Management","activity_id":3,"activity_name":"Update","type_uid":300403,"type_name":"Entity Management: Update","severity_id":4,"severity":"High","status_id":1,"status":"Success","time":253402300799999,"time_dt":"9999-12-31T23:59:59.999999Z","metadata":{"version":"1.3.0","product":{"name":"audit","vendor_name":"auditkit","version":"1","feature":{"name":"CallServer"}},"profiles":["datetime"],"event_code":"NO_CONSENT_OVERRIDE","sequence":99},"actor":{"user":{"name":"agent7"}},"entity":{"name":"call-1"},"unmapped":{"subject":"customer","a":"1","B_2":"two words","c.3":"","d-4":"=","e5":"\\","f6":"last"}}`,
	},
}

// nastyStrings are field contents that must survive a round trip.
var nastyStrings = []struct{ name, s string }{
	{"empty", ""},
	{"space", " "},
	{"spaces", " a  b "},
	{"equals", "="},
	{"key=value", "a=b"},
	{"quote", `say "hi"`},
	{"lone quote", `"`},
	{"backslash", `C:\dir\`},
	{"escape lookalike", `\x41\u0041\n\"`},
	{"newline", "line1\nline2"},
	{"crlf", "a\r\nb"},
	{"cr", "\r"},
	{"tab", "a\tb"},
	{"nul", "\x00"},
	{"c0 controls", "\x01\x07\x08\x0b\x0c\x1b\x1f"},
	{"del", "\x7f"},
	{"c1 controls", "\u0080\u0085\u009b\u009f"},
	{"line separators", "a\u2028b\u2029c"},
	{"bidi override", "user\u202egnp.exe"},
	{"bidi isolates", "\u2066\u2067\u2068\u2069\u200e\u200f"},
	{"nbsp and ideographic space", "a\u00a0b\u3000c"},
	{"bom and zero width", "\ufeff\u200b\u200d"},
	{"printable unicode", "Zoë 日本語 🙂 ü"},
	{"replacement char", "\ufffd"},
	{"invalid utf8", "\xff\xfe\x80"},
	{"truncated utf8", "caf\xc3"},
	{"encoded surrogate", "\xed\xa0\x80"},
	{"overlong", "\xc0\xaf"},
	{"invalid then valid", "\xe2\x82€"},
	{"private use and tags", "\ue000\U000e0001\U000f0000\U0010ffff"},
	{"noncharacters", "\ufffe\uffff"},
	{"forged bcm record", "x\n2026-11-25T09:14:40.000000Z AgentServer LOGON SUCCESS seq=4 actor=root"},
	{"forged bcm field", "bob mac=00"},
	{"forged json member", `","mac":"00`},
	{"json surrogate lookalike", `\udcff`},
	{"long", strings.Repeat("0123456789", 30)},
}

// conformanceCases returns the records of the round trip test, in a fixed
// order: the line cases, every event type, every nasty string in every field,
// and extremes.
func conformanceCases() []formatCase {
	var cases []formatCase
	for _, c := range lineCases {
		if c.refused == "" {
			cases = append(cases, c)
		}
	}
	for typ := EventType(1); typ < numEventTypes; typ++ {
		for _, o := range []Outcome{Succeeded, Failed} {
			if typ == ChannelReject && o != Failed {
				continue
			}
			cases = append(cases, formatCase{
				name: "type " + typ.String() + " " + o.String(),
				rec: Record{Seq: uint64(typ), Module: "AgentServer", Event: Event{
					Time: testTime.Add(time.Duration(typ) * time.Second), Type: typ, Outcome: o,
					Actor: "alice", Subject: "bob", Client: "10.1.2.3:5060", Object: "obj",
				}},
			})
		}
	}
	for _, n := range nastyStrings {
		s := n.s
		if s == "" {
			// A DATA_READ record needs an actor and a subject.
			continue
		}
		cases = append(cases,
			formatCase{
				name: "all fields " + n.name,
				rec: Record{Seq: 5, Module: "m", Event: withFields(Event{
					Time: testTime, Type: DataRead, Outcome: Failed, Actor: s, Subject: s, Object: s,
					OldValue: s, NewValue: s, Client: s, Session: s, Reason: s,
				}, "x", s, "y", s)},
			},
			formatCase{
				name: "one field " + n.name,
				rec: Record{Seq: 6, Module: "m", Event: Event{
					Time: testTime, Type: SystemConfigChange, Outcome: Succeeded, Object: "setting", Reason: s,
				}},
			},
		)
	}
	many := Event{Time: testTime, Type: ServerStop, Outcome: Succeeded}
	for i := range 12 {
		many.AddField("field_"+strconv.Itoa(i), strings.Repeat("v", i))
	}
	cases = append(cases,
		formatCase{name: "twelve extra fields", rec: Record{Seq: 12, Module: "m", Event: many}},
		formatCase{name: "longest key", rec: Record{Seq: 1, Module: "m", Event: withFields(Event{Time: testTime, Type: ServerStart, Outcome: Succeeded},
			strings.Repeat("k", 64), "v")}},
		formatCase{name: "max seq", rec: Record{Seq: math.MaxUint64, Module: "m", Event: Event{Time: testTime, Type: ServerStart, Outcome: Succeeded}}},
		formatCase{name: "year 0", rec: Record{Seq: 1, Module: "m", Event: Event{
			Time: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), Type: ServerStart, Outcome: Succeeded}}},
		formatCase{name: "before unix epoch", rec: Record{Seq: 1, Module: "m", Event: Event{
			Time: time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), Type: ServerStart, Outcome: Succeeded}}},
		formatCase{name: "leap day", rec: Record{Seq: 1, Module: "m", Event: Event{
			Time: time.Date(2028, 2, 29, 12, 0, 0, 1000, time.UTC), Type: ServerStart, Outcome: Succeeded}}},
	)
	return cases
}

// formats lists the built-in formats for the tests.
var formats = []struct {
	name  string
	f     Formatter
	parse func([]byte) (Record, error)
	want  func(formatCase) string
}{
	{FormatBCM, bcmFormatter{}, ParseBCM, func(c formatCase) string { return c.bcm }},
	{FormatJSON, jsonFormatter{}, ParseJSON, func(c formatCase) string { return c.json }},
	{FormatCEF, defaultCEF, ParseCEF, func(c formatCase) string { return c.cef }},
	{FormatOCSF, defaultOCSF, ParseOCSF, func(c formatCase) string { return c.ocsf }},
}

func TestFormatConformance(t *testing.T) {
	for _, ft := range formats {
		t.Run(ft.name, func(t *testing.T) { testFormatter(t, ft.f, ft.parse) })
	}
}

// testFormatter checks that f writes every conformance record as one line
// that parse reads back exactly.
func testFormatter(t *testing.T, f Formatter, parse func([]byte) (Record, error)) {
	t.Helper()
	_, isJSON := f.(jsonFormatter)
	p, ok := f.(Parser)
	require.True(t, ok, "built-in formatter implements Parser")
	for _, c := range conformanceCases() {
		t.Run(c.name, func(t *testing.T) {
			const prefix = "kept:"
			out, err := f.Append([]byte(prefix), &c.rec)
			require.NoError(t, err)
			require.True(t, bytes.HasPrefix(out, []byte(prefix)), "Append keeps dst")
			line := out[len(prefix):]
			require.NotContains(t, string(line), "\n")
			require.NotContains(t, string(line), "\r")
			require.True(t, utf8.Valid(line), "line is valid UTF-8: %q", line)

			got, err := parse(line)
			require.NoError(t, err, "line %q", line)
			require.Equal(t, c.rec, got, "line %q", line)
			got, err = p.Parse(line)
			require.NoError(t, err)
			require.Equal(t, c.rec, got)
			got, err = ParseRecord(append(line, '\r', '\n'))
			require.NoError(t, err)
			require.Equal(t, c.rec, got)

			again, err := f.Append(nil, &got)
			require.NoError(t, err)
			require.Equal(t, string(line), string(again), "formatting is deterministic")

			if isJSON {
				checkJSONLine(t, line, &c.rec)
			}
			if _, ok := f.(*OCSFFormatter); ok {
				require.True(t, json.Valid(line), "valid JSON: %q", line)
			}
		})
	}
}

// validStrings reports whether every string of r is valid UTF-8.
func validStrings(r *Record) bool {
	e := &r.Event
	for _, s := range []string{r.Module, r.MAC, e.Actor, e.Subject, e.Object, e.OldValue, e.NewValue, e.Client, e.Session, e.Reason} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	for i := range e.NumFields() {
		if !utf8.ValidString(e.Field(i).Value) {
			return false
		}
	}
	return true
}

// checkJSONLine checks that line is valid JSON and, when the strings of r
// are valid UTF-8, that encoding/json reads the values of r from it.
func checkJSONLine(t *testing.T, line []byte, r *Record) {
	t.Helper()
	require.True(t, json.Valid(line), "valid JSON: %q", line)
	if !validStrings(r) {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var got map[string]any
	require.NoError(t, dec.Decode(&got))
	e := &r.Event
	want := map[string]any{
		"time":    e.Time.Format("2006-01-02T15:04:05.000000Z07:00"),
		"seq":     json.Number(strconv.FormatUint(r.Seq, 10)),
		"module":  r.Module,
		"type":    e.Type.String(),
		"outcome": e.Outcome.String(),
	}
	for i, v := range standardValues(e) {
		if *v != "" {
			want[standardKeys[i]] = *v
		}
	}
	for i := range e.NumFields() {
		want[e.Field(i).Key] = e.Field(i).Value
	}
	if r.MAC != "" {
		want["mac"] = r.MAC
	}
	require.Equal(t, want, got)
}

func TestFormatLines(t *testing.T) {
	for _, ft := range formats {
		for _, c := range lineCases {
			t.Run(ft.name+"/"+c.name, func(t *testing.T) {
				want := ft.want(c)
				out, err := ft.f.Append(nil, &c.rec)
				require.NoError(t, err)
				require.Equal(t, want, string(out))
				got, err := ft.parse([]byte(want))
				if c.refused != "" {
					require.ErrorIs(t, err, ErrBadRecord)
					require.Contains(t, err.Error(), c.refused)
					return
				}
				require.NoError(t, err)
				require.Equal(t, c.rec, got)
			})
		}
	}
}

// TestFormatTimeUTC checks that a time is written in UTC truncated to the
// microsecond, and that the parsers accept any RFC 3339 time.
func TestFormatTimeUTC(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	in := Record{Seq: 1, Module: "m", Event: Event{Time: time.Date(2026, 11, 25, 10, 14, 40, 123456789, cet), Type: ServerStart, Outcome: Succeeded}}
	want := Record{Seq: 1, Module: "m", Event: Event{Time: testTime, Type: ServerStart, Outcome: Succeeded}}
	bcm, err := bcmFormatter{}.Append(nil, &in)
	require.NoError(t, err)
	require.Equal(t, `2026-11-25T09:14:40.123456Z m SERVER_START SUCCESS seq=1`, string(bcm))
	js, err := jsonFormatter{}.Append(nil, &in)
	require.NoError(t, err)
	require.Equal(t, `{"time":"2026-11-25T09:14:40.123456Z","seq":1,"module":"m","type":"SERVER_START","outcome":"SUCCESS"}`, string(js))
	got, err := ParseBCM(bcm)
	require.NoError(t, err)
	require.Equal(t, want, got)
	got, err = ParseJSON(js)
	require.NoError(t, err)
	require.Equal(t, want, got)

	// A time read from the monotonic clock loses its reading.
	now := time.Now()
	r := Record{Seq: 1, Module: "m", Event: Event{Time: now, Type: ServerStart, Outcome: Succeeded}}
	out, err := bcmFormatter{}.Append(nil, &r)
	require.NoError(t, err)
	got, err = ParseBCM(out)
	require.NoError(t, err)
	require.Equal(t, now.UTC().Truncate(time.Microsecond), got.Event.Time)

	// The parsers accept only the form the formatters write.
	for _, in := range []string{
		"2026-11-25T09:14:40Z",
		"2026-11-25T09:14:40.1Z",
		"2026-11-25T09:14:40.123456789Z",
		"2026-11-25T10:14:40.123456+01:00",
		"2026-11-25T09:14:40.123456+00:00",
	} {
		_, err := ParseBCM([]byte(in + " m SERVER_START SUCCESS seq=1"))
		require.ErrorIs(t, err, ErrBadRecord, in)
		require.Contains(t, err.Error(), "not as the formatter writes this record", in)
		_, err = ParseJSON([]byte(`{"time":"` + in + `","seq":1,"module":"m","type":"SERVER_START","outcome":"SUCCESS"}`))
		require.ErrorIs(t, err, ErrBadRecord, in)
		require.Contains(t, err.Error(), "not as the formatter writes this record", in)
	}
}

func TestFormatGolden(t *testing.T) {
	for _, ft := range formats {
		t.Run(ft.name, func(t *testing.T) {
			cases := conformanceCases()
			var buf []byte
			for _, c := range cases {
				var err error
				buf, err = ft.f.Append(buf, &c.rec)
				require.NoError(t, err, c.name)
				buf = append(buf, '\n')
			}
			path := filepath.Join("testdata", strings.ToLower(ft.name)+".golden")
			if *updateGolden {
				require.NoError(t, os.WriteFile(path, buf, 0o644))
			}
			golden, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -update to create the golden file")
			require.Equal(t, string(golden), string(buf), "run go test -update after a deliberate format change")

			// Every golden line reads back, through ParseRecord too.
			lines := bytes.SplitAfter(golden, []byte("\n"))
			require.Len(t, lines, len(cases)+1)
			for i, c := range cases {
				got, err := ParseRecord(lines[i])
				require.NoError(t, err, c.name)
				require.Equal(t, c.rec, got, c.name)
			}
		})
	}
}

func TestParseRecordDispatch(t *testing.T) {
	c := lineCases[0]
	for _, line := range []string{c.bcm, c.json} {
		for _, end := range []string{"", "\n", "\r\n"} {
			got, err := ParseRecord([]byte(line + end))
			require.NoError(t, err, "%q", line+end)
			require.Equal(t, c.rec, got)
		}
	}
	_, err := ParseRecord([]byte(c.bcm + "\n\n"))
	require.ErrorIs(t, err, ErrBadRecord)
	_, err = ParseRecord([]byte(c.json + "\r"))
	require.ErrorIs(t, err, ErrBadRecord)
	_, err = ParseRecord(nil)
	require.ErrorIs(t, err, ErrBadRecord)
	_, err = ParseRecord([]byte("{"))
	require.ErrorIs(t, err, ErrBadRecord)
	require.Contains(t, err.Error(), "json")
}

func TestFormatAppendErrors(t *testing.T) {
	valid := func() Record {
		return Record{Seq: 1, Module: "m", Event: Event{Time: testTime, Type: Logon, Outcome: Succeeded, Actor: "a"}}
	}
	for _, tc := range []struct {
		name   string
		change func(*Record)
		want   string
	}{
		{"zero type", func(r *Record) { r.Event.Type = 0 }, "event type 0"},
		{"unknown type", func(r *Record) { r.Event.Type = numEventTypes }, "unknown event type"},
		{"unknown outcome", func(r *Record) { r.Event.Outcome = 3 }, "field outcome has unknown value 3"},
		{"unset outcome", func(r *Record) { r.Event.Outcome = 0 }, "field outcome is required"},
		{"empty key", func(r *Record) { r.Event.AddField("", "v") }, "empty key"},
		{"key with space", func(r *Record) { r.Event.AddField("a b", "v") }, "not allowed"},
		{"key with equals", func(r *Record) { r.Event.AddField("a=b", "v") }, "not allowed"},
		{"key with quote", func(r *Record) { r.Event.AddField(`a"`, "v") }, "not allowed"},
		{"non-ASCII key", func(r *Record) { r.Event.AddField("clé", "v") }, "not allowed"},
		{"standard key", func(r *Record) { r.Event.AddField("actor", "root") }, "standard field"},
		{"standard key other case", func(r *Record) { r.Event.AddField("SEQ", "2") }, "standard field"},
		{"mac key", func(r *Record) { r.Event.AddField("mac", "00") }, "standard field"},
		{"long key", func(r *Record) { r.Event.AddField(strings.Repeat("k", 65), "v") }, "longer than 64"},
		{"fifth key bad", func(r *Record) {
			for _, k := range []string{"a", "b", "c", "d", "e f"} {
				r.Event.AddField(k, "v")
			}
		}, "extra field 4"},
		{"duplicate key", func(r *Record) { r.Event.AddField("k", "1"); r.Event.AddField("k", "2") }, `"k" repeats extra field 0`},
		{"year 10000", func(r *Record) { r.Event.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "time"},
		{"year -1", func(r *Record) { r.Event.Time = time.Date(-1, 12, 31, 23, 0, 0, 0, time.UTC) }, "time"},
		{"year 10000 in UTC", func(r *Record) {
			r.Event.Time = time.Date(9999, 12, 31, 23, 30, 0, 0, time.FixedZone("W", -3600))
		}, "time"},
	} {
		for _, ft := range formats {
			t.Run(ft.name+"/"+tc.name, func(t *testing.T) {
				r := valid()
				tc.change(&r)
				dst := []byte("kept")
				out, err := ft.f.Append(dst, &r)
				require.ErrorIs(t, err, ErrInvalidEvent)
				require.Contains(t, err.Error(), tc.want)
				require.True(t, strings.HasPrefix(err.Error(), "audit: "), err.Error())
				require.Equal(t, "kept", string(out), "nothing appended on error")
			})
		}
	}
}

// bcmBase is a valid BCM line that the error cases change.
const bcmBase = `2026-11-25T09:14:40.123456Z AgentServer LOGON FAILURE seq=3`

// parseErrorCase is a line a parser must refuse, and a part of the message.
type parseErrorCase struct{ name, line, want string }

var bcmErrorCases = []parseErrorCase{
	{"empty", "", "byte 0: empty line"},
	{"leading space", " " + bcmBase, "byte 0: line starts with a space"},
	{"bad time", "2026-11-25 AgentServer LOGON FAILURE seq=3", "byte 0: time"},
	{"time out of range", "0000-01-01T00:00:00+01:00 m LOGON FAILURE seq=3", "outside the years"},
	{"only time", "2026-11-25T09:14:40.123456Z", "line ends before module"},
	{"no type", "2026-11-25T09:14:40.123456Z m", "line ends before event type"},
	{"unknown type", "2026-11-25T09:14:40.123456Z m LOGIN FAILURE seq=3", `byte 30: unknown event type "LOGIN"`},
	{"lower-case type", "2026-11-25T09:14:40.123456Z m logon FAILURE seq=3", "unknown event type"},
	{"bad outcome", "2026-11-25T09:14:40.123456Z m LOGON FAILED seq=3", `outcome "FAILED"`},
	{"no seq", "2026-11-25T09:14:40.123456Z m LOGON FAILURE", "line ends before seq"},
	{"seq not first", "2026-11-25T09:14:40.123456Z m LOGON FAILURE actor=a seq=3", "want seq=N"},
	{"seq leading zero", "2026-11-25T09:14:40.123456Z m LOGON FAILURE seq=03", `seq "03"`},
	{"seq negative", "2026-11-25T09:14:40.123456Z m LOGON FAILURE seq=-1", `byte 48: byte '-' not allowed in seq`},
	{"seq empty", "2026-11-25T09:14:40.123456Z m LOGON FAILURE seq=", `seq ""`},
	{"seq overflow", "2026-11-25T09:14:40.123456Z m LOGON FAILURE seq=18446744073709551616", "fits 64 bits"},
	{"seq twice", bcmBase + " seq=4", `duplicate key "seq"`},
	{"module twice", bcmBase + " module=x", `duplicate key "module"`},
	{"double space", "2026-11-25T09:14:40.123456Z  m LOGON FAILURE seq=3", "byte 28: double space"},
	{"double space later", bcmBase + "  actor=a", "double space"},
	{"trailing space", bcmBase + " ", "trailing space"},
	{"duplicate actor", bcmBase + " actor=alice actor=root", `byte 72: duplicate key "actor"`},
	{"out of order", bcmBase + " client=c actor=a", `key "actor" out of order`},
	{"standard after extra", bcmBase + " x=1 actor=a", `standard key "actor" after extra fields`},
	{"duplicate extra", bcmBase + " x=1 y=2 x=3", `duplicate key "x"`},
	{"key after mac", bcmBase + " mac=00 x=1", `key "x" after mac`},
	{"duplicate mac", bcmBase + " mac=00 mac=01", `duplicate key "mac"`},
	{"standard key other case", bcmBase + " Actor=root", `key "Actor" is a standard field`},
	{"key too long", bcmBase + " " + strings.Repeat("k", 65) + "=v", "longer than 64"},
	{"bad key byte", bcmBase + " ac!tor=x", `byte 62: byte '!' not allowed in key`},
	{"no equals", bcmBase + " actor", `"actor" without '='`},
	{"empty key", bcmBase + " =x", "want key=value"},
	{"empty value", bcmBase + " actor=", "empty value"},
	{"empty value mid line", bcmBase + " actor= x=1", "empty value"},
	{"empty standard field", bcmBase + ` actor=""`, "empty actor"},
	{"empty mac", bcmBase + ` mac=""`, "empty mac"},
	{"equals in bare value", bcmBase + " actor=a=b", `byte '=' not allowed in an unquoted value`},
	{"quote in bare value", bcmBase + ` actor=a"b"`, `byte '"' not allowed`},
	{"backslash in bare value", bcmBase + ` actor=a\b`, `byte '\\' not allowed`},
	{"newline in bare value", bcmBase + " actor=a\nx=1", `byte '\n' not allowed`},
	{"embedded record", bcmBase + "\n" + bcmBase, `byte 59: byte '\n' not allowed in seq`},
	{"cr in bare value", bcmBase + " actor=a\r", `byte '\r' not allowed`},
	{"tab in bare value", bcmBase + " actor=a\tb", `byte '\t' not allowed`},
	{"bidi in bare value", bcmBase + " actor=a\u202eb", "rune U+202E not allowed"},
	{"invalid UTF-8 in bare value", bcmBase + " actor=a\xff", "invalid UTF-8"},
	{"unterminated quote", bcmBase + ` reason="bad password`, "unterminated quoted value"},
	{"unterminated escape", bcmBase + ` reason="bad\`, "unterminated quoted value"},
	{"byte after quote", bcmBase + ` reason="bad"x`, "after closing quote"},
	{"unknown escape", bcmBase + ` reason="\q"`, `unknown escape \q`},
	{"slash escape", bcmBase + ` reason="\/"`, `unknown escape \/`},
	{"raw newline in quotes", bcmBase + " reason=\"a\nb\"", `byte '\n' must be escaped`},
	{"raw cr in quotes", bcmBase + " reason=\"a\rb\"", `byte '\r' must be escaped`},
	{"raw tab in quotes", bcmBase + " reason=\"a\tb\"", `byte '\t' must be escaped`},
	{"raw DEL in quotes", bcmBase + " reason=\"\x7f\"", `byte '\x7f' must be escaped`},
	{"raw bidi in quotes", bcmBase + " reason=\"\u202e\"", "rune U+202E must be escaped"},
	{"raw line separator in quotes", bcmBase + " reason=\"\u2028\"", "rune U+2028 must be escaped"},
	{"raw invalid UTF-8 in quotes", bcmBase + " reason=\"\xc3\"", "invalid UTF-8"},
	{"upper-case hex", bcmBase + ` reason="\u001B"`, `\u wants 4 lower-case hex digits`},
	{"short hex", bcmBase + ` reason="\u01"`, `\u wants 4 lower-case hex digits`},
	{"escaped printable", bcmBase + ` reason="\u0041"`, "printable rune U+0041"},
	{"escaped quote", bcmBase + ` reason="\u0022"`, "printable rune U+0022"},
	{"escaped newline as u", bcmBase + ` reason="\u000a"`, `wants \n, \r or \t`},
	{"long escape of BMP rune", bcmBase + ` reason="\U0000001b"`, `\U escapes U+001B`},
	{"escaped surrogate", bcmBase + ` reason="\ud800"`, "not a Unicode scalar value"},
	{"escape past max rune", bcmBase + ` reason="\U00110000"`, "not a Unicode scalar value"},
	{"x escape of ASCII", bcmBase + ` reason="\x41"`, `\x41 escapes an ASCII byte`},
	{"x escapes of valid UTF-8", bcmBase + ` reason="\xc3\xa9"`, `\x escapes of bytes that form valid UTF-8`},
	{"x escape upper case", bcmBase + ` reason="\xFF"`, `\x wants 2 lower-case hex digits`},
}

func TestParseBCMErrors(t *testing.T) {
	for _, tc := range bcmErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBCM([]byte(tc.line))
			require.ErrorIs(t, err, ErrBadRecord)
			require.Contains(t, err.Error(), tc.want)
			require.True(t, strings.HasPrefix(err.Error(), "audit: malformed record: bcm byte "), err.Error())
		})
	}
}

// jsonBase is the start of a valid JSON line that the error cases complete.
const jsonBase = `{"time":"2026-11-25T09:14:40.123456Z","seq":3,"module":"m","type":"LOGON","outcome":"FAILURE"`

var jsonErrorCases = []parseErrorCase{
	{"empty", "", "byte 0: empty line"},
	{"not an object", `["time"]`, "byte 0: want '{'"},
	{"leading space", ` {}`, "byte 0: want '{'"},
	{"open brace only", `{`, "line ends before '}' or a key"},
	{"empty object", `{}`, `missing key "time"`},
	{"missing seq", `{"time":"2026-11-25T09:14:40.123456Z","module":"m","type":"LOGON","outcome":"FAILURE"}`, `missing key "seq"`},
	{"missing module", `{"time":"2026-11-25T09:14:40.123456Z","seq":1,"type":"LOGON","outcome":"FAILURE"}`, `missing key "module"`},
	{"missing outcome", `{"time":"2026-11-25T09:14:40.123456Z","seq":1,"module":"m","type":"LOGON"}`, `missing key "outcome"`},
	{"unterminated object", jsonBase, "line ends before ',' or '}'"},
	{"trailing comma", jsonBase + `,}`, "want a key string"},
	{"missing colon", jsonBase + `,"actor" "a"}`, "want ':' after key"},
	{"missing comma", jsonBase + ` "actor":"a"}`, "want ',' or '}'"},
	{"garbage after object", jsonBase + `}x`, `unexpected 'x' after the object`},
	{"second object", jsonBase + `}{}`, `unexpected '{' after the object`},
	{"trailing newline", jsonBase + "}\n", "newline in record"},
	{"newline between members", jsonBase + ",\n\"actor\":\"a\"}", "newline in record"},
	{"cr between members", jsonBase + ",\r\"actor\":\"a\"}", "newline in record"},
	{"raw newline in string", jsonBase + ",\"actor\":\"a\nb\"}", "newline in record"},
	{"raw control in string", jsonBase + ",\"actor\":\"a\x01b\"}", "control byte '\\x01' must be escaped"},
	{"raw tab in string", jsonBase + ",\"actor\":\"a\tb\"}", "control byte '\\t' must be escaped"},
	{"invalid UTF-8", jsonBase + ",\"actor\":\"a\xffb\"}", "invalid UTF-8"},
	{"duplicate actor", jsonBase + `,"actor":"alice","actor":"root"}`, `duplicate key "actor"`},
	{"duplicate time", jsonBase + `,"time":"2026-11-25T09:14:40.123456Z"}`, `duplicate key "time"`},
	{"duplicate seq", jsonBase + `,"seq":4}`, `duplicate key "seq"`},
	{"duplicate extra", jsonBase + `,"x":"1","x":"2"}`, `duplicate key "x"`},
	{"duplicate mac", jsonBase + `,"mac":"00","mac":"01"}`, `duplicate key "mac"`},
	{"escaped duplicate", jsonBase + `,"actor":"a","\u0061ctor":"b"}`, `duplicate key "actor"`},
	{"standard key other case", jsonBase + `,"Actor":"root"}`, `key "Actor" is a standard field`},
	{"bad extra key", jsonBase + `,"a b":"1"}`, "not allowed"},
	{"empty extra key", jsonBase + `,"":"1"}`, "empty key"},
	{"empty standard field", jsonBase + `,"actor":""}`, "empty actor"},
	{"empty mac", jsonBase + `,"mac":""}`, "empty mac"},
	{"seq string", `{"seq":"3"}`, "seq must be a non-negative integer"},
	{"seq negative", `{"seq":-3}`, "seq must be a non-negative integer"},
	{"seq fraction", `{"seq":3.0}`, "without fraction or exponent"},
	{"seq exponent", `{"seq":3e2}`, "without fraction or exponent"},
	{"seq leading zero", `{"seq":03}`, "seq 03"},
	{"seq overflow", `{"seq":18446744073709551616}`, "fits 64 bits"},
	{"seq null", `{"seq":null}`, "seq must be a non-negative integer"},
	{"number value", jsonBase + `,"actor":1}`, `value of "actor" must be a string`},
	{"null value", jsonBase + `,"x":null}`, `value of "x" must be a string`},
	{"object value", jsonBase + `,"x":{}}`, `value of "x" must be a string`},
	{"array value", jsonBase + `,"x":[]}`, `value of "x" must be a string`},
	{"bool value", jsonBase + `,"x":true}`, `value of "x" must be a string`},
	{"unknown type", `{"type":"LOGIN"}`, `unknown event type "LOGIN"`},
	{"lower-case type", `{"type":"logon"}`, `unknown event type "logon"`},
	{"bad outcome", `{"outcome":"OK"}`, `outcome "OK"`},
	{"bad time", `{"time":"yesterday"}`, "time"},
	{"time out of range", `{"time":"9999-12-31T23:00:00-01:00"}`, "outside the years"},
	{"unterminated string", `{"time":"2026`, "byte 8: unterminated string"},
	{"unterminated escape", `{"x":"\`, "unterminated string"},
	{"unknown escape", jsonBase + `,"x":"\q"}`, `unknown escape \q`},
	{"short unicode escape", jsonBase + `,"x":"\u12"}`, `\u wants 4 hex digits`},
	{"bad hex", jsonBase + `,"x":"\u12g4"}`, `\u wants 4 hex digits`},
	{"lone high surrogate", jsonBase + `,"x":"\ud83d"}`, `lone high surrogate \ud83d`},
	{"high surrogate then rune", jsonBase + `,"x":"\ud83d\u0041"}`, "lone high surrogate"},
	{"lone low surrogate", jsonBase + `,"x":"\ude00"}`, `lone low surrogate \ude00`},
	{"low surrogate of ASCII byte", jsonBase + `,"x":"\udc41"}`, `lone low surrogate \udc41`},
	{"unquoted key", `{time:"x"}`, "want a key string"},
}

func TestParseJSONErrors(t *testing.T) {
	for _, tc := range jsonErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJSON([]byte(tc.line))
			require.ErrorIs(t, err, ErrBadRecord)
			require.Contains(t, err.Error(), tc.want)
			require.True(t, strings.HasPrefix(err.Error(), "audit: malformed record: json byte "), err.Error())
		})
	}
}

// TestParseStrict checks that the parsers refuse what the formatters never
// write, though it reads as a record: a parser that checks evidence accepts
// only the writer's lines.
func TestParseStrict(t *testing.T) {
	// The canonical lines of this record are accepted.
	rec := Record{Seq: 3, Module: "m", Event: withFields(Event{
		Time: testTime, Type: Logon, Outcome: Failed, Actor: "alice", Reason: "é/\b🙂",
	}, "b", "1", "a", "2")}
	bcm := `2026-11-25T09:14:40.123456Z m LOGON FAILURE seq=3 actor=alice reason="é/\u0008🙂" b=1 a=2`
	json := `{"time":"2026-11-25T09:14:40.123456Z","seq":3,"module":"m","type":"LOGON","outcome":"FAILURE","actor":"alice","reason":"é/\u0008🙂","b":"1","a":"2"}`
	got, err := ParseBCM([]byte(bcm))
	require.NoError(t, err)
	require.Equal(t, rec, got)
	got, err = ParseJSON([]byte(json))
	require.NoError(t, err)
	require.Equal(t, rec, got)

	for _, tc := range []struct {
		name, line, want string
	}{
		{"bcm quoted module", `2026-11-25T09:14:40.123456Z "m" LOGON FAILURE seq=3 actor=alice reason="é/\u0008🙂" b=1 a=2`, "byte 28: not as the formatter"},
		{"bcm quoted value", `2026-11-25T09:14:40.123456Z m LOGON FAILURE seq=3 actor="alice" reason="é/\u0008🙂" b=1 a=2`, "byte 56: not as the formatter"},
		{"bcm quoted extra", `2026-11-25T09:14:40.123456Z m LOGON FAILURE seq=3 actor=alice reason="é/\u0008🙂" b="1" a=2`, "not as the formatter"},
		{"bcm x escapes", `2026-11-25T09:14:40.123456Z m LOGON FAILURE seq=3 actor=alice reason="\u007f" b=1 a=2`, ""},
		{"json spaces", `{ "time":"2026-11-25T09:14:40.123456Z","seq":3,"module":"m","type":"LOGON","outcome":"FAILURE","actor":"alice","reason":"é/\u0008🙂","b":"1","a":"2"}`, "byte 1: not as the formatter"},
		{"json tab", "{\"time\":\t\"2026-11-25T09:14:40.123456Z\",\"seq\":3,\"module\":\"m\",\"type\":\"LOGON\",\"outcome\":\"FAILURE\",\"actor\":\"alice\",\"reason\":\"é/\\u0008🙂\",\"b\":\"1\",\"a\":\"2\"}", "byte 8: not as the formatter"},
		{"json member order", `{"seq":3,"time":"2026-11-25T09:14:40.123456Z","module":"m","type":"LOGON","outcome":"FAILURE","actor":"alice","reason":"é/\u0008🙂","b":"1","a":"2"}`, "byte 2: not as the formatter"},
		{"json extra order", `{"time":"2026-11-25T09:14:40.123456Z","seq":3,"module":"m","type":"LOGON","outcome":"FAILURE","actor":"alice","reason":"é/\u0008🙂","a":"2","b":"1"}`, ""},
		{"json escaped letter", `{"time":"2026-11-25T09:14:40.123456Z","seq":3,"module":"m","type":"LOGON","outcome":"FAILURE","actor":"\u0061lice","reason":"é/\u0008🙂","b":"1","a":"2"}`, "not as the formatter"},
		{"json escaped slash", `{"time":"2026-11-25T09:14:40.123456Z","seq":3,"module":"m","type":"LOGON","outcome":"FAILURE","actor":"alice","reason":"é\/\u0008🙂","b":"1","a":"2"}`, "not as the formatter"},
		{"json short escape", `{"time":"2026-11-25T09:14:40.123456Z","seq":3,"module":"m","type":"LOGON","outcome":"FAILURE","actor":"alice","reason":"é/\b🙂","b":"1","a":"2"}`, "not as the formatter"},
		{"json upper-case hex", `{"time":"2026-11-25T09:14:40.123456Z","seq":3,"module":"m","type":"LOGON","outcome":"FAILURE","actor":"alice","reason":"\u00E9/\u0008🙂","b":"1","a":"2"}`, "not as the formatter"},
		{"json surrogate pair", `{"time":"2026-11-25T09:14:40.123456Z","seq":3,"module":"m","type":"LOGON","outcome":"FAILURE","actor":"alice","reason":"é/\u0008\ud83d\ude42","b":"1","a":"2"}`, "not as the formatter"},
		{"json raw DEL", "{\"time\":\"2026-11-25T09:14:40.123456Z\",\"seq\":3,\"module\":\"m\",\"type\":\"LOGON\",\"outcome\":\"FAILURE\",\"actor\":\"alice\",\"reason\":\"\x7f\"}", "not as the formatter"},
		{"json raw line separator", "{\"time\":\"2026-11-25T09:14:40.123456Z\",\"seq\":3,\"module\":\"m\",\"type\":\"LOGON\",\"outcome\":\"FAILURE\",\"actor\":\"alice\",\"reason\":\"\u2028\"}", "not as the formatter"},
		{"json space at end", json[:len(json)-1] + " }", "not as the formatter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRecord([]byte(tc.line))
			if tc.want == "" {
				// A valid line that the case changed into another valid line.
				if err == nil {
					return
				}
				tc.want = "not as the formatter"
			}
			require.ErrorIs(t, err, ErrBadRecord)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// unwrittenCases are records that the formatters write but a Logger never
// does, and the reason the parsers give for refusing them.
var unwrittenCases = []struct {
	name   string
	change func(*Record)
	want   string
}{
	{"seq 0", func(r *Record) { r.Seq = 0 }, "seq 0: sequence numbers start at 1"},
	{"empty module", func(r *Record) { r.Module = "" }, `module "": want 1 to 64`},
	{"module with space", func(r *Record) { r.Module = "Agent Server" }, `module "Agent Server"`},
	{"module with dot", func(r *Record) { r.Module = "a.b" }, `module "a.b"`},
	{"long module", func(r *Record) { r.Module = strings.Repeat("m", 65) }, "want 1 to 64"},
	{"short mac", func(r *Record) { r.MAC = "ab12" }, `mac "ab12": want 64 lower-case hex digits`},
	{"long mac", func(r *Record) { r.MAC = testMAC + "00" }, "want 64 lower-case hex digits"},
	{"upper-case mac", func(r *Record) { r.MAC = strings.ToUpper(testMAC) }, "want 64 lower-case hex digits"},
	{"non-hex mac", func(r *Record) { r.MAC = strings.Repeat("zz", 32) }, "want 64 lower-case hex digits"},
	{"channel reject success", func(r *Record) {
		r.Event = Event{Time: testTime, Type: ChannelReject, Outcome: Succeeded, Client: "10.0.0.1"}
	}, "CHANNEL_REJECT with outcome SUCCESS: a rejected channel is always a FAILURE"},
	{"logon without actor", func(r *Record) { r.Event.Actor = "" }, "LOGON record without actor, which the type requires"},
	{"data read without subject", func(r *Record) {
		r.Event = Event{Time: testTime, Type: DataRead, Outcome: Failed, Actor: "a"}
	}, "DATA_READ record without subject"},
	{"config change without object", func(r *Record) {
		r.Event = Event{Time: testTime, Type: SystemConfigChange, Outcome: Succeeded, Actor: "a"}
	}, "SYSTEM_CONFIG_CHANGE record without object"},
	{"channel open without client", func(r *Record) {
		r.Event = Event{Time: testTime, Type: ChannelOpen, Outcome: Succeeded, Actor: "a"}
	}, "CHANNEL_OPEN record without client"},
	{"zero time", func(r *Record) { r.Event.Time = time.Time{} }, "zero time"},
}

// TestParseRefusesUnwritten checks that every parser refuses a record that a
// Logger never writes, naming the reason.
func TestParseRefusesUnwritten(t *testing.T) {
	for _, ft := range formats {
		for _, tc := range unwrittenCases {
			t.Run(ft.name+"/"+tc.name, func(t *testing.T) {
				r := benchRecord()
				tc.change(&r)
				line, err := ft.f.Append(nil, &r)
				require.NoError(t, err, "the formatter writes it")
				_, err = ft.parse(line)
				require.ErrorIs(t, err, ErrBadRecord, "line %q", line)
				require.Contains(t, err.Error(), tc.want)
				_, err = ParseRecord(line)
				require.ErrorIs(t, err, ErrBadRecord)
			})
		}
	}
}

// TestParseRejectsForgery checks that a line cannot carry a second record or
// hide a second value of a field.
func TestParseRejectsForgery(t *testing.T) {
	c := lineCases[0]
	for _, line := range []string{
		c.bcm + " actor=root",
		strings.Replace(c.bcm, "actor=alice", "actor=alice actor=root", 1),
		strings.Replace(c.bcm, " client=", "\n"+c.bcm+" client=", 1),
		c.bcm + "\n" + c.bcm,
		c.json[:len(c.json)-1] + `,"actor":"root"}`,
		strings.Replace(c.json, `"actor":"alice"`, `"actor":"root","actor":"alice"`, 1),
		c.json + "\n" + c.json,
		strings.Replace(c.json, `"client"`, "\n\"client\"", 1),
	} {
		_, err := ParseRecord([]byte(line))
		require.ErrorIs(t, err, ErrBadRecord, "%q", line)
	}
}

func TestFormatStandardKeys(t *testing.T) {
	for i, k := range standardKeys {
		require.Equal(t, i, standardIndex(k))
	}
	require.Equal(t, -1, standardIndex("mac"))
	require.Equal(t, -1, standardIndex("Actor"))
	e := Event{Actor: "1", Subject: "2", Object: "3", OldValue: "4", NewValue: "5", Client: "6", Session: "7", Reason: "8"}
	for i, v := range standardValues(&e) {
		require.Equal(t, strconv.Itoa(i+1), *v)
	}
}

// TestFormatScan checks the word-at-a-time scans against the byte tables.
func TestFormatScan(t *testing.T) {
	naive := func(s string, table *[256]bool) int {
		i := 0
		for i < len(s) && table[s[i]] {
			i++
		}
		return i
	}
	base := []byte("abcdefghijklmnopqrstuvwxy")
	for n := 0; n <= len(base); n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				b := append([]byte(nil), base[:n]...)
				b[pos] = byte(c)
				s := string(b)
				require.Equal(t, naive(s, &plainASCII), plainLen(s), "plainLen(%q)", s)
				require.Equal(t, naive(s, &bareASCII), bareLen(s), "bareLen(%q)", s)
			}
		}
	}
}

func TestFormatZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, ft := range formats {
		for _, c := range []formatCase{benchCase(), lineCases[3], lineCases[5]} {
			buf := make([]byte, 0, 4096)
			allocs := testing.AllocsPerRun(100, func() {
				var err error
				buf, err = ft.f.Append(buf[:0], &c.rec)
				if err != nil {
					t.Fatal(err)
				}
			})
			require.Zero(t, allocs, "%s %s", ft.name, c.name)
		}
	}
}

// benchCase is the record of the benchmarks: an event with eight fields.
func benchCase() formatCase {
	return formatCase{name: "bench", rec: benchRecord()}
}

func benchRecord() Record {
	return Record{Seq: 42, Module: "AgentServer", Event: Event{
		Time: testTime, Type: Logon, Outcome: Failed, Actor: "alice@example.com", Subject: "alice",
		Object: "agent-desktop", Client: "10.1.2.3:5060", Session: "S-1234567", Reason: "invalid password",
	}}
}

func BenchmarkFormat(b *testing.B) {
	for _, ft := range formats {
		b.Run(ft.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 1024)
			var err error
			// The record is built anew each time in a slot the formatter
			// gets through its interface, as a Logger does.
			r := new(Record)
			for b.Loop() {
				*r = Record{Seq: 42, Module: "AgentServer", Event: Event{
					Time: testTime, Type: Logon, Outcome: Failed, Actor: "alice@example.com", Subject: "alice",
					Object: "agent-desktop", Client: "10.1.2.3:5060", Session: "S-1234567", Reason: "invalid password",
				}}
				buf, err = ft.f.Append(buf[:0], r)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func BenchmarkParse(b *testing.B) {
	for _, ft := range formats {
		b.Run(ft.name, func(b *testing.B) {
			r := benchRecord()
			line, err := ft.f.Append(nil, &r)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				if _, err := ft.parse(line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAppendTime compares the hand-written time appender with package time
// across the whole range of years it writes.
func TestAppendTime(t *testing.T) {
	layout := "2006-01-02T15:04:05.000000Z"
	times := []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(0, 2, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 12, 0, 0, 0, time.UTC),
		time.Date(2100, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 25, 9, 14, 40, 123456789, time.FixedZone("x", -5*3600)),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	}
	rng := rand.New(rand.NewPCG(7, 11))
	lo, hi := times[0].Unix(), times[len(times)-1].Unix()
	for range 100000 {
		times = append(times, time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(1e9)))
	}
	for _, tm := range times {
		got, ok := appendTime(nil, tm)
		require.True(t, ok, "%v", tm)
		require.Equal(t, tm.UTC().Format(layout), string(got))
	}
	for _, tm := range []time.Time{time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		_, ok := appendTime(nil, tm)
		require.False(t, ok, "%v", tm)
	}
}
