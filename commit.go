package audit

// The write path: each record is formatted before Logger.mu is taken; under
// it the record takes its sequence number and MAC and is copied into the
// pending batch, in the order of the file, and the batch is written by one
// of its own callers (group commit) while the next batch gathers. See
// Logger and batching.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"time"
)

// write formats e as the next record and waits until its batch is written,
// applying the failure policy.
func (l *Logger) write(e *Event) error { return l.writeCtx(context.Background(), e, true) }

// writeCtx is write for Log: if it must wait for another goroutine to write
// its batch and ctx is done first, it leaves the record to be written
// without it (see Log and abandon). A nil ctx waits for the outcome. With
// policy false a write error is returned whatever Config.Failure says.
func (l *Logger) writeCtx(ctx context.Context, e *Event, policy bool) error {
	if e.Type == ChannelReject {
		e.Outcome = Failed
	}
	stamped := !e.Time.IsZero() // by the caller
	if !stamped {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC()
	if ns := e.Time.Nanosecond() % 1000; ns != 0 {
		e.Time = e.Time.Add(-time.Duration(ns)) // records carry microseconds
	}
	// Format the record before taking the lock, so that goroutines format
	// in parallel: only its sequence number, its MAC and the copy into
	// the batch must be in file order.
	var stack [prerenderSize]byte
	pr := l.prerender(stack[:0], e)

	l.mu.Lock()
	var b *batch
	var end int
	var err error
	for {
		if l.closed {
			l.mu.Unlock()
			return fmt.Errorf("audit: %s event: %w", e.Type, ErrClosed)
		}
		b = l.batches.pending
		if b == nil {
			b = l.batches.newBatch(&l.mu)
			l.batches.pending = b
		}
		end, err = l.appendRecord(b, e, &pr, stamped)
		if err != errKeyAhead {
			break
		}
		if len(b.buf) == 0 {
			l.batches.pending = nil
			l.batches.freeBatch(b)
		}
		l.writeEarlier()
	}
	if err != nil {
		if len(b.buf) == 0 {
			l.batches.pending = nil
			l.batches.freeBatch(b)
		}
		if errors.Is(err, ErrInvalidEvent) || errors.Is(err, ErrRecordTooLarge) {
			l.mu.Unlock()
			l.stats.invalid.Add(1)
			return err
		}
		// The record could not be placed (the integrity key file could
		// not be written): a write error like any other.
		l.batches.dropped++
		l.mu.Unlock()
		return l.failed(policy, e.Type, l.writeError(err))
	}
	b.waiters++
	b.records++
	var stop func() bool // stops the AfterFunc that wakes us when ctx is done
	for !b.done {
		if l.batches.busy {
			if ctx != nil {
				if err := ctx.Err(); err != nil {
					return l.abandon(b, end, e.Type, err, stop, policy)
				}
				if stop == nil && ctx.Done() != nil {
					stop = l.wakeWhenDone(ctx, b)
				}
			}
			b.cond.Wait() // woken when b is done, or to write it, or ctx is done
			continue
		}
		// b is still pending (a batch leaves pending only to be written or
		// failed), so write it, whatever ctx says. The batch after it
		// gathers meanwhile.
		l.batches.busy = true
		if l.batches.woken > 0 {
			l.gather(b)
		}
		l.flushPending(1)
		l.settleAbandoned()
		l.release()
	}
	if stop != nil {
		stop()
	}
	err = b.err
	acked := end <= b.acked
	if acked {
		l.batches.written++
	} else {
		l.batches.dropped++
	}
	b.waiters--
	if b.waiters == 0 {
		l.batches.freeBatch(b)
	}
	l.mu.Unlock()

	if acked {
		return nil
	}
	return l.failed(policy, e.Type, err)
}

// errKeyAhead is appendRecord's answer for a record that would start a
// file two files past those on disk: the records before it must be
// written first (see writeEarlier).
var errKeyAhead = errors.New("audit: the integrity key is a file ahead of the files on disk")

// writeEarlier waits until the batch being written, if any, is done, or
// else writes the pending batch, so that a record refused with errKeyAhead
// can be placed again. Called with l.mu held; returns with it held.
func (l *Logger) writeEarlier() {
	if l.batches.busy {
		l.waitIdle()
		return
	}
	if l.batches.pending == nil {
		return
	}
	l.batches.busy = true
	l.flushPending(0)
	l.settleAbandoned()
	l.release()
}

// failed applies the failure policy, if policy is set, to a record of type
// t that was not written because of err: FailClosed returns err, FailOpen
// reports the dropped record and returns nil.
func (l *Logger) failed(policy bool, t EventType, err error) error {
	if policy && l.cfg.Failure == FailOpen {
		l.reportError(fmt.Errorf("audit: %s event dropped: %w", t, unprefixed(err)))
		return nil
	}
	return err
}

// appendRecord formats e into b as the next record of the file, deciding
// first whether the file must be rotated before it, and starting a new file
// with its FileStart record when integrity protection is on. Daily rotation
// goes by the records' times, forward only, and never by a time that a
// caller stamped ahead of the clock; stamped says the caller set e.Time. It returns the offset in b.buf
// where the record ends. Called with l.mu held.
func (l *Logger) appendRecord(b *batch, e *Event, pr *prerendered, stamped bool) (int, error) {
	_, isFile := l.file.out.(*fileWriter)
	day := l.file.cur.day
	if l.cfg.Daily != DailyOff {
		// A record's time says which day's file it belongs to, but a time
		// ahead of the clock cannot move the file's day forward: one event
		// stamped in the year 9999 would stop daily rotation for good.
		t := e.Time
		if stamped {
			if now := l.now(); t.After(now) {
				t = now
			}
		}
		day = max(l.dayOf(t), l.file.cur.day)
	}
	start := len(b.buf)
	noteReplaced := l.replace.take()
	if noteReplaced {
		l.file.forceRotate = true
	}
	if l.key != nil && l.key.index != l.file.cur.index {
		// A failed record evolved the key for a file it did not start: the
		// current file's key is gone, so the next record starts that file.
		if l.file.size > 0 {
			l.file.forceRotate = true
		} else {
			l.file.cur.index = l.key.index
		}
	}
	rotate := isFile && l.file.size > 0 && (l.file.forceRotate ||
		(l.cfg.Daily != DailyOff && l.file.cur.day >= 0 && day > l.file.cur.day))
	st, size, buf := l.file.cur, l.file.size, b.buf
	var n int
	var err error
	placed := false
	if !rotate && (l.key == nil || size > 0) {
		buf, n, err = l.formatRecord(buf, &st, e, pr)
		if err != nil {
			b.buf = buf[:start]
			return 0, err
		}
		if isFile && size > 0 && size+int64(n) > l.cfg.MaxSize {
			rotate, buf, st = true, buf[:start], l.file.cur
		} else {
			placed, size = true, size+int64(n)
		}
	}
	if !placed {
		// The record starts a file: a new one, or the empty active file.
		if rotate {
			st.seq, size = 0, 0
			st.index++
		}
		if l.key != nil {
			if st.index > l.file.phys.index+1 {
				// The key was evolved for a file that is not on disk
				// yet: evolving it again now would leave it two files
				// ahead of the files if the process died before that
				// write, and no file could be started after a restart.
				if noteReplaced {
					l.replace.note()
				}
				b.buf = buf[:start]
				return 0, errKeyAhead
			}
			if err := l.useKey(st.index); err != nil {
				b.buf = buf[:start]
				return 0, err
			}
			unsealed := 0
			if st.index == l.file.unsealedIndex {
				unsealed = l.file.unsealed
			}
			h := fileStartEvent(st.index, &st.mac, l.key.algorithm(), unsealed)
			h.Time = e.Time
			if buf, n, err = l.formatRecord(buf, &st, &h, nil); err != nil {
				b.buf = buf[:start]
				return 0, err
			}
			size += int64(n)
		}
		if noteReplaced {
			r := Event{Type: FileReplaced, Outcome: Failed, Time: e.Time, Object: filepath.Base(l.file.out.Path()),
				Reason: "the active audit file was removed or replaced from outside; records written to it since the last check may be lost"}
			if buf, n, err = l.formatRecord(buf, &st, &r, nil); err != nil {
				b.buf = buf[:start]
				return 0, err
			}
			size += int64(n)
		}
		if buf, n, err = l.formatRecord(buf, &st, e, pr); err != nil {
			b.buf = buf[:start]
			return 0, err
		}
		size += int64(n)
	}
	if n > MaxRecordSize || (isFile && size > l.cfg.MaxSize) {
		if noteReplaced {
			l.replace.note() // note it with the next record
		}
		b.buf = buf[:start]
		return 0, tooLargeError(e.Type, n, size-int64(n), l.cfg.MaxSize)
	}
	st.day = day
	b.buf = buf
	if rotate || len(b.segs) == 0 {
		b.segs = append(b.segs, segment{rotate: rotate})
	}
	sg := &b.segs[len(b.segs)-1]
	sg.end, sg.last = len(buf), st
	l.file.cur, l.file.size = st, size
	if rotate {
		l.file.forceRotate = false
	}
	return len(buf), nil
}

// prerenderSize is the stack buffer that a record is formatted into
// before the lock is taken; a larger record grows it on the heap.
const prerenderSize = 512

// prerendered is a record of a built-in format rendered with sequence
// number 0, outside the lock: buf[at] is that '0'.
type prerendered struct {
	buf []byte
	at  int // -1: not rendered (a custom format, or a time it cannot write)
}

// prerender formats e with the built-in format into dst, for formatRecord
// to copy with its sequence number. Called without l.mu.
func (l *Logger) prerender(dst []byte, e *Event) prerendered {
	if !l.trusted {
		return prerendered{at: -1}
	}
	var ok bool
	var mark []byte
	if l.jsonFormat {
		dst, ok = appendJSON(dst, 0, l.module, e, "")
		mark = []byte(`"seq":0`)
	} else {
		dst, ok = appendBCM(dst, 0, l.module, e, "")
		mark = []byte(" seq=0")
	}
	i := bytes.Index(dst, mark)
	if !ok || i < 0 {
		return prerendered{at: -1}
	}
	return prerendered{buf: dst, at: i + len(mark) - 1}
}

// formatRecord appends the record of e that follows st, sealed when
// integrity protection is on, and a newline, advances st past it and returns
// the record's length. pr, if not nil, is e already rendered by prerender.
// Called with l.mu held.
func (l *Logger) formatRecord(dst []byte, st *fileState, e *Event, pr *prerendered) ([]byte, int, error) {
	start := len(dst)
	if pr != nil && pr.at >= 0 {
		dst = append(dst, pr.buf[:pr.at]...)
		dst = strconv.AppendUint(dst, st.seq+1, 10)
		dst = append(dst, pr.buf[pr.at+1:]...)
	} else if l.trusted {
		// A built-in format, called directly: e has been validated, and
		// need not be copied into a Record.
		ok := false
		if l.jsonFormat {
			dst, ok = appendJSON(dst, st.seq+1, l.module, e, "")
		} else {
			dst, ok = appendBCM(dst, st.seq+1, l.module, e, "")
		}
		if !ok {
			return dst[:start], 0, fmt.Errorf("audit: %s event: %w: field time: %w", e.Type, ErrInvalidEvent, errTimeRange)
		}
	} else {
		l.rec = Record{Seq: st.seq + 1, Module: l.module, Event: *e}
		var err error
		dst, err = l.format.Append(dst, &l.rec)
		l.rec.Event = Event{} // keep no caller data
		if err != nil {
			return dst, 0, err
		}
		if bytes.ContainsAny(dst[start:], "\r\n") {
			return dst, 0, fmt.Errorf("audit: formatter %s: %w: output contains a line break", l.cfg.Formatter, ErrInvalidEvent)
		}
	}
	if l.key != nil {
		mac := l.key.seal(&st.mac, dst[start:])
		dst = sealBody(dst, start, l.jsonFormat, &mac)
		st.mac = mac
	}
	st.seq++
	dst = append(dst, '\n')
	return dst, len(dst) - start, nil
}

// gather lets the goroutines that the last written batch woke add their
// next records to b before b is written: it yields the processor until b
// holds as many records as goroutines were woken, or stops growing. Without
// it a goroutine that was just woken finds its processor taken by the
// writer, which writes a batch of one; and under SyncEveryEvent a batch
// would hold about half of the waiting goroutines, the other half gathering
// into the next one while it is synced. Called with l.mu held and owning
// out; returns likewise.
func (l *Logger) gather(b *batch) {
	for range maxGatherYields {
		if b.records > l.batches.woken || l.batches.pending != b {
			return
		}
		n := b.records
		l.mu.Unlock()
		runtime.Gosched()
		l.mu.Lock()
		if b.records == n {
			return
		}
	}
}

// flushPending writes the pending batch. writer is 1 if the calling
// goroutine is one of the batch's waiters (it does not wait on the batch's
// condition), else 0. Called with l.mu held and owning out (busy); returns
// with l.mu held, still owning out.
func (l *Logger) flushPending(writer int) {
	b := l.batches.pending
	l.batches.pending = nil
	l.mu.Unlock()

	written, phys := l.writeBatch(b)

	l.mu.Lock()
	b.done = true
	l.file.phys = phys
	l.batches.bytes += uint64(written)
	if written < len(b.buf) {
		// The file holds less than the logical state assumed: go back to
		// what it really holds, and fail the records formatted meanwhile,
		// since their sequence numbers assumed this batch was written.
		l.file.cur, l.file.size = phys, l.file.out.Size()
		if l.key != nil {
			if l.file.size == 0 {
				l.file.cur.index = l.key.index // an empty file takes the current key
			} else if l.key.index != l.file.cur.index {
				l.file.forceRotate = true // this file's key is gone
			}
		}
		if p := l.batches.pending; p != nil {
			p.done = true
			p.err = fmt.Errorf("audit: not written after an earlier failure: %w", unprefixed(b.err))
			l.batches.pending = nil
			p.cond.Broadcast()
		}
	}
	if sleepers := b.waiters - writer; sleepers > 0 {
		b.cond.Broadcast() // its waiters read their results
	}
	l.batches.woken = b.waiters - writer
}

// writeBatch writes b to out, rotating where its segments say, and syncs
// under SyncEveryEvent. It sets b.acked and b.err and returns how many bytes of
// b.buf are in the files and the state of the file they leave. Called by the
// owner of busy, without l.mu.
func (l *Logger) writeBatch(b *batch) (written int, phys fileState) {
	phys = l.file.phys
	start := 0
	var closed *fileState // the end of the last file this batch closed
	var closedEnd fileState
	for _, s := range b.segs {
		if s.rotate {
			end := phys
			rotated, err := l.rotate()
			if rotated {
				// An empty new file; the chain value carries over.
				phys.seq, phys.index, phys.day = 0, s.last.index, s.last.day
				closedEnd, closed = end, &closedEnd
			}
			if err != nil {
				b.err = err
				break
			}
		}
		if err := l.file.out.Write(b.buf[start:s.end]); err != nil {
			b.err = l.writeError(err) // the sink names the operation and file
			break
		}
		written, phys = s.end, s.last
		start = s.end
	}
	b.acked = written
	if l.cfg.Sync == SyncEveryEvent && written > 0 {
		if err := l.file.out.Sync(); err != nil {
			b.err = l.writeError(err)
			b.acked = 0
		} else {
			l.stats.syncs.Add(1)
		}
	}
	if closed != nil {
		// The rotation synced the file it closed: the head moves to its
		// end, sealed with the new file's key.
		l.mu.Lock()
		data := l.headData(*closed, phys.index)
		l.mu.Unlock()
		if err := l.writeHead(data); err != nil {
			l.backgroundError(err)
		}
	}
	return written, phys
}

// rotate rotates the file and asks for retention. It reports whether the
// old file was moved aside, which can happen even when it fails (when the
// new file could not be opened; the next write opens it). Called by the
// owner of busy.
func (l *Logger) rotate() (rotated bool, err error) {
	if backup, err := l.file.out.Rotate(); err != nil {
		return backup != "", l.writeError(err)
	}
	l.stats.rotations.Add(1)
	if l.cfg.Sync != SyncWriteThrough {
		l.stats.syncs.Add(1) // Rotate syncs the old file
	}
	l.bg.kickRetention()
	return true, nil
}

// acquire waits until no goroutine owns out and takes it. Once Close is
// done with out (closedBit), it gives up with ErrClosed and does not take
// it. Called with l.mu held; returns with l.mu held.
func (l *Logger) acquire() error {
	for {
		if l.mask.Load()&closedBit != 0 {
			return ErrClosed
		}
		if !l.batches.busy {
			break
		}
		l.waitIdle()
	}
	l.batches.busy = true
	return nil
}

// waitIdle waits until busy may have cleared. Called with l.mu held.
func (l *Logger) waitIdle() {
	l.batches.idleWaiters++
	l.batches.idle.Wait()
	l.batches.idleWaiters--
}

// release gives up out and wakes one waiter of the pending batch to write
// it. Only the waiters of a batch wake when it is done, and only one of the
// next batch's, so that a write does not wake every goroutine. A pending
// batch whose waiters all stopped waiting (see abandon) has nobody to wake:
// release writes it first. Called with l.mu held, by the owner of out.
func (l *Logger) release() {
	for l.batches.pending != nil && l.deserted(l.batches.pending) {
		l.flushPending(0)
		l.settleAbandoned()
	}
	l.batches.busy = false
	if l.batches.pending != nil {
		l.batches.pending.cond.Signal()
	}
	if l.batches.idleWaiters > 0 {
		l.batches.idle.Broadcast()
	}
}

// abandonedRecord is a record whose Log call stopped waiting for its batch
// (its ctx was done): the batch's writer accounts for it (settleAbandoned).
// It still counts among the batch's waiters, so that the batch is not
// reused before that.
type abandonedRecord struct {
	b   *batch
	end int // where the record ends in b.buf
	typ EventType
}

// abandon leaves the record that ends at end in b to be written without its
// caller, whose ctx ended with cause, and returns Log's error. Called with
// l.mu held; returns without it.
func (l *Logger) abandon(b *batch, end int, typ EventType, cause error, stop func() bool, policy bool) error {
	l.batches.abandoned = append(l.batches.abandoned, abandonedRecord{b: b, end: end, typ: typ})
	l.mu.Unlock()
	if stop != nil {
		stop()
	}
	if policy && l.cfg.Failure == FailOpen {
		return nil
	}
	return fmt.Errorf("audit: %s event: stopped waiting for another goroutine to write it: %w; "+
		"its outcome is not known yet (it may still be written; a failure is counted in Stats.Dropped and reported to OnError)", typ, cause)
}

// wakeWhenDone wakes the waiters of b when ctx is done, until the returned
// stop is called. A separate function, so that only a Log that waits with a
// ctx that can end pays for the closure.
func (l *Logger) wakeWhenDone(ctx context.Context, b *batch) (stop func() bool) {
	return context.AfterFunc(ctx, func() {
		l.mu.Lock()
		b.cond.Broadcast() // spurious if b was reused meanwhile: harmless
		l.mu.Unlock()
	})
}

// deserted reports whether every waiter of b stopped waiting.
func (l *Logger) deserted(b *batch) bool {
	if len(l.batches.abandoned) == 0 {
		return false
	}
	n := 0
	for _, a := range l.batches.abandoned {
		if a.b == b {
			n++
		}
	}
	return n > 0 && n == b.waiters
}

// settleAbandoned accounts for the abandoned records whose batches are
// done, as their callers would have: written or dropped, and a dropped
// record reported through OnError. Called with l.mu held by the owner of
// out, after flushPending; it unlocks l.mu while it reports.
func (l *Logger) settleAbandoned() {
	if len(l.batches.abandoned) == 0 {
		return
	}
	var errs []error
	kept := l.batches.abandoned[:0]
	for _, a := range l.batches.abandoned {
		b := a.b
		if !b.done {
			kept = append(kept, a)
			continue
		}
		if a.end <= b.acked {
			l.batches.written++
		} else {
			l.batches.dropped++
			errs = append(errs, fmt.Errorf("audit: %s event dropped after its Log call stopped waiting: %w", a.typ, unprefixed(b.err)))
		}
		if b.waiters--; b.waiters == 0 {
			l.batches.freeBatch(b)
		}
	}
	clear(l.batches.abandoned[len(kept):])
	l.batches.abandoned = kept
	if errs != nil {
		l.mu.Unlock()
		for _, err := range errs {
			l.reportError(err)
		}
		l.mu.Lock()
	}
}

// syncLocked syncs out. After Close it returns an error wrapping ErrClosed.
// Called with l.mu held.
func (l *Logger) syncLocked() error {
	if err := l.acquire(); err != nil {
		return fmt.Errorf("audit: sync: %w", err)
	}
	return l.syncOwned()
}

// syncOwned syncs out, moves the head to what the sync made durable, and
// releases out. Called with l.mu held by the owner of out; returns with
// l.mu held.
func (l *Logger) syncOwned() error {
	head := l.headData(l.file.phys, l.file.phys.index)
	l.mu.Unlock()
	err := l.file.out.Sync()
	if err == nil {
		err = l.writeHead(head)
	}
	l.mu.Lock()
	l.release()
	if err != nil {
		return l.writeError(err)
	}
	l.stats.syncs.Add(1)
	return nil
}

// intervalSync is the periodic sync of SyncInterval. Its errors were
// reported by syncLocked; Close returns them too.
func (l *Logger) intervalSync() {
	l.mu.Lock()
	err := l.syncLocked()
	l.mu.Unlock()
	if err != nil {
		l.bg.keep(err)
	}
}
