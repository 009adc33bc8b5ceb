package ship

import (
	"testing"

	"github.com/auditkit/audit"
)

func BenchmarkZZParseRecord(b *testing.B) {
	line := []byte(`2026-11-25T09:14:40.123456Z AgentServer LOGON FAILURE seq=4 actor=alice@example.com subject=alice object=agent-desktop client=10.1.2.3:5060 session=S-1234567 reason="invalid password"`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := audit.ParseRecord(line); err != nil {
			b.Fatal(err)
		}
	}
}
