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
			m := Message{Module: "AgentServer"}
			if ok := bcmHeader([]byte(tt.line), &m); ok != tt.ok || m.Seq != tt.seq {
				t.Fatalf("bcmHeader = %v, seq %d; want %v, %d", ok, m.Seq, tt.ok, tt.seq)
			}
		})
	}
}

// FuzzBCMHeader checks that whenever the header reader and the full
// parser both read a line, they agree on what goes into the message.
func FuzzBCMHeader(f *testing.F) {
	f.Add([]byte(`2026-11-25T09:14:40.123456Z AgentServer LOGON FAILURE seq=4 actor=alice reason="bad password"`))
	f.Add([]byte(`2026-11-25T09:14:40Z AgentServer LOGOFF SUCCESS seq=7`))
	f.Add([]byte(`2026-11-25T09:14:40+01:00 AgentServer LOGON SUCCESS seq=1 mac=00`))
	f.Fuzz(func(t *testing.T, line []byte) {
		m := Message{Module: "AgentServer"}
		if !bcmHeader(line, &m) {
			return
		}
		r, err := audit.ParseRecord(line)
		if err != nil {
			return // a header that reads, a body that does not: the line goes as it is
		}
		if r.Seq != m.Seq || r.Event.Type != m.Type || r.Event.Outcome != m.Outcome || !r.Event.Time.Equal(m.Time) {
			t.Fatalf("%q: header gives %d %v %v %v, the parser %d %v %v %v", line,
				m.Seq, m.Type, m.Outcome, m.Time.Format(time.RFC3339Nano),
				r.Seq, r.Event.Type, r.Event.Outcome, r.Event.Time.Format(time.RFC3339Nano))
		}
	})
}
