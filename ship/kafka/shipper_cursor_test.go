package kafka

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/auditkit/audit"
	"github.com/auditkit/audit/ship"
)

// TestShipperHoldsFilesBeforeFirstAck starts a shipper while the brokers
// refuse every record, then logs across many rotations with a logger that
// keeps one backup. Retention must keep every file the shipper has not
// shipped, from the moment it started, not from its first acknowledged
// batch: once the brokers take records again, every record arrives,
// from the module's first.
func TestShipperHoldsFilesBeforeFirstAck(t *testing.T) {
	c, url := newCluster(t, 1)
	var refusing atomic.Bool
	var refused atomic.Int32
	refusing.Store(true)
	c.ControlKey(kmsg.Produce.Int16(), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !refusing.Load() {
			return nil, nil, false
		}
		refused.Add(1)
		return failProduce(r, kerr.MessageTooLarge.Code), nil, true
	})
	dir := t.TempDir()
	l, err := audit.New(audit.Config{Module: "M", AuditLogPath: dir, MaxSize: 2048, MaxBackups: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := &source{host: "h1", module: "M", dir: dir, l: l}
	s.log(t, 3)
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	first := files(t, dir, "M")[0][0]
	r := newRunner()
	startShipper(t, r, s, url)
	waitFor(t, "the shipper's first attempt", func() bool { return refused.Load() > 0 })
	s.log(t, 300) // many rotations, each running retention
	s.close(t)
	local := files(t, dir, "M")
	if got := local[0][0]; got != first {
		t.Errorf("retention removed files the shipper had not shipped: the oldest file starts with %q, want %q", got, first)
	}
	refusing.Store(false)
	var want []ship.Message
	for _, f := range local {
		for _, line := range f {
			want = append(want, ship.Message{Line: []byte(line)})
		}
	}
	recs := consume(t, url, len(want))
	r.stop(t)
	seen := map[string]bool{}
	var got []string
	for _, rec := range recs {
		if !seen[string(rec.Value)] {
			seen[string(rec.Value)] = true
			got = append(got, string(rec.Value))
		}
	}
	if len(got) != len(want) || got[0] != first {
		t.Fatalf("%d records arrived, the first %q; want %d from %q", len(got), got[0], len(want), first)
	}
}

// TestShipperCursorOfAnotherModule checks that a cursor file of another
// module (copied or renamed by hand) is refused rather than followed.
func TestShipperCursorOfAnotherModule(t *testing.T) {
	_, url := newCluster(t, 1)
	dir := t.TempDir()
	if err := ship.WriteCursor(ship.CursorPath(dir, "M", url), ship.Cursor{Module: "Other", Destination: url}); err != nil {
		t.Fatal(err)
	}
	d, err := Open(url, Config{Options: fastOptions})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sh := &Shipper{Dir: dir, Module: "M", Host: "h1", Dest: d, URL: url}
	// The bound guards against a shipper that follows the cursor.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sh.Run(ctx); !errors.Is(err, ship.ErrBadCursor) {
		t.Fatalf("Run: %v, want ErrBadCursor", err)
	}
}

// TestShipperRefusesSecondShipper checks that a second shipper of the same
// module and destination is refused while the first runs.
func TestShipperRefusesSecondShipper(t *testing.T) {
	_, url := newCluster(t, 1)
	dir := t.TempDir()
	d, err := Open(url, Config{Options: fastOptions})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	lock, err := ship.LockCursor(ship.CursorPath(dir, "M", url))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	sh := &Shipper{Dir: dir, Module: "M", Host: "h1", Dest: d, URL: url}
	// The bound guards against a shipper that runs beside the other.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sh.Run(ctx); !errors.Is(err, ship.ErrCursorInUse) {
		t.Fatalf("Run: %v, want ErrCursorInUse", err)
	}
}
