package ship

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/auditkit/audit"
)

// memDestination keeps what it acknowledges. While blocked, Ship waits
// for its context; bad makes Ship refuse the message whose line ends in it.
type memDestination struct {
	mu      sync.Mutex
	msgs    []Message
	blocked chan struct{} // closed when unblocked; nil means not blocked
	bad     string
	fail    int // calls of Ship that fail before any succeeds
	closed  bool
}

func (d *memDestination) Ship(ctx context.Context, msgs []Message) (int, error) {
	d.mu.Lock()
	blocked, closed := d.blocked, d.closed
	d.mu.Unlock()
	if closed {
		return 0, ErrClosed
	}
	if blocked != nil {
		select {
		case <-blocked:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail > 0 {
		d.fail--
		return 0, errors.New("audit: collector.test: refused for now")
	}
	for i, m := range msgs {
		if d.bad != "" && bytes.HasSuffix(m.Line, []byte(d.bad)) {
			return i, fmt.Errorf("audit: record %d: refused: %w", m.Seq, ErrBadMessage)
		}
		m.Line = bytes.Clone(m.Line)
		d.msgs = append(d.msgs, m)
	}
	return len(msgs), nil
}

func (d *memDestination) Close() error {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	return nil
}

func (d *memDestination) received() []Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Message(nil), d.msgs...)
}

// localLines returns the record lines of module's files in dir, in order.
func localLines(t testing.TB, dir, module string) [][]byte {
	t.Helper()
	files, err := audit.ListFiles(dir, module)
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	for _, f := range files {
		r, err := audit.OpenFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for {
			ln, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if ln.Complete {
				lines = append(lines, bytes.Clone(ln.Text))
			}
		}
		r.Close()
	}
	return lines
}

// checkCentralCopy checks that the lines received, after duplicates are
// dropped by (host, module, file, seq), are exactly the local ones, in
// order.
func checkCentralCopy(t testing.TB, got []Message, want [][]byte) {
	t.Helper()
	seen := map[string]bool{}
	var lines [][]byte
	for _, m := range got {
		id := fmt.Sprintf("%s/%s/%s/%d", m.Host, m.Module, m.File, m.Seq)
		if !seen[id] {
			seen[id] = true
			lines = append(lines, m.Line)
		}
	}
	if len(lines) != len(want) {
		t.Fatalf("central copy holds %d records (of %d messages), the local files %d", len(lines), len(got), len(want))
	}
	for i := range lines {
		if !bytes.Equal(lines[i], want[i]) {
			t.Fatalf("record %d:\n%q\nwant\n%q", i, lines[i], want[i])
		}
	}
}

