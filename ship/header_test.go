package ship

import (
	"testing"
	"time"

	"github.com/auditkit/audit"
)

func TestBCMHeader(t *testing.T) {
	tests := []struct {
		name, line string
		ok         bool
		seq        uint64
	}{
		{"record", `2026-11-25T09:14:40.123456Z AgentServer LOGON FAILURE seq=4 actor=alice reason="bad password"`, true, 4},
		{"nothing after seq", `2026-11-25T09:14:40Z AgentServer LOGOFF SUCCESS seq=18446744073709551615`, true, 1<<64 - 1},
		{"other module", `2026-11-25T09:14:40Z CEMServer LOGON SUCCESS seq=1`, false, 0},
		{"json", `{"time":"2026-11-25T09:14:40Z","module":"AgentServer"}`, false, 0},
		{"cef", `CEF:0|x|y|1|LOGON|Logon|3|`, false, 0},
		{"no seq", `2026-11-25T09:14:40Z AgentServer LOGON SUCCESS actor=alice`, false, 0},
		{"bad seq", `2026-11-25T09:14:40Z AgentServer LOGON SUCCESS seq=-1`, false, 0},
		{"bad time", `2026-11-25 AgentServer LOGON SUCCESS seq=1`, false, 0},
		{"unknown type", `2026-11-25T09:14:40Z AgentServer NOPE SUCCESS seq=1`, false, 0},
		{"bad outcome", `2026-11-25T09:14:40Z AgentServer LOGON MAYBE seq=1`, false, 0},
		{"short", `2026-11-25T09:14:40Z AgentServer`, false, 0},
		{"empty", ``, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h headerReader
			m := Message{Module: "AgentServer"}
			if ok := h.bcmHeader([]byte(tt.line), &m); ok != tt.ok || m.Seq != tt.seq {
				t.Fatalf("bcmHeader = %v, seq %d; want %v, %d", ok, m.Seq, tt.ok, tt.seq)
			}
		})
	}
}

// FuzzBCMHeader checks that whenever the header reader and the full
// parser both read a line, they agree on what goes into the message, both
// with a fresh reader and with one that kept the second of another line
// (prior) and of the line itself.
func FuzzBCMHeader(f *testing.F) {
	f.Add([]byte(`2026-11-25T09:14:40.123456Z AgentServer LOGON FAILURE seq=4 actor=alice reason="bad password"`), []byte(`2026-11-25T09:14:40.5Z AgentServer LOGON SUCCESS seq=3`))
	f.Add([]byte(`2026-11-25T09:14:40Z AgentServer LOGOFF SUCCESS seq=7`), []byte(`2026-11-25T09:14:40.999999999Z AgentServer LOGON SUCCESS seq=6`))
	f.Add([]byte(`2026-11-25T09:14:40+01:00 AgentServer LOGON SUCCESS seq=1 mac=00`), []byte(`2026-11-25T09:14:40Z AgentServer LOGON SUCCESS seq=1`))
	f.Add([]byte(`2026-11-25T09:14:40.1234567891Z AgentServer LOGON SUCCESS seq=2`), []byte(`2026-11-25T09:14:40.1Z AgentServer LOGON SUCCESS seq=1`))
	f.Add([]byte(`2026-11-25T09:14:40.12x456Z AgentServer LOGON SUCCESS seq=2`), []byte(`2026-11-25T09:14:40.1Z AgentServer LOGON SUCCESS seq=1`))
	f.Fuzz(func(t *testing.T, line, prior []byte) {
		var fresh, primed headerReader
		primed.bcmHeader(prior, &Message{Module: "AgentServer"})
		r, err := audit.ParseRecord(line)
		for i, h := range []*headerReader{&fresh, &primed, &primed} {
			m := Message{Module: "AgentServer"}
			if !h.bcmHeader(line, &m) || err != nil {
				// A header that does not read, or a body that does not
				// parse: the line goes as it is.
				continue
			}
			if r.Seq != m.Seq || r.Event.Type != m.Type || r.Event.Outcome != m.Outcome || !r.Event.Time.Equal(m.Time) {
				t.Fatalf("%q (reader %d): header gives %d %v %v %v, the parser %d %v %v %v", line, i,
					m.Seq, m.Type, m.Outcome, m.Time.Format(time.RFC3339Nano),
					r.Seq, r.Event.Type, r.Event.Outcome, r.Event.Time.Format(time.RFC3339Nano))
			}
		}
	})
}

// FuzzHeaderTime checks the header reader's times against time.Parse, with
// a second kept from another time (prior) and from the time itself.
func FuzzHeaderTime(f *testing.F) {
	f.Add("2026-11-25T09:14:40.123456Z", "2026-11-25T09:14:40.5Z")
	f.Add("2026-11-25T09:14:40Z", "2026-11-25T09:14:40.999999999Z")
	f.Add("2026-11-25T09:14:40.1234567891Z", "2026-11-25T09:14:40Z")
	f.Add("2026-11-25T09:14:40.12x456Z", "2026-11-25T09:14:40Z")
	f.Add("2026-11-25T09:14:40.Z", "2026-11-25T09:14:40Z")
	f.Add("2026-11-25T09:14:40+01:00", "2026-11-25T09:14:40Z")
	f.Fuzz(func(t *testing.T, s, prior string) {
		var h headerReader
		h.time([]byte(prior))
		want, err := time.Parse(time.RFC3339Nano, s)
		for i := range 2 {
			got, ok := h.time([]byte(s))
			if ok != (err == nil) || ok && !got.Equal(want) {
				t.Fatalf("%q after %q (call %d): got %v, %v; time.Parse %v, %v", s, prior, i, got, ok, want, err)
			}
		}
	})
}

// BenchmarkBCMHeader measures reading the header of a record of the usual
// shape, as the shipper does once per record, the second kept from the
// record before.
func BenchmarkBCMHeader(b *testing.B) {
	lines := [][]byte{
		[]byte(`2026-11-25T09:14:40.123456Z AgentServer LOGON FAILURE seq=41 actor=alice@example.com subject=alice object=agent-desktop client=10.1.2.3:5060 session=S-1234567 reason="invalid password"`),
		[]byte(`2026-11-25T09:14:40.123457Z AgentServer LOGON FAILURE seq=42 actor=alice@example.com subject=alice object=agent-desktop client=10.1.2.3:5060 session=S-1234567 reason="invalid password"`),
	}
	var h headerReader
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m := Message{Module: "AgentServer"}
		if !h.bcmHeader(lines[i&1], &m) {
			b.Fatal("header not read")
		}
		i++
	}
}
