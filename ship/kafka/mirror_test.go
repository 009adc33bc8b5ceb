package kafka

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/auditkit/audit"
)

// rec is a record as a Destination produces it.
func rec(host, module, file string, seq uint64, line string) *kgo.Record {
	return &kgo.Record{
		Key: []byte(Key(host, module)), Value: []byte(line), Timestamp: time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC),
		Headers: []kgo.RecordHeader{
			{Key: HeaderHost, Value: []byte(host)}, {Key: HeaderModule, Value: []byte(module)},
			{Key: HeaderFile, Value: []byte(file)}, {Key: HeaderSeq, Value: []byte(strconv.FormatUint(seq, 10))},
			{Key: HeaderType, Value: []byte("LOGON")},
		},
	}
}

func headRec(host, module, head string) *kgo.Record {
	return &kgo.Record{Key: []byte(Key(host, module)), Value: []byte(head), Headers: []kgo.RecordHeader{
		{Key: HeaderHost, Value: []byte(host)}, {Key: HeaderModule, Value: []byte(module)},
		{Key: HeaderType, Value: []byte(TypeHead)},
	}}
}

// TestCollectorHandle feeds records to the collector's writer directly:
// duplicates and records ahead of the mirror are dropped, a new source
// file starts a new mirror file, heads wait until the mirror covers them,
// and a restart finds the mirror's end from its files.
func TestCollectorHandle(t *testing.T) {
	dir := t.TempDir()
	c := &Collector{dir: dir, mirrors: map[string]*mirror{}}
	start := func(file uint64) string {
		return "2026-11-30T14:00:00.000000Z M FILE_START SUCCESS seq=1 object=\"audit file\" file=" + strconv.FormatUint(file, 10) +
			" prev=" + "0000000000000000000000000000000000000000000000000000000000000000" + " chain=hmac-sha256"
	}
	head := func(key, file, seq int) string {
		return "audit-head v1 module=M chain=hmac-sha256 key=" + strconv.Itoa(key) + " file=" + strconv.Itoa(file) +
			" seq=" + strconv.Itoa(seq) + " mac=00 time=2026-11-30T14:00:00Z seal=00\n"
	}
	// A file is named by the fingerprint of its first line, as the
	// shipper names it.
	A, B := audit.Fingerprint([]byte(start(0))), audit.Fingerprint([]byte(start(1)))
	steps := []struct {
		r    *kgo.Record
		want Stats
	}{
		{rec("h", "M", A, 1, start(0)), Stats{Written: 1}},
		{rec("h", "M", A, 2, "a2"), Stats{Written: 2}},
		{rec("h", "M", A, 2, "a2"), Stats{Written: 2, Duplicates: 1}},
		{rec("h", "M", A, 4, "a4"), Stats{Written: 2, Duplicates: 1, Ahead: 1}},
		{headRec("h", "M", head(0, 0, 3)), Stats{Written: 2, Duplicates: 1, Ahead: 1}},
		{rec("h", "M", A, 3, "a3"), Stats{Written: 3, Duplicates: 1, Ahead: 1}},
		{rec("h", "M", B, 2, "b2"), Stats{Written: 3, Duplicates: 1, Ahead: 2}},
		{rec("h", "M", B, 1, start(1)), Stats{Written: 4, Duplicates: 1, Ahead: 2}},
		{rec("h", "M", A, 3, "a3"), Stats{Written: 4, Duplicates: 2, Ahead: 2}},
		{headRec("h", "M", head(1, 1, 2)), Stats{Written: 4, Duplicates: 2, Ahead: 2}},
		{rec("h", "M", "", 1, "x"), Stats{Written: 4, Duplicates: 2, Ahead: 2, Bad: 1}},
		{rec("../h", "M", "C", 1, "x"), Stats{Written: 4, Duplicates: 2, Ahead: 2, Bad: 2}},
		{rec("h", "M/x", "C", 1, "x"), Stats{Written: 4, Duplicates: 2, Ahead: 2, Bad: 3}},
		{headRec("h", "M", "garbage\n"), Stats{Written: 4, Duplicates: 2, Ahead: 2, Bad: 4}},
	}
	for i, s := range steps {
		c.mu.Lock()
		err := c.handle(s.r, &c.stats)
		c.mu.Unlock()
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := c.Stats(); got != s.want {
			t.Fatalf("step %d: stats %+v, want %+v", i, got, s.want)
		}
	}
	if err := c.syncAll(); err != nil {
		t.Fatal(err)
	}
	host := filepath.Join(dir, "h")
	got := files(t, host, "M")
	if len(got) != 2 || len(got[0]) != 3 || got[0][1] != "a2" || got[0][2] != "a3" || len(got[1]) != 1 {
		t.Fatalf("mirror %q", got)
	}
	// The head of file 0 seq 3 is covered; that of file 1 seq 2 waits.
	if h, _ := os.ReadFile(filepath.Join(host, "M.audit.head")); string(h) != head(0, 0, 3) {
		t.Fatalf("head %q", h)
	}
	if h, _ := os.ReadFile(filepath.Join(host, "M.audit.head.pending")); string(h) != head(1, 1, 2) {
		t.Fatalf("pending head %q", h)
	}
	for _, m := range c.mirrors {
		m.close()
	}

	// A restart: half a line at the end is cut, the end is found from the
	// files, the waiting head is promoted when the mirror covers it.
	list, _ := filepath.Glob(filepath.Join(host, "M.audit-*.log"))
	f, err := os.OpenFile(list[len(list)-1], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("b2 torn")
	f.Close()
	c = &Collector{dir: dir, mirrors: map[string]*mirror{}}
	for _, r := range []*kgo.Record{rec("h", "M", A, 2, "a2"), rec("h", "M", B, 1, start(1)), rec("h", "M", B, 2, "b2")} {
		if err := c.handle(r, &c.stats); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.syncAll(); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st != (Stats{Written: 1, Duplicates: 2}) {
		t.Fatalf("after restart: stats %+v", st)
	}
	got = files(t, host, "M")
	if len(got) != 2 || len(got[1]) != 2 || got[1][1] != "b2" {
		t.Fatalf("mirror after restart %q", got)
	}
	if h, _ := os.ReadFile(filepath.Join(host, "M.audit.head")); string(h) != head(1, 1, 2) {
		t.Fatalf("head after restart %q", h)
	}
	if _, err := os.Stat(filepath.Join(host, "M.audit.head.pending")); !os.IsNotExist(err) {
		t.Fatalf("pending head left: %v", err)
	}
	for _, m := range c.mirrors {
		m.close()
	}
}