func newTestShipper(t testing.TB, cfg ShipperConfig, d Destination) *Shipper {
	t.Helper()
	cfg.Destination.URL = "relp://collector.test:2514"
	cfg.Open = func(Config) (Destination, error) { return d, nil }
	if cfg.Module == "" {
		cfg.Module = "AgentServer"
	}
	if cfg.Host == "" {
		cfg.Host = "agent01"
	}
	if cfg.Poll == 0 {
		cfg.Poll = 5 * time.Millisecond
	}
	s, err := NewShipper(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// logRecords logs n records with a logger that rotates often.
func logRecords(t testing.TB, l *audit.Logger, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if err := l.Log(context.Background(), audit.Event{Outcome: audit.Succeeded, Type: audit.Logon, Actor: fmt.Sprint("user", i)}); err != nil {
			t.Fatal(err)
		}
	}
}

func newTestLogger(t testing.TB, dir string, extra func(*audit.Config)) *audit.Logger {
	t.Helper()
	cfg := audit.Config{Module: "AgentServer", AuditLogPath: dir, MaxSize: 4096, Compress: true}
	if extra != nil {
		extra(&cfg)
	}
	l, err := audit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// waitFor waits until cond holds; the bound guards against a hung test.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(rsyslogWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after %v for %s", rsyslogWait, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestShipperShipsEverything ships while a logger logs across rotations
// and compression, closes the shipper half way, and starts another from
// the cursor: the destination has every record, in order, and the cursor
// names the end.
func TestShipperShipsEverything(t *testing.T) {
	dir := t.TempDir()
	l := newTestLogger(t, dir, nil)
	d := &memDestination{}
	s := newTestShipper(t, ShipperConfig{Dir: dir}, d)
	s.Start()
	logRecords(t, l, 0, 600)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	want := localLines(t, dir, "AgentServer")
	waitFor(t, "the first half", func() bool { return len(d.received()) >= len(want) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	logRecords(t, l, 600, 600)
	d2 := &memDestination{}
	s2 := newTestShipper(t, ShipperConfig{Dir: dir}, d2)
	s2.Start()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	want = localLines(t, dir, "AgentServer")
	waitFor(t, "the second half", func() bool { return len(d.received())+len(d2.received()) >= len(want) })
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	got := append(d.received(), d2.received()...)
	checkCentralCopy(t, got, want)
	if len(got) != len(want) {
		t.Errorf("%d messages for %d records: a clean restart resends nothing", len(got), len(want))
	}
	for _, m := range got {
		if m.Seq == 0 || m.Type == 0 || m.Time.IsZero() || m.Host != "agent01" || m.Module != "AgentServer" || len(m.File) != 32 {
			t.Fatalf("message %+v lacks what the record says", m)
		}
	}
	st := s2.Stats()
	if st.Shipped != uint64(len(d2.received())) || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
	c, err := ReadCursor(CursorPath(dir, "AgentServer", "relp://collector.test:2514"))
	if err != nil {
		t.Fatal(err)
	}
	last := got[len(got)-1]
	if c.File != last.File || c.Seq != last.Seq || c.Line == 0 || c.Offset == 0 {
		t.Errorf("cursor %+v, last message %s/%d", c, last.File, last.Seq)
	}
}

// TestShipperCloseLeavesNoGoroutine runs a shipper in a bubble: the bubble
// ends only when every goroutine it started has returned.
func TestShipperCloseLeavesNoGoroutine(t *testing.T) {
	dir := t.TempDir()
	l := newTestLogger(t, dir, nil)
	logRecords(t, l, 0, 50)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		for _, blocked := range []bool{false, true} {
			d := &memDestination{}
			if blocked {
				d.blocked = make(chan struct{})
			}
			s := newTestShipper(t, ShipperConfig{Dir: dir}, d)
			s.Start()
			time.Sleep(time.Second)
			synctest.Wait()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if !blocked && len(d.received()) != 50 {
				t.Fatalf("%d records shipped, want 50", len(d.received()))
			}
		}
		s := newTestShipper(t, ShipperConfig{Dir: dir}, &memDestination{})
		if err := s.Close(); err != nil { // never started
			t.Fatal(err)
		}
		s.Start() // after Close: nothing starts
	})
}

// TestShipperCursorInterval checks that the cursor file is written at
// most once per CursorInterval however often the shipper catches up with
// the logger, and at Close: here the first batch of the first round is
// written at once, the later ones only at Close.
func TestShipperCursorInterval(t *testing.T) {
	dir := t.TempDir()
	l := newTestLogger(t, dir, func(c *audit.Config) { c.MaxSize = 0 })
	d := &memDestination{}
	s := newTestShipper(t, ShipperConfig{Dir: dir, CursorInterval: time.Hour}, d)
	s.Start()
	const rounds, each = 10, 20
	for i := range rounds {
		logRecords(t, l, i*each, each)
		waitFor(t, "the round's records", func() bool { return len(d.received()) == (i+1)*each })
	}
	first := d.received()[each-1]
	if c := s.Stats().Cursor; c.Seq == 0 || c.Seq > first.Seq {
		t.Errorf("durable cursor at seq %d after %d rounds, want within the first round (1 to %d): the cursor file was written more than once per CursorInterval", c.Seq, rounds, first.Seq)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := ReadCursor(CursorPath(dir, "AgentServer", "relp://collector.test:2514"))
	if err != nil {
		t.Fatal(err)
	}
	if last := d.received()[rounds*each-1]; c.Seq != last.Seq || c.File != last.File {
		t.Errorf("cursor after Close at %s/%d, want the last record %s/%d", c.File, c.Seq, last.File, last.Seq)
	}
}

// TestShipperSkipsWithReport checks that a record the destination refuses
// is counted, reported with its file and line, and skipped, and that the
// records after it are shipped.
func TestShipperSkipsWithReport(t *testing.T) {
	dir := t.TempDir()
	l := newTestLogger(t, dir, func(c *audit.Config) { c.Compress = false })
	logRecords(t, l, 0, 30)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	want := localLines(t, dir, "AgentServer")
	d := &memDestination{bad: "actor=user17"}
	var mu sync.Mutex
	var errs []error
	s := newTestShipper(t, ShipperConfig{Dir: dir, OnError: func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }}, d)
	s.Start()
	waitFor(t, "the records", func() bool { return len(d.received()) == len(want)-1 })
	s.Close()
	if st := s.Stats(); st.Failed != 1 || st.Shipped != uint64(len(want)-1) {
		t.Fatalf("stats %+v, want 1 failed and %d shipped", st, len(want)-1)
	}
	mu.Lock()
	defer mu.Unlock()
	var skip *SkipError
	if len(errs) != 1 || !errors.As(errs[0], &skip) || !errors.Is(errs[0], ErrBadMessage) {
		t.Fatalf("reported %v, want one SkipError", errs)
	}
	if !strings.HasPrefix(filepath.Base(skip.Path), "AgentServer.audit") || skip.Line < 1 {
		t.Errorf("SkipError names %s:%d", skip.Path, skip.Line)
	} else if data, err := os.ReadFile(skip.Path); err != nil {
		t.Error(err)
	} else if line := bytes.Split(data, []byte{'\n'})[skip.Line-1]; !bytes.HasSuffix(line, []byte("actor=user17")) {
		t.Errorf("SkipError names %s:%d, which holds %q", skip.Path, skip.Line, line)
	}
	var kept [][]byte
	for _, w := range want {
		if !bytes.HasSuffix(w, []byte("actor=user17")) {
			kept = append(kept, w)
		}
	}
	checkCentralCopy(t, d.received(), kept)
}

// TestShipperBacklog checks the backlog figures while the destination is
// down, the single report when they pass a limit, and that retention keeps
// the files until they are shipped, then removes them.
func TestShipperBacklog(t *testing.T) {
	dir := t.TempDir()
	l := newTestLogger(t, dir, func(c *audit.Config) { c.MaxBackups = 1; c.Compress = false })
	d := &memDestination{blocked: make(chan struct{})}
	var mu sync.Mutex
	var errs []error
	s := newTestShipper(t, ShipperConfig{Dir: dir, MaxBacklogRecords: 100, StatsInterval: 5 * time.Millisecond,
		OnError: func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }}, d)
	s.Start()
	logRecords(t, l, 0, 300)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	total := int64(len(localLines(t, dir, "AgentServer")))
	waitFor(t, "the backlog", func() bool { return s.Stats().Backlog.Records == total })
	b := s.Stats().Backlog
	if b.Bytes < total*40 || b.Oldest.IsZero() || time.Since(b.Oldest) < 0 {
		t.Errorf("backlog %+v for %d records", b, total)
	}
	files, err := audit.ListFiles(dir, "AgentServer")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("%d files: the logger kept every backup for the shipper, want more than MaxBackups", len(files))
	}
	logRecords(t, l, 300, 50) // more rotations, more retention passes
	mu.Lock()
	var backlogErrs int
	for _, err := range errs {
		if errors.Is(err, ErrBacklog) {
			backlogErrs++
		}
	}
	mu.Unlock()
	if backlogErrs != 1 {
		t.Errorf("backlog reported %d times, want once: %v", backlogErrs, errs)
	}
	first := files[0].Path
	if _, err := os.Stat(first); err != nil {
		t.Fatalf("the oldest unshipped backup is gone: %v", err)
	}
	close(d.blocked)
	waitFor(t, "the backlog shipped", func() bool { return int64(len(d.received())) >= total })
	waitFor(t, "the cursor past the first backup", func() bool {
		c := s.Stats().Cursor
		return c.File != "" && c.File != fingerprintOf(t, files[0])
	})
	logRecords(t, l, 350, 100) // rotations run retention again, in the background
	waitFor(t, "retention to remove the shipped backup", func() bool {
		_, err := os.Stat(first)
		return err != nil
	})
}

