package audit

// Group commit: records gather into the pending batch under Logger.mu, in
// file order, and one of the batch's own callers writes it while the next
// batch gathers (see commit.go).

import "sync"

// batching is the group commit's state. Every field is guarded by
// Logger.mu.
type batching struct {
	// busy is set while a goroutine owns the output: writing a batch,
	// syncing, rotating or closing. Only its owner touches the output.
	busy bool
	// idle is broadcast when busy clears, for Sync and Close, which wait
	// for the output without a record of their own; idleWaiters counts
	// the goroutines waiting on it.
	idle        sync.Cond
	idleWaiters int
	pending     *batch   // records formatted but not yet handed to a writer
	free        []*batch // batches for reuse
	woken       int      // goroutines the last written batch woke (see gather)
	// abandoned are records whose Log call stopped waiting, not yet
	// accounted for (see settleAbandoned).
	abandoned []abandonedRecord
	// Counts of records written and dropped and of bytes written, kept
	// here rather than as atomics since the write path holds the mutex
	// anyway (see Stats).
	written, dropped, bytes uint64
}

// batch is a run of formatted records written together. segments split it
// where the file must be rotated before the rest is written.
type batch struct {
	cond    sync.Cond // on Logger.mu: the batch is done, or may be written
	buf     []byte
	segs    []segment
	done    bool  // written (or failed); err and acked are final
	err     error // why the records past acked were not written
	acked   int   // bytes of buf whose records succeeded
	waiters int   // goroutines that still have to read the result
	records int   // records in buf
}

// segment is a run of a batch's records bound for one file.
type segment struct {
	end    int       // offset in buf where the segment ends
	rotate bool      // rotate the file before writing this segment
	last   fileState // the file's state after the segment
}

// maxGatherYields bounds how often a writer yields to let records join its
// batch (see gather).
const maxGatherYields = 64

// Batches are reused through a free list on the Logger, under its mutex: at
// most maxFreeBatches (two are in use at a time: one written, one
// gathering), each with a buffer of at most maxPooledBatch bytes.
const (
	maxFreeBatches = 4
	maxPooledBatch = 256 << 10
)

// newBatch returns an empty batch whose condition uses mu, the Logger's
// mutex. Called with mu held.
func (bs *batching) newBatch(mu *sync.Mutex) *batch {
	if n := len(bs.free); n > 0 {
		b := bs.free[n-1]
		bs.free = bs.free[:n-1]
		return b
	}
	b := &batch{buf: make([]byte, 0, 4096)}
	b.cond.L = mu
	return b
}

// freeBatch keeps b for reuse. Called with the Logger's mutex held, when no
// goroutine waits on b any more.
func (bs *batching) freeBatch(b *batch) {
	if cap(b.buf) > maxPooledBatch || len(bs.free) == maxFreeBatches {
		return
	}
	b.buf = b.buf[:0]
	b.segs = b.segs[:0]
	b.done, b.err, b.acked, b.waiters, b.records = false, nil, 0, 0, 0
	bs.free = append(bs.free, b)
}
