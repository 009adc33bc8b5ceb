package ship

import (
	"bytes"
	"testing"

	"github.com/auditkit/audit"
)

// TestShipperDownWhileFilesRotate stops the shipper after a first run and
// lets the logger rotate and compress many files while it is down, with
// retention set to keep one backup; a new shipper then resumes from the
// cursor over RELP to a real rsyslog. Retention removes only files
// already shipped, and rsyslog receives every record exactly once, in
// order: a clean stop resends nothing.
func TestShipperDownWhileFilesRotate(t *testing.T) {
	rsyslogPath(t)
	r := startRsyslog(t, "relp", nil)
	dir := t.TempDir()
	l := newTestLogger(t, dir, func(c *audit.Config) { integrityConfig(t)(c); c.MaxBackups = 1 })
	cfg := ShipperConfig{Dir: dir, Module: "AgentServer", Host: "agent01", Destination: rsyslogConfig(r, nil)}
	s, err := NewShipper(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The cursor file NewShipper made holds every file back until the
	// first run ships it: the snapshot holds the whole first run.
	logRecords(t, l, 0, 300)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	before := localCopy(t, dir)
	s.Start()
	first := bytes.Count(before, []byte{'\n'})
	waitFor(t, "the first run shipped", func() bool { return s.Stats().Shipped >= uint64(first) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	logRecords(t, l, 300, 3000) // dozens of rotations and compressions, the shipper down
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := audit.ListFiles(dir, "AgentServer")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("%d files: want many rotations while the shipper was down", len(files))
	}
	s2, err := NewShipper(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s2.Start()
	// What was shipped: the records of the first run (retention has
	// removed some of their files since), then those of the files left.
	local := append([]byte(nil), before...)
	seen := map[string]bool{}
	for _, line := range bytes.SplitAfter(before, []byte{'\n'}) {
		seen[string(line)] = true
	}
	after := localCopy(t, dir)
	if bytes.HasPrefix(after, before) {
		t.Fatal("retention removed no file the first run shipped: the test shows nothing")
	}
	for _, line := range bytes.SplitAfter(after, []byte{'\n'}) {
		if !seen[string(line)] {
			local = append(local, line...)
		}
	}
	n := bytes.Count(local, []byte{'\n'})
	waitFor(t, "everything shipped", func() bool { return int(s.Stats().Shipped+s2.Stats().Shipped) >= n })
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	received := r.waitReceived(t, n)
	if len(received) != n {
		t.Errorf("rsyslog received %d messages for %d records: a clean stop and restart resends nothing", len(received), n)
	}
	checkSameRecords(t, centralCopy(t, received), local)
}