func fingerprintOf(t testing.TB, f audit.File) string {
	t.Helper()
	r, err := audit.OpenFile(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ln, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	return audit.Fingerprint(ln.Text)
}

func TestNewShipperErrors(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.cursor")
	os.WriteFile(corrupt, []byte("x"), 0o640)
	other := filepath.Join(dir, "other.cursor")
	WriteCursor(other, Cursor{Module: "M", Destination: "relp://h:1?window=8"})
	tests := []struct {
		name string
		cfg  ShipperConfig
		want error
		text string
	}{
		{"no dir", ShipperConfig{Module: "M", Destination: Config{URL: "relp://h:1"}}, ErrBadDestination, "no directory"},
		{"no module", ShipperConfig{Dir: dir, Destination: Config{URL: "relp://h:1"}}, ErrBadDestination, "no module"},
		{"bad module", ShipperConfig{Dir: dir, Module: "a b", Destination: Config{URL: "relp://h:1"}}, ErrBadDestination, "module"},
		{"bad host", ShipperConfig{Dir: dir, Module: "M", Host: "a b", Destination: Config{URL: "relp://h:1"}}, ErrBadDestination, "host"},
		{"no URL", ShipperConfig{Dir: dir, Module: "M"}, ErrBadDestination, "no destination URL"},
		{"bad URL", ShipperConfig{Dir: dir, Module: "M", Destination: Config{URL: "ftp://h:1"}}, ErrBadDestination, "unknown scheme"},
		{"corrupt cursor", ShipperConfig{Dir: dir, Module: "M", CursorFile: corrupt, Destination: Config{URL: "relp://h:1"}}, ErrBadCursor, corrupt},
		{"cursor of another module", ShipperConfig{Dir: dir, Module: "CEMServer", CursorFile: other, Destination: Config{URL: "relp://h:1"}}, ErrBadCursor, `module "M", not "CEMServer"`},
		{"cursor of another destination", ShipperConfig{Dir: dir, Module: "M", CursorFile: other, Destination: Config{URL: "relp://h2:1"}}, ErrBadCursor, "relp://h:1, not relp://h2:1"},
	}
	// Other options of the same destination keep its position.
	s, err := NewShipper(ShipperConfig{Dir: dir, Module: "M", CursorFile: other, Destination: Config{URL: "relp://h:1"}})
	if err != nil {
		t.Fatalf("NewShipper with the cursor of the same destination: %v", err)
	}
	s.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewShipper(tt.cfg)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) || !strings.HasPrefix(err.Error(), "audit: ") {
				t.Fatalf("NewShipper: %v, want %v and %q", err, tt.want, tt.text)
			}
		})
	}
}

