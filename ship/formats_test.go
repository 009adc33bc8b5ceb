package ship

import (
	"fmt"
	"testing"

	"github.com/auditkit/audit"
)

// TestShipperFormats ships a module written in each record format (BCM
// and JSON sealed too), across rotations: every record arrives once, byte for byte, and
// with an id (file, seq) of its own, so that a receiver that drops
// duplicates by id keeps every record.
func TestShipperFormats(t *testing.T) {
	for _, format := range []string{"BCM", "JSON", "CEF", "OCSF"} {
		for _, sealed := range []bool{false, true} {
			if sealed && (format == "CEF" || format == "OCSF") {
				continue // the library seals BCM and JSON only
			}
			t.Run(fmt.Sprintf("%s/sealed=%v", format, sealed), func(t *testing.T) {
				dir := t.TempDir()
				extra := func(c *audit.Config) { c.Formatter = format }
				if sealed {
					seal := integrityConfig(t)
					extra = func(c *audit.Config) { c.Formatter = format; seal(c) }
				}
				l := newTestLogger(t, dir, extra)
				logRecords(t, l, 0, 120)
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				want := localLines(t, dir, "AgentServer")
				d := &memDestination{}
				s := newTestShipper(t, ShipperConfig{Dir: dir}, d)
				s.Start()
				waitFor(t, "the records", func() bool { return len(d.received()) >= len(want) })
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				got := d.received()
				checkCentralCopy(t, got, want)
				for _, m := range got {
					if m.Seq == 0 || m.Time.IsZero() || !m.Type.Valid() {
						t.Fatalf("message of %q: seq %d, time %v, type %v: want what the record says", m.Line, m.Seq, m.Time, m.Type)
					}
				}
			})
		}
	}
}
