package ship

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/auditkit/audit"
)

var testTime = time.Date(2026, 3, 14, 9, 26, 53, 589793238, time.UTC)

func TestFormatAppend(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		msg    Message
		want   string
	}{
		{
			name: "success",
			msg: Message{Outcome: audit.Succeeded, Host: "agent01", Module: "AgentServer", File: "7", Seq: 42, Type: audit.Logon,
				Time: testTime, Line: []byte(`2026-03-14T09:26:53.589Z seq=42 LOGON SUCCESS actor=alice`)},
			want: `<109>1 2026-03-14T09:26:53.589793Z agent01 AgentServer - LOGON [audit@32473 host="agent01" module="AgentServer" file="7" seq="42" outcome="SUCCESS"] 2026-03-14T09:26:53.589Z seq=42 LOGON SUCCESS actor=alice`,
		},
		{
			name:   "failure, authpriv, own SD-ID, local time",
			format: Format{Facility: FacilityAuthPriv, SDID: "audit@1.3.6"},
			msg: Message{Host: "h", Module: "CEMServer", File: "CEMServer.audit.log", Seq: 1, Type: audit.DataRead,
				Outcome: audit.Failed, Time: testTime.In(time.FixedZone("X", 3600)), Line: []byte("x")},
			want: `<84>1 2026-03-14T09:26:53.589793Z h CEMServer - DATA_READ [audit@1.3.6 host="h" module="CEMServer" file="CEMServer.audit.log" seq="1" outcome="FAILURE"] x`,
		},
		{
			name:   "auth, empty fields",
			format: Format{Facility: FacilityAuth},
			msg:    Message{Outcome: audit.Succeeded},
			want:   `<37>1 - - - - - [audit@32473 host="" module="" file="" seq="0" outcome="SUCCESS"] `,
		},
		{
			name: "escaped parameter values",
			msg:  Message{Outcome: audit.Succeeded, Host: "h", Module: "m", File: `a"b\c]d`, Seq: 3, Time: testTime, Line: []byte("l")},
			want: `<109>1 2026-03-14T09:26:53.589793Z h m - - [audit@32473 host="h" module="m" file="a\"b\\c\]d" seq="3" outcome="SUCCESS"] l`,
		},
		{
			name: "hostile line is copied",
			msg:  Message{Outcome: audit.Succeeded, Host: "h", Module: "m", File: "1", Seq: 9, Time: testTime, Line: []byte("a\nb] \"c\\ \xff\xfe\r\n")},
			want: "<109>1 2026-03-14T09:26:53.589793Z h m - - [audit@32473 host=\"h\" module=\"m\" file=\"1\" seq=\"9\" outcome=\"SUCCESS\"] a\nb] \"c\\ \xff\xfe\r\n",
		},
		{
			name: "year out of range",
			msg:  Message{Outcome: audit.Succeeded, Host: "h", Module: "m", File: "1", Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
			want: `<109>1 - h m - - [audit@32473 host="h" module="m" file="1" seq="0" outcome="SUCCESS"] `,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.format.Validate(); err != nil {
				t.Fatal(err)
			}
			got, err := tt.format.Append([]byte("prefix"), &tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "prefix"+tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, "prefix"+tt.want)
			}
		})
	}
}