// TestShipperCursorLost checks that a file removed by hand before it was
// shipped, or a cursor that points past the end of its file, is reported
// once, naming what is wrong, however often the shipper retries.
func TestShipperCursorLost(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{"file removed", "is not in"},
		{"offset past the end", "the cursor points at"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := newTestLogger(t, dir, func(c *audit.Config) { c.Compress = false })
			logRecords(t, l, 0, 200)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			files, err := audit.ListFiles(dir, "AgentServer")
			if err != nil {
				t.Fatal(err)
			}
			c := Cursor{Module: "AgentServer", Destination: "relp://collector.test:2514", File: fingerprintOf(t, files[0]), Offset: 1, Line: 1, Seq: 1}
			if tt.name == "file removed" {
				if err := os.Remove(files[0].Path); err != nil {
					t.Fatal(err)
				}
			} else {
				c.Offset = 1 << 30
			}
			if err := WriteCursor(CursorPath(dir, "AgentServer", c.Destination), c); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var errs []error
			s := newTestShipper(t, ShipperConfig{Dir: dir, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
				OnError: func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }}, &memDestination{})
			s.Start()
			waitFor(t, "the report", func() bool { mu.Lock(); defer mu.Unlock(); return len(errs) > 0 })
			time.Sleep(50 * time.Millisecond) // many retries
			s.Close()
			mu.Lock()
			defer mu.Unlock()
			if len(errs) != 1 || !errors.Is(errs[0], audit.ErrCursorLost) || !strings.Contains(errs[0].Error(), tt.want) {
				t.Fatalf("reported %v, want ErrCursorLost once, saying %q", errs, tt.want)
			}
			if st := s.Stats(); st.Shipped != 0 || st.Cursor != c {
				t.Errorf("stats %+v: nothing may be shipped or skipped past a lost cursor", st)
			}
		})
	}
}

