package audit

import (
	"sync"
	"sync/atomic"
	"time"
)

// Stats are a Logger's counters since [New], returned by [Logger.Stats].
type Stats struct {
	// Written is the number of records written (acknowledged to Log).
	Written uint64
	// Invalid is the number of events refused as invalid.
	Invalid uint64
	// Dropped is the number of events that could not be written because of
	// a write, sync or rotation error, under either failure policy.
	Dropped uint64
	// WriteErrors is the number of failed writes, syncs and rotations.
	WriteErrors uint64
	// Bytes is the number of bytes written.
	Bytes uint64
	// Rotations is the number of file rotations.
	Rotations uint64
	// Syncs is the number of syncs to stable storage.
	Syncs uint64
	// Pruned is the number of files removed by retention.
	Pruned uint64
	// LastError is the last write or background error, and LastErrorTime
	// when it happened; nil and zero if there was none.
	LastError     error
	LastErrorTime time.Time
}

// counters are the live counters behind Stats that are not kept under
// Logger.mu.
type counters struct {
	invalid, writeErrors     atomic.Uint64
	rotations, syncs, pruned atomic.Uint64

	lastMu   sync.Mutex
	last     error
	lastTime time.Time
}

func (c *counters) setLast(err error, t time.Time) {
	c.lastMu.Lock()
	c.last, c.lastTime = err, t
	c.lastMu.Unlock()
}

// Stats returns a snapshot of the logger's counters. It is cheap and safe to
// call while other goroutines log, and after Close.
func (l *Logger) Stats() Stats {
	l.mu.Lock()
	written, dropped, bytes := l.batches.written, l.batches.dropped, l.batches.bytes
	l.mu.Unlock()
	c := &l.stats
	c.lastMu.Lock()
	last, lastTime := c.last, c.lastTime
	c.lastMu.Unlock()
	return Stats{
		Written:       written,
		Invalid:       c.invalid.Load(),
		Dropped:       dropped,
		WriteErrors:   c.writeErrors.Load(),
		Bytes:         bytes,
		Rotations:     c.rotations.Load(),
		Syncs:         c.syncs.Load(),
		Pruned:        c.pruned.Load(),
		LastError:     last,
		LastErrorTime: lastTime,
	}
}