// TestAppendTimestamp checks the timestamp written digit by digit against
// time.Time.AppendFormat with the layout it stands for.
func TestAppendTimestamp(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
	}{
		{"record", testTime},
		{"other zone", testTime.In(time.FixedZone("X", -5*3600-30*60))},
		{"first instant", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"last instant", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{"leap day", time.Date(2024, 2, 29, 12, 0, 0, 1000, time.UTC)},
		{"before 1970", time.Unix(-1, 999999).UTC()},
		{"nanoseconds truncated", time.Date(2026, 1, 2, 3, 4, 5, 999, time.UTC)},
		{"year 1", time.Date(1, 10, 9, 8, 7, 6, 543210000, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.t.UTC().AppendFormat([]byte("x"), "2006-01-02T15:04:05.000000Z07:00")
			if got := appendTimestamp([]byte("x"), tt.t); !bytes.Equal(got, want) {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func FuzzAppendTimestamp(f *testing.F) {
	f.Add(testTime.UnixNano(), int32(0))
	f.Add(int64(-1), int32(3600))
	f.Fuzz(func(t *testing.T, nanos int64, offset int32) {
		tm := time.Unix(0, nanos).In(time.FixedZone("Z", int(offset%(24*3600))))
		want := []byte("-")
		if y := tm.UTC().Year(); y >= 0 && y <= 9999 {
			want = tm.UTC().AppendFormat(nil, "2006-01-02T15:04:05.000000Z07:00")
		}
		if got := appendTimestamp(nil, tm); !bytes.Equal(got, want) {
			t.Fatalf("%v: got %s, want %s", tm, got, want)
		}
	})
}

// TestFormatAppendRenderCache renders a run of messages through one
// destination's render cache, their host, module, file and time changing,
// some of them bad: each comes out as Append renders it alone.
func TestFormatAppendRenderCache(t *testing.T) {
	msgs := []Message{
		{Host: "agent01", Module: "AgentServer", File: "7", Seq: 1, Time: testTime, Line: []byte("a")},
		{Host: "agent01", Module: "AgentServer", File: "7", Seq: 2, Time: testTime, Line: []byte("b"), Outcome: audit.Failed},
		{Host: "agent01", Module: "AgentServer", File: "8", Seq: 1, Line: []byte("c")},
		{Host: "agent 01", Module: "AgentServer", File: "8", Seq: 2, Line: []byte("bad host")},
		{Host: "agent01", Module: "AgentServer", File: "8\xff", Seq: 3, Line: []byte("bad file")},
		{Host: "agent01", Module: "AgentServer", File: "8", Seq: 4, Line: []byte("d")},
		{Host: "h", Module: "m", File: `a"b\c]d`, Seq: 5, Line: []byte("e")},
		{Host: "h", Module: "m", File: `a"b\c]d`, Seq: 6, Line: []byte("f")},
		{Seq: 7, Line: []byte("empty fields")},
		{Host: "agent01", Module: "AgentServer", File: "7", Seq: 8, Line: []byte("g")},
		{Host: "agent01", Module: "AgentServer", File: "7", Seq: 9, Time: testTime.Add(time.Microsecond), Line: []byte("same second")},
		{Host: "agent01", Module: "AgentServer", File: "7", Seq: 10, Time: testTime.Add(time.Millisecond).In(time.FixedZone("X", 3600)), Line: []byte("same second, other zone")},
		{Host: "agent01", Module: "AgentServer", File: "7", Seq: 11, Time: testTime.Add(time.Second), Line: []byte("next second")},
		{Host: "agent01", Module: "AgentServer", File: "7", Seq: 12, Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Line: []byte("year out of range")},
		{Host: "agent01", Module: "AgentServer", File: "7", Seq: 13, Time: time.Date(10000, 1, 1, 0, 0, 0, 5000, time.UTC), Line: []byte("same second out of range")},
		{Host: "agent01", Module: "AgentServer", File: "7", Seq: 14, Time: time.Unix(-1, 999999), Line: []byte("before 1970")},
		{Host: "agent01", Module: "AgentServer", File: "7", Seq: 15, Time: time.Unix(-1, 5), Line: []byte("same second before 1970")},
	}
	for _, format := range []Format{{}, {Facility: FacilityAuth, SDID: "x@1"}} {
		var c renderCache
		for i := range msgs {
			want, werr := format.Append(nil, &msgs[i])
			got, err := format.append(nil, &msgs[i], &c)
			if string(got) != string(want) || (err == nil) != (werr == nil) {
				t.Errorf("%+v: message %d: %q, %v; want %q, %v", format, i, got, err, want, werr)
			}
		}
	}
}

func TestFormatAppendBadMessage(t *testing.T) {
	long := string(bytes.Repeat([]byte("m"), 49))
	tests := []struct {
		name string
		msg  Message
	}{
		{"space in host", Message{Host: "a b", Module: "m"}},
		{"non-ASCII host", Message{Host: "hôte", Module: "m"}},
		{"nil host", Message{Host: "-", Module: "m"}},
		{"module too long", Message{Host: "h", Module: long}},
		{"newline in module", Message{Host: "h", Module: "m\n"}},
		{"invalid UTF-8 file", Message{Host: "h", Module: "m", File: "\xff"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Format{}.Append([]byte("keep"), &tt.msg)
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("err = %v, want ErrBadMessage", err)
			}
			if string(got) != "keep" {
				t.Errorf("dst = %q, want it unchanged", got)
			}
		})
	}
}

func TestFormatValidate(t *testing.T) {
	tests := []struct {
		format Format
		ok     bool
	}{
		{Format{}, true},
		{Format{Facility: FacilityAuth}, true},
		{Format{Facility: FacilityAuthPriv}, true},
		{Format{Facility: 1}, false},
		{Format{SDID: "audit@32473"}, true},
		{Format{SDID: "x@1.2.3"}, true},
		{Format{SDID: "audit"}, false},                             // IANA-reserved form
		{Format{SDID: "@123"}, false},                              // no name
		{Format{SDID: "a@"}, false},                                // no number
		{Format{SDID: "a@1..2"}, false},                            // empty sub-identifier
		{Format{SDID: "a@1."}, false},                              // trailing dot
		{Format{SDID: "a@b"}, false},                               // not a number
		{Format{SDID: "a@1@2"}, false},                             // two '@'
		{Format{SDID: "a b@1"}, false},                             // space
		{Format{SDID: "a=b@1"}, false},                             // '='
		{Format{SDID: "a]@1"}, false},                              // ']'
		{Format{SDID: `a"@1`}, false},                              // '"'
		{Format{SDID: "abcdefghijklmnopqrstuvwxyz@123456"}, false}, // 33 bytes
	}
	for _, tt := range tests {
		err := tt.format.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%+v: Validate() = %v, want ok %v", tt.format, err, tt.ok)
		}
	}
}

// checkRFC5424 parses b with a real RFC 5424 parser and checks that it is
// one valid message carrying m's fields and m.Line byte for byte.
func checkRFC5424(t testing.TB, b []byte, m *Message, sdid string) {
	t.Helper()
	p := rfc5424.NewParser(rfc5424.WithCompliantMsg())
	parsed, err := p.Parse(b)
	if err != nil {
		t.Fatalf("RFC 5424 parser: %v\nmessage: %q", err, b)
	}
	sm := parsed.(*rfc5424.SyslogMessage)
	got := ""
	if sm.Message != nil {
		got = *sm.Message
	}
	if got != string(m.Line) {
		t.Fatalf("MSG = %q, want %q", got, m.Line)
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	if str(sm.Hostname) != m.Host || str(sm.Appname) != m.Module {
		t.Fatalf("HOSTNAME, APP-NAME = %q, %q; want %q, %q", str(sm.Hostname), str(sm.Appname), m.Host, m.Module)
	}
	if sm.StructuredData == nil {
		t.Fatalf("no structured data in %q", b)
	}
	sd := (*sm.StructuredData)[sdid]
	if sd["host"] != m.Host || sd["module"] != m.Module || sd["file"] != m.File {
		t.Fatalf("structured data %q, want host %q module %q file %q", sd, m.Host, m.Module, m.File)
	}
}

// parseSD returns the structured-data parameters and the MSG of an
// RFC 5424 message that Format.Append wrote, undoing PARAM-VALUE escaping.
// It is independent of the parser above, and strict: any deviation from
// the grammar is an error.
func splitRFC5424(b []byte) (params map[string]string, msg []byte, err error) {
	// Six header fields, then "[".
	for range 6 {
		i := bytes.IndexByte(b, ' ')
		if i < 0 {
			return nil, nil, errors.New("short header")
		}
		b = b[i+1:]
	}
	if len(b) == 0 || b[0] != '[' {
		return nil, nil, errors.New("no structured data")
	}
	b = b[1:]
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return nil, nil, errors.New("no SD-ID")
	}
	b = b[i:]
	params = map[string]string{}
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
		eq := bytes.Index(b, []byte(`="`))
		if eq < 0 {
			return nil, nil, errors.New("no parameter")
		}
		name := string(b[:eq])
		b = b[eq+2:]
		var v []byte
		for {
			if len(b) == 0 {
				return nil, nil, errors.New("unterminated value")
			}
			c := b[0]
			b = b[1:]
			if c == '"' {
				break
			}
			if c == ']' {
				return nil, nil, errors.New("unescaped ']' in a value")
			}
			if c == '\\' && len(b) > 0 && (b[0] == '"' || b[0] == '\\' || b[0] == ']') {
				c = b[0]
				b = b[1:]
			}
			v = append(v, c)
		}
		params[name] = string(v)
	}
	if len(b) < 2 || b[0] != ']' || b[1] != ' ' {
		return nil, nil, errors.New("structured data not closed by \"] \"")
	}
	return params, b[2:], nil
}

func FuzzFormatAppend(f *testing.F) {
	f.Add("agent01", "AgentServer", "7", uint64(42), uint8(1), uint8(0), int64(1773480413589793238), []byte("record line"), "")
	f.Add("h", "m", `a"b\c]d`, uint64(1), uint8(3), uint8(1), int64(0), []byte("a\nb] \"c\\ \xff\xfe\r\n"), "x@1.2")
	f.Add("", "", "", uint64(0), uint8(0), uint8(0), int64(-1), []byte(nil), "")
	f.Add("h", "m", "\xef\xbb\xbf", uint64(1), uint8(1), uint8(0), int64(1), []byte("\xef\xbb\xbfBOM first"), "")
	f.Fuzz(func(t *testing.T, host, module, file string, seq uint64, typ, outcome uint8, nanos int64, line []byte, sdid string) {
		format := Format{SDID: sdid}
		if format.Validate() != nil {
			format.SDID = ""
		}
		m := Message{Host: host, Module: module, File: file, Seq: seq, Type: audit.EventType(typ),
			Outcome: audit.Outcome(outcome % 2), Time: time.Unix(0, nanos), Line: line}
		b, err := format.Append(nil, &m)
		// A destination's render cache gives the same bytes and errors,
		// whether it holds another message's fields or m's own.
		var c renderCache
		other := Message{Host: "agent01", Module: "AgentServer", File: "7", Line: []byte("x")}
		for i, prior := range []*Message{&other, &m, &m} {
			format.append(nil, prior, &c)
			got, cerr := format.append([]byte("p"), &m, &c)
			if (cerr == nil) != (err == nil) || err == nil && string(got) != "p"+string(b) {
				t.Fatalf("with the cache (%d): %q, %v; Append gives %q, %v", i, got, cerr, b, err)
			}
		}
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			return
		}
		params, msg, err := splitRFC5424(b)
		if err != nil {
			t.Fatalf("%v in %q", err, b)
		}
		if !bytes.Equal(msg, line) {
			t.Fatalf("MSG %q, want %q", msg, line)
		}
		if params["host"] != host || params["module"] != module || params["file"] != file {
			t.Fatalf("params %q for host %q module %q file %q", params, host, module, file)
		}
		id := DefaultSDID
		if format.SDID != "" {
			id = format.SDID
		}
		if !bytes.HasPrefix(line, []byte("\xef\xbb\xbf")) {
			// A MSG that starts with a byte-order mark is read as
			// MSG-UTF8 (RFC 5424, section 6.4); the renderer adds no mark,
			// and record lines never start with one.
			checkRFC5424(t, b, &m, id)
		}
	})
}