// TestShipperDestinationFails checks that a destination whose Ship
// returns a failure (rather than retrying it) is tried again after a
// backoff, reported once for the streak, and loses nothing.
func TestShipperDestinationFails(t *testing.T) {
	dir := t.TempDir()
	l := newTestLogger(t, dir, nil)
	logRecords(t, l, 0, 100)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	want := localLines(t, dir, "AgentServer")
	d := &memDestination{fail: 5}
	var mu sync.Mutex
	var errs []error
	s := newTestShipper(t, ShipperConfig{Dir: dir, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		OnError: func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }}, d)
	s.Start()
	waitFor(t, "the records", func() bool { return len(d.received()) == len(want) })
	s.Close()
	checkCentralCopy(t, d.received(), want)
	mu.Lock()
	defer mu.Unlock()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "refused for now") {
		t.Fatalf("reported %v, want the streak once", errs)
	}
}

// TestNewShipperRefusedDestinationLeavesNoCursor checks that a
// destination that cannot be used leaves no cursor file behind: retention
// would read it as a destination that shipped nothing yet and keep every
// file from then on, for a shipper that never ran.
func TestNewShipperRefusedDestinationLeavesNoCursor(t *testing.T) {
	dir := t.TempDir()
	for _, url := range []string{
		"tls://127.0.0.1:6514?ca=" + filepath.Join(dir, "missing-ca.pem"),
		"relp://127.0.0.1:2514?window=many",
		"tcp://auditor:s3cret@127.0.0.1:514",
	} {
		_, err := NewShipper(ShipperConfig{Dir: dir, Module: "AgentServer", Host: "agent01", Destination: Config{URL: url}})
		if !errors.Is(err, ErrBadDestination) {
			t.Fatalf("NewShipper(%s): %v, want ErrBadDestination", url, err)
		}
		if _, err := os.Stat(CursorPath(dir, "AgentServer", url)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("NewShipper(%s) failed but left a cursor file (%v): retention would keep every file for it", url, err)
		}
	}
}

// TestNewShipperRefusesSecondShipper checks that a second shipper of the
// same module and destination is refused while the first runs, and can
// start once it is closed.
func TestNewShipperRefusesSecondShipper(t *testing.T) {
	dir := t.TempDir()
	first := newTestShipper(t, ShipperConfig{Dir: dir}, &memDestination{})
	first.Start()
	cfg := ShipperConfig{Dir: dir, Module: "AgentServer", Host: "agent01", Destination: Config{URL: "relp://collector.test:2514"},
		Open: func(Config) (Destination, error) { return &memDestination{}, nil }}
	if s, err := NewShipper(cfg); !errors.Is(err, ErrCursorInUse) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("second NewShipper: %v, want ErrCursorInUse", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := NewShipper(cfg)
	if err != nil {
		t.Fatalf("NewShipper after the first closed: %v", err)
	}
	s.Close()
}

// TestNewShipperRemovesStaleCursorTemp checks that the temporary file of
// a cursor that a killed shipper was writing does not stay in the audit
// directory: under a crash loop they would pile up.
func TestNewShipperRemovesStaleCursorTemp(t *testing.T) {
	dir := t.TempDir()
	path := CursorPath(dir, "AgentServer", "relp://collector.test:2514")
	stale := path + ".tmp-123456"
	if err := os.WriteFile(stale, []byte("audit-ship-cursor 1\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "CEMServer.ship-0123456789abcdef.cursor.tmp-1")
	if err := os.WriteFile(other, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	s := newTestShipper(t, ShipperConfig{Dir: dir}, &memDestination{})
	s.Close()
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary cursor file still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another cursor's temporary file was removed: %v", err)
	}
}
