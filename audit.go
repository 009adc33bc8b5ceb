package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Logger writes audit records for one module. Create it with [New] at
// start-up, call [Logger.Log] as events happen, and [Logger.Close] at
// shutdown. A Logger is safe for concurrent use by many goroutines.
//
// Records are formatted one at a time, in the order they will stand in the
// file (each carries the next sequence number), and concurrent records are
// written together: while one goroutine writes a batch, the records of the
// others gather into the next one (group commit). Log returns only when its
// record's batch has been written, and synced if the [SyncPolicy] asks.
type Logger struct {
	mask    atomic.Uint32 // current Mask
	module  string
	format  Formatter
	trusted bool // format is built in: no need to check its output for newlines
	now     func() time.Time
	cfg     Config // copy, with defaults filled in
	dir     string

	mu   sync.Mutex
	cond sync.Cond // broadcast when busy clears, for Sync and Close
	// idleWaiters counts the goroutines waiting on cond.
	idleWaiters int
	closed      bool
	out         sink
	busy        bool     // a goroutine owns out (writing a batch, syncing, closing)
	pending     *batch   // records formatted but not yet handed to a writer
	free        []*batch // batches for reuse
	rec         Record   // scratch record for formatting, guarded by mu
	// Counters kept under mu rather than as atomics, since the write path
	// holds mu anyway.
	written, dropped, bytes uint64
	// cur and size are the logical state of the active file: as it will be
	// once every formatted record is written.
	cur  fileState
	size int64
	// phys is what out really holds. Written by the owner of busy and read
	// under mu to resynchronise after a failure.
	phys fileState
	// key is the integrity chain's key for the newest file, nil when
	// integrity protection is off.
	key         *chainKey
	jsonFormat  bool // format is the built-in JSON (for sealing records)
	forceRotate bool // the next record must start a new file
	woken       int  // goroutines the last written batch woke (see gather)
	// replaced is set when a sync finds that the audit file was removed or
	// replaced from outside; the next record then starts a new file.
	replaced atomic.Bool

	setMaskMu sync.Mutex // serialises SetMask

	stats counters

	stop chan struct{} // closed by Close to stop background goroutines
	kick chan struct{} // asks the retention goroutine to run now
	wg   sync.WaitGroup

	bgMu   sync.Mutex
	bgErrs []error // background errors for Close, at most maxBackgroundErrors
}

const maxBackgroundErrors = 16

// sink is where batches of formatted records go: a rotating file or a
// caller's io.Writer. Its methods are called by one goroutine at a time.
type sink interface {
	Write(p []byte) error
	Sync() error
	Rotate() (backup string, err error)
	Size() int64
	Path() string
	Close() error
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

type segment struct {
	end    int       // offset in buf where the segment ends
	rotate bool      // rotate the file before writing this segment
	last   fileState // the file's state after the segment
}

// fileState is where the active file stands after a record.
type fileState struct {
	seq   uint64        // sequence number of the last record
	day   int64         // day number (see dayOf) of the last record; -1 if unknown
	index uint64        // the file's index in the integrity chain
	mac   [macSize]byte // the chain value: the last record's MAC
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

// newBatch returns an empty batch. Called with l.mu held.
func (l *Logger) newBatch() *batch {
	if n := len(l.free); n > 0 {
		b := l.free[n-1]
		l.free = l.free[:n-1]
		return b
	}
	b := &batch{buf: make([]byte, 0, 4096)}
	b.cond.L = &l.mu
	return b
}

// freeBatch keeps b for reuse. Called with l.mu held, when no goroutine
// waits on b any more.
func (l *Logger) freeBatch(b *batch) {
	if cap(b.buf) > maxPooledBatch || len(l.free) == maxFreeBatches {
		return
	}
	b.buf = b.buf[:0]
	b.segs = b.segs[:0]
	b.done, b.err, b.acked, b.waiters, b.records = false, nil, 0, 0, 0
	l.free = append(l.free, b)
}

// Defaults of Config fields.
const (
	// DefaultMaxSize is the rotation size used when Config.MaxSize is zero.
	DefaultMaxSize = 100 << 20
	// DefaultSyncInterval is the period used when Config.SyncInterval is zero.
	DefaultSyncInterval = time.Second
	// retentionInterval is how often retention runs while the logger is open.
	retentionInterval = time.Hour
)

var moduleRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// New validates cfg, opens (or creates) the module's audit file and returns
// a Logger. The directory is cfg.AuditLogPath, or cfg.LogPath when that is
// empty; the file is named <Module>.audit.log. An existing file is appended
// to: its sequence numbers continue, and an incomplete final record left by
// a crash is moved to a quarantine file and recorded with a [TornRecord]
// event. Backups older than cfg.Retention are removed before New returns.
//
// Errors wrap [ErrBadConfig] for a bad field, [ErrUnknownFormatter],
// [ErrBadMask], [ErrLocked] when another writer holds the file,
// [ErrUnsafePath], or the operating system's error.
func New(cfg Config) (*Logger, error) {
	if !moduleRE.MatchString(cfg.Module) {
		return nil, fmt.Errorf("audit: module %q: %w: want 1 to 64 ASCII letters, digits, '_' or '-'", cfg.Module, ErrBadConfig)
	}
	if cfg.EventMask == 0 {
		cfg.EventMask = DefaultMask
	}
	if cfg.EventMask&^AllEvents != 0 {
		return nil, fmt.Errorf("audit: event mask %#x: %w: unknown bits", uint8(cfg.EventMask), ErrBadMask)
	}
	format, err := LookupFormatter(cfg.Formatter)
	if err != nil {
		return nil, err
	}
	if cfg.Formatter == "" {
		cfg.Formatter = FormatBCM
	}
	switch {
	case cfg.MaxSize < 0:
		return nil, fmt.Errorf("audit: max size %d: %w: negative", cfg.MaxSize, ErrBadConfig)
	case cfg.MaxSize == 0:
		cfg.MaxSize = DefaultMaxSize
	}
	if cfg.MaxBackups < 0 {
		return nil, fmt.Errorf("audit: max backups %d: %w: negative", cfg.MaxBackups, ErrBadConfig)
	}
	if cfg.Retention < 0 {
		return nil, fmt.Errorf("audit: retention %v: %w: negative", cfg.Retention, ErrBadConfig)
	}
	switch {
	case cfg.SyncInterval < 0:
		return nil, fmt.Errorf("audit: sync interval %v: %w: negative", cfg.SyncInterval, ErrBadConfig)
	case cfg.SyncInterval == 0:
		cfg.SyncInterval = DefaultSyncInterval
	}
	if cfg.Sync > SyncEveryEvent || cfg.Failure > FailOpen || cfg.Daily > DailyOff {
		return nil, fmt.Errorf("audit: sync %v, failure %v, daily %v: %w", cfg.Sync, cfg.Failure, cfg.Daily, ErrBadConfig)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Logger{
		module: cfg.Module,
		format: format,
		now:    cfg.Now,
		cfg:    cfg,
		stop:   make(chan struct{}),
		kick:   make(chan struct{}, 1),
	}
	l.cond.L = &l.mu
	switch format.(type) {
	case bcmFormatter:
		l.trusted = true
	case jsonFormatter:
		l.trusted, l.jsonFormat = true, true
	}
	l.mask.Store(uint32(cfg.EventMask))
	l.cur.day = -1 // unknown until the first record, or the last record of an existing file
	if cfg.Integrity {
		if !l.trusted {
			return nil, fmt.Errorf("audit: integrity: %w: needs the BCM or JSON format, not %s", ErrBadConfig, cfg.Formatter)
		}
		if cfg.IntegrityKeyFile != "" {
			if l.key, err = readKeyFile(cfg.IntegrityKeyFile); err != nil {
				return nil, err
			}
		} else {
			l.key = newChainKey(0, nil)
		}
		l.cur.index = l.key.index
	}

	if cfg.Output != nil {
		l.out = streamSink{cfg.Output}
		l.cfg.Daily = DailyOff
	} else {
		if err := l.openFile(); err != nil {
			return nil, err
		}
	}
	l.phys = l.cur

	if cfg.Output == nil && (cfg.Retention > 0 || cfg.MaxBackups > 0) {
		l.prune()
		l.wg.Add(1)
		go l.every(retentionInterval, l.kick, l.prune)
	}
	if cfg.Sync == SyncInterval {
		l.wg.Add(1)
		go l.every(l.cfg.SyncInterval, nil, l.intervalSync)
	}
	if l.key != nil && cfg.CheckpointInterval > 0 {
		l.wg.Add(1)
		go l.every(l.cfg.CheckpointInterval, nil, l.checkpoint)
	}
	return l, nil
}

// openFile opens the audit file and recovers the state of an existing one.
func (l *Logger) openFile() error {
	l.dir = l.cfg.AuditLogPath
	if l.dir == "" {
		l.dir = l.cfg.LogPath
	}
	if l.dir == "" {
		return fmt.Errorf("audit: module %s: %w: neither AuditLogPath nor LogPath is set", l.module, ErrBadConfig)
	}
	w, err := openWriter(writerConfig{
		Dir:      l.dir,
		Module:   l.module,
		Compress: l.cfg.Compress,
		Now:      l.now,
		OnError:  l.backgroundError,
	})
	if err != nil {
		return err
	}
	l.out = w
	l.size = w.Size()
	if err := l.checkFreshKey(); err != nil {
		w.Close()
		return err
	}
	if tail := w.Tail(); tail != nil {
		// Continue the file if its records are ours, in our format and
		// chain; otherwise start a new file, so that each file holds one
		// format, one run of sequence numbers and one chain.
		if !l.resume(tail) {
			if _, err := w.Rotate(); err != nil {
				w.Close()
				return err
			}
			l.size = 0
			l.stats.rotations.Add(1)
		}
	}
	if qpath, n := w.Quarantine(); qpath != "" {
		e := Event{Type: TornRecord, Outcome: Failed, Object: filepath.Base(qpath),
			Reason: fmt.Sprintf("incomplete final record of %d bytes moved out of %s", n, filepath.Base(w.Path()))}
		if err := l.write(&e); err != nil {
			w.Close()
			return err
		}
	}
	return nil
}

// checkFreshKey refuses a key file that another chain has already moved on
// (the key file of another module, say) when this module has no files yet:
// its chain would start in the middle, which verifying reports as missing
// files. Each module needs a key file of its own.
func (l *Logger) checkFreshKey() error {
	if l.key == nil || l.key.key == nil || l.key.index == 0 || l.size > 0 {
		return nil
	}
	backups, err := listBackups(osFS{}, l.dir, l.module)
	if err != nil || len(backups) > 0 {
		return err
	}
	return fmt.Errorf("audit: integrity key file %s: %w: it holds the key of file %d of a chain, but module %s has no audit files yet; give each module a key file of its own",
		l.cfg.IntegrityKeyFile, ErrBadKey, l.key.index, l.module)
}

// resume takes up the state of the existing active file from its last
// record, and for integrity its first. It reports false if the file cannot
// be continued.
func (l *Logger) resume(tail []byte) bool {
	p, ok := l.format.(Parser)
	if !ok {
		return false
	}
	rec, err := p.Parse(tail)
	if err != nil || rec.Module != l.module {
		return false
	}
	l.cur.seq, l.cur.day = rec.Seq, l.dayOf(rec.Event.Time)
	if l.key == nil {
		return true
	}
	if _, err := hex.Decode(l.cur.mac[:], []byte(rec.MAC)); err != nil || len(rec.MAC) != 2*macSize {
		return false
	}
	first, err := readFirstLine(l.out.Path())
	if err != nil {
		return false
	}
	head, err := p.Parse(first)
	if err != nil {
		return false
	}
	index, _, alg, err := fileStartInfo(&head.Event)
	if err != nil || alg != l.key.algorithm() {
		return false
	}
	l.cur.index = index
	switch {
	case l.key.key == nil:
		l.key = newChainKey(index, nil)
	case l.key.index > index:
		// The key already moved on (a crash between evolving the key and
		// starting the next file): the next record starts that file.
		l.forceRotate = true
	case l.key.index < index:
		if err := l.useKey(index); err != nil {
			return false
		}
	}
	return true
}

// dayOf returns the day number of t for daily rotation.
func (l *Logger) dayOf(t time.Time) int64 {
	if l.cfg.Daily == DailyLocal {
		t = t.Local()
		y, m, d := t.Date()
		t = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return t.Unix() / 86400
}

// Enabled reports whether an event of type t with outcome o would be written
// under the current mask (see [Mask.Enables]). It takes a few nanoseconds
// and allocates nothing, so callers can test it before building an
// expensive event.
func (l *Logger) Enabled(t EventType, o Outcome) bool {
	return enabled(Mask(l.mask.Load()), t, o)
}

// Enables reports whether m lets an event of type t with outcome o be
// written: when m holds t's category, or when the event failed and m holds
// [FailureEvents]. [AuditConfigChange] and the library's own records are
// always written, and a [ChannelReject] is always a failure. An invalid type
// gives false.
func (m Mask) Enables(t EventType, o Outcome) bool { return enabled(m, t, o) }

// gate holds each type's category; types that are always written have every
// bit set.
var gate = func() (g [numEventTypes]Mask) {
	for t := EventType(1); t < numEventTypes; t++ {
		g[t] = t.Category()
		if t == AuditConfigChange || t >= firstLibraryType {
			g[t] = 0xff
		}
	}
	return g
}()

func enabled(m Mask, t EventType, o Outcome) bool {
	if t == 0 || t >= numEventTypes {
		return false
	}
	if t == ChannelReject {
		o = Failed
	}
	return m&gate[t] != 0 || (o == Failed && m&FailureEvents != 0)
}

// Log records e if the mask lets it through: an event is written when the
// mask holds its type's category, or when it failed and the mask holds
// [FailureEvents]; [AuditConfigChange] is always written. A filtered-out
// event returns nil at once.
//
// Log returns only after the record has been handed to the operating system
// (and, under [SyncEveryEvent], synced to stable storage), so a crash of the
// process loses no record for which Log returned nil. A zero e.Time is the
// logger's clock; a [ChannelReject] is always recorded as [Failed].
//
// An invalid event (see [Event.Validate]) is an error wrapping
// [ErrInvalidEvent] and nothing is written. After Close, Log returns an error
// wrapping [ErrClosed]. A write error is returned under [FailClosed]; under
// [FailOpen] Log returns nil and the record is counted in [Stats].Dropped.
// Every write error also goes to [Config.OnError].
//
// ctx only bounds waiting: a record that can be written is written even if
// ctx is nil or already cancelled, so that (for example) the failed logon of
// a client that hung up is still recorded.
func (l *Logger) Log(ctx context.Context, e Event) error {
	// Small enough to be inlined, so that a filtered-out event is dropped
	// before the Event is copied.
	if enabled(Mask(l.mask.Load()), e.Type, e.Outcome) {
		return l.log(&e)
	}
	return l.filter(e.Type)
}

// filter accounts for an event the mask left out, or refuses an event of an
// invalid type.
func (l *Logger) filter(t EventType) error {
	if !t.Valid() || t >= firstLibraryType {
		l.stats.invalid.Add(1)
		e := Event{Type: t}
		return e.Validate()
	}
	l.stats.filtered.Add(1)
	return nil
}

// log validates and writes an event the mask lets through.
func (l *Logger) log(e *Event) error {
	if e.Type >= firstLibraryType {
		return l.filter(e.Type)
	}
	if err := e.Validate(); err != nil {
		l.stats.invalid.Add(1)
		return err
	}
	return l.write(e)
}

// write formats e as the next record and waits until its batch is written.
func (l *Logger) write(e *Event) error {
	if e.Type == ChannelReject {
		e.Outcome = Failed
	}
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC()
	if ns := e.Time.Nanosecond() % 1000; ns != 0 {
		e.Time = e.Time.Add(-time.Duration(ns)) // records carry microseconds
	}

	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return fmt.Errorf("audit: %s event: %w", e.Type, ErrClosed)
	}
	b := l.pending
	if b == nil {
		b = l.newBatch()
		l.pending = b
	}
	end, err := l.appendRecord(b, e)
	if err != nil {
		if len(b.buf) == 0 {
			l.pending = nil
			l.freeBatch(b)
		}
		l.mu.Unlock()
		l.stats.invalid.Add(1)
		return err
	}
	b.waiters++
	b.records++
	for !b.done {
		if l.busy {
			b.cond.Wait() // woken when b is done, or to write it
			continue
		}
		// b is still pending (a batch leaves pending only to be written or
		// failed), so write it. The batch after it gathers meanwhile.
		l.busy = true
		if l.woken > 0 {
			l.gather(b)
		}
		l.flushPending(1)
		l.release()
	}
	err = b.err
	acked := end <= b.acked
	if acked {
		l.written++
	} else {
		l.dropped++
	}
	b.waiters--
	if b.waiters == 0 {
		l.freeBatch(b)
	}
	l.mu.Unlock()

	if acked {
		return nil
	}
	if l.cfg.Failure == FailOpen {
		l.reportError(fmt.Errorf("audit: %s event dropped: %w", e.Type, err))
		return nil
	}
	return err
}

// appendRecord formats e into b as the next record of the file, deciding
// first whether the file must be rotated before it, and starting a new file
// with its FileStart record when integrity protection is on. Daily rotation
// goes by the records' times, forward only. It returns the offset in b.buf
// where the record ends. Called with l.mu held.
func (l *Logger) appendRecord(b *batch, e *Event) (int, error) {
	_, isFile := l.out.(*fileWriter)
	day := max(l.dayOf(e.Time), l.cur.day)
	start := len(b.buf)
	if l.replaced.Load() && l.replaced.Swap(false) {
		l.forceRotate = true
	}
	rotate := isFile && l.size > 0 && (l.forceRotate ||
		(l.cfg.Daily != DailyOff && l.cur.day >= 0 && day > l.cur.day))
	st, size, buf := l.cur, l.size, b.buf
	var n int
	var err error
	placed := false
	if !rotate && (l.key == nil || size > 0) {
		buf, n, err = l.formatRecord(buf, &st, e)
		if err != nil {
			b.buf = buf[:start]
			return 0, err
		}
		if isFile && size > 0 && size+int64(n) > l.cfg.MaxSize {
			rotate, buf, st = true, buf[:start], l.cur
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
			if err := l.useKey(st.index); err != nil {
				b.buf = buf[:start]
				return 0, err
			}
			h := fileStartEvent(st.index, &st.mac, l.key.algorithm())
			h.Time = e.Time
			if buf, n, err = l.formatRecord(buf, &st, &h); err != nil {
				b.buf = buf[:start]
				return 0, err
			}
			size += int64(n)
		}
		if buf, n, err = l.formatRecord(buf, &st, e); err != nil {
			b.buf = buf[:start]
			return 0, err
		}
		size += int64(n)
	}
	if n > MaxRecordSize || (isFile && size > l.cfg.MaxSize) {
		b.buf = buf[:start]
		return 0, fmt.Errorf("audit: %s event: %w: %d bytes (limit %d)", e.Type, ErrRecordTooLarge, n, min(int64(MaxRecordSize), l.cfg.MaxSize))
	}
	st.day = day
	b.buf = buf
	if rotate || len(b.segs) == 0 {
		b.segs = append(b.segs, segment{rotate: rotate})
	}
	sg := &b.segs[len(b.segs)-1]
	sg.end, sg.last = len(buf), st
	l.cur, l.size = st, size
	if rotate {
		l.forceRotate = false
	}
	return len(buf), nil
}

// useKey makes l.key the key of file index, evolving it (and rewriting the
// key file) as needed. Called with l.mu held.
func (l *Logger) useKey(index uint64) error {
	if l.key.index > index {
		return fmt.Errorf("audit: integrity: %w: the key is for file %d, after file %d", ErrBadKey, l.key.index, index)
	}
	if l.key.index == index {
		return nil
	}
	for l.key.index < index {
		l.key = l.key.evolve()
	}
	if l.key.key != nil && l.cfg.IntegrityKeyFile != "" {
		return writeKeyFile(l.cfg.IntegrityKeyFile, l.key)
	}
	return nil
}

// formatRecord appends the record of e that follows st, sealed when
// integrity protection is on, and a newline, advances st past it and returns
// the record's length. Called with l.mu held.
func (l *Logger) formatRecord(dst []byte, st *fileState, e *Event) ([]byte, int, error) {
	start := len(dst)
	if l.trusted {
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
		if b.records > l.woken || l.pending != b {
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
	b := l.pending
	l.pending = nil
	l.mu.Unlock()

	written, phys := l.writeBatch(b)

	l.mu.Lock()
	b.done = true
	l.phys = phys
	l.bytes += uint64(written)
	if written < len(b.buf) {
		// The file holds less than the logical state assumed: go back to
		// what it really holds, and fail the records formatted meanwhile,
		// since their sequence numbers assumed this batch was written.
		l.cur, l.size = phys, l.out.Size()
		if l.key != nil {
			if l.size == 0 {
				l.cur.index = l.key.index // an empty file takes the current key
			} else if l.key.index != l.cur.index {
				l.forceRotate = true // this file's key is gone
			}
		}
		if p := l.pending; p != nil {
			p.done = true
			p.err = fmt.Errorf("audit: not written after an earlier failure: %w", b.err)
			l.pending = nil
			p.cond.Broadcast()
		}
	}
	if sleepers := b.waiters - writer; sleepers > 0 {
		b.cond.Broadcast() // its waiters read their results
	}
	l.woken = b.waiters - writer
}

// writeBatch writes b to out, rotating where its segments say, and syncs
// under SyncEveryEvent. It sets b.acked and b.err and returns how many bytes of
// b.buf are in the files and the state of the file they leave. Called by the
// owner of busy, without l.mu.
func (l *Logger) writeBatch(b *batch) (written int, phys fileState) {
	phys = l.phys
	start := 0
	for _, s := range b.segs {
		if s.rotate {
			rotated, err := l.rotate()
			if rotated {
				// An empty new file; the chain value carries over.
				phys.seq, phys.index, phys.day = 0, s.last.index, s.last.day
			}
			if err != nil {
				b.err = err
				break
			}
		}
		if err := l.out.Write(b.buf[start:s.end]); err != nil {
			b.err = l.writeError(fmt.Errorf("audit: write %s: %w", l.out.Path(), err))
			break
		}
		written, phys = s.end, s.last
		start = s.end
	}
	b.acked = written
	if l.cfg.Sync == SyncEveryEvent && written > 0 {
		if err := l.out.Sync(); err != nil {
			b.err = l.writeError(fmt.Errorf("audit: sync %s: %w", l.out.Path(), err))
			b.acked = 0
		} else {
			l.stats.syncs.Add(1)
		}
	}
	return written, phys
}

// rotate rotates the file and asks for retention. It reports whether the
// old file was moved aside, which can happen even when it fails (when the
// new file could not be opened; the next write opens it). Called by the
// owner of busy.
func (l *Logger) rotate() (rotated bool, err error) {
	if backup, err := l.out.Rotate(); err != nil {
		return backup != "", l.writeError(fmt.Errorf("audit: rotate %s: %w", l.out.Path(), err))
	}
	l.stats.rotations.Add(1)
	if l.cfg.Sync != SyncWriteThrough {
		l.stats.syncs.Add(1) // Rotate syncs the old file
	}
	select {
	case l.kick <- struct{}{}:
	default:
	}
	return true, nil
}

// writeError counts and reports a failed write, sync or rotation.
func (l *Logger) writeError(err error) error {
	if errors.Is(err, errFileReplaced) {
		l.replaced.Store(true)
	}
	l.stats.writeErrors.Add(1)
	l.reportError(err)
	return err
}

// reportError records err as the last error and passes it to OnError.
func (l *Logger) reportError(err error) {
	l.stats.setLast(err, l.now())
	if l.cfg.OnError != nil {
		l.cfg.OnError(err)
	}
}

// backgroundError reports an error of background work and keeps it for
// Close.
func (l *Logger) backgroundError(err error) {
	l.reportError(err)
	l.keepError(err)
}

// keepError keeps a background error for Close to return.
func (l *Logger) keepError(err error) {
	l.bgMu.Lock()
	if len(l.bgErrs) < maxBackgroundErrors {
		l.bgErrs = append(l.bgErrs, err)
	}
	l.bgMu.Unlock()
}

// acquire waits until no goroutine owns out and takes it. Called with l.mu
// held; returns with l.mu held.
func (l *Logger) acquire() {
	for l.busy {
		l.waitIdle()
	}
	l.busy = true
}

// waitIdle waits until busy may have cleared. Called with l.mu held.
func (l *Logger) waitIdle() {
	l.idleWaiters++
	l.cond.Wait()
	l.idleWaiters--
}

// release gives up out and wakes one waiter of the pending batch to write
// it. Only the waiters of a batch wake when it is done, and only one of the
// next batch's, so that a write does not wake every goroutine. Called with
// l.mu held.
func (l *Logger) release() {
	l.busy = false
	if l.pending != nil {
		l.pending.cond.Signal()
	}
	if l.idleWaiters > 0 {
		l.cond.Broadcast()
	}
}

// Sync flushes the audit file to stable storage (fdatasync), whatever the
// [SyncPolicy]. It returns an error wrapping [ErrClosed] after Close.
func (l *Logger) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("audit: sync: %w", ErrClosed)
	}
	return l.syncLocked()
}

// syncLocked syncs out. Called with l.mu held.
func (l *Logger) syncLocked() error {
	l.acquire()
	l.mu.Unlock()
	err := l.out.Sync()
	l.mu.Lock()
	l.release()
	if err != nil {
		return l.writeError(fmt.Errorf("audit: sync %s: %w", l.out.Path(), err))
	}
	l.stats.syncs.Add(1)
	return nil
}

// every calls fn every d, and at once whenever kick receives (a nil kick
// never does), until Close. The caller has added it to l.wg.
func (l *Logger) every(d time.Duration, kick <-chan struct{}, fn func()) {
	defer l.wg.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		case <-kick:
		}
		fn()
	}
}

// intervalSync is the periodic sync of SyncInterval. Its errors were
// reported by syncLocked; Close returns them too.
func (l *Logger) intervalSync() {
	l.mu.Lock()
	err := l.syncLocked()
	l.mu.Unlock()
	if err != nil {
		l.keepError(err)
	}
}

// prune removes the backups that Retention no longer keeps. With
// integrity protection on, it records what it removed and the chain value at
// the cut in a [RetentionPrune] record, so that a verifier can tell
// retention from tampering.
func (l *Logger) prune() {
	var olderThan time.Time
	if l.cfg.Retention > 0 {
		olderThan = l.now().Add(-l.cfg.Retention)
	}
	if l.cfg.MaxBackups > 0 {
		t, err := l.oldestKept()
		if err != nil {
			l.backgroundError(fmt.Errorf("audit: retention: %w", err))
			return
		}
		if t.After(olderThan) {
			olderThan = t
		}
	}
	var cut *Event
	if l.key != nil {
		var err error
		if cut, err = l.retentionCut(olderThan); err != nil {
			l.backgroundError(fmt.Errorf("audit: retention in %s: %w", l.dir, err))
			return // keep the files rather than lose the chain
		}
	}
	removed, err := pruneBackups(nil, l.dir, l.module, olderThan)
	if err != nil {
		l.backgroundError(err)
	}
	l.stats.pruned.Add(uint64(len(removed)))
	if cut == nil || len(removed) == 0 {
		return
	}
	names := make([]string, len(removed))
	for i, p := range removed {
		names[i] = filepath.Base(p)
	}
	cut.Object = strings.Join(names, " ")
	if err := l.write(cut); err != nil && !errors.Is(err, ErrClosed) {
		l.backgroundError(err)
	}
}

// oldestKept returns the rotation time of the oldest of the MaxBackups
// newest backups, or the zero time if there are no more than that.
func (l *Logger) oldestKept() (time.Time, error) {
	backups, err := listBackups(osFS{}, l.dir, l.module)
	if err != nil {
		return time.Time{}, err
	}
	var times []time.Time // distinct, ascending: a .log and its .log.gz are one backup
	for _, b := range backups {
		if n := len(times); n == 0 || !times[n-1].Equal(b.time) {
			times = append(times, b.time)
		}
	}
	if len(times) <= l.cfg.MaxBackups {
		return time.Time{}, nil
	}
	return times[len(times)-l.cfg.MaxBackups], nil
}

// retentionCut returns the RetentionPrune event for removing the backups
// older than olderThan: it names the chain value at the end of the newest
// of them and that file's index. It returns nil if none is that old.
func (l *Logger) retentionCut(olderThan time.Time) (*Event, error) {
	backups, err := listBackups(osFS{}, l.dir, l.module)
	if err != nil {
		return nil, err
	}
	newest := ""
	for _, b := range backups {
		if b.kind != backupTmp && b.time.Before(olderThan) {
			newest = filepath.Join(l.dir, b.name) // sorted by name, so by time
		}
	}
	if newest == "" {
		return nil, nil
	}
	first, last, err := readEnds(newest)
	if err != nil {
		return nil, err
	}
	head, err := ParseRecord(first)
	if err != nil {
		return nil, fmt.Errorf("%s: first record: %w", newest, err)
	}
	index, _, _, err := fileStartInfo(&head.Event)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", newest, err)
	}
	tail, err := ParseRecord(last)
	if err != nil {
		return nil, fmt.Errorf("%s: last record: %w", newest, err)
	}
	e := &Event{Type: RetentionPrune, Reason: "retention"}
	e.AddField("cut-file", strconv.FormatUint(index, 10))
	e.AddField("cut", tail.MAC)
	return e, nil
}

// checkpoint writes a Checkpoint record (every CheckpointInterval).
func (l *Logger) checkpoint() {
	e := Event{Type: Checkpoint}
	if err := l.write(&e); err != nil && !errors.Is(err, ErrClosed) {
		l.backgroundError(err)
	}
}

// SetMask changes the event mask at run time and records an
// [AuditConfigChange] event with actor, the old and the new mask. If that
// record cannot be written the mask is left as it was and the error is
// returned. m must be a non-empty set of categories ([ErrBadMask]).
func (l *Logger) SetMask(m Mask, actor string) error {
	if m == 0 || m&^AllEvents != 0 {
		return fmt.Errorf("audit: set mask %#x: %w: empty or unknown bits", uint8(m), ErrBadMask)
	}
	l.setMaskMu.Lock()
	defer l.setMaskMu.Unlock()
	old := Mask(l.mask.Swap(uint32(m)))
	e := Event{Type: AuditConfigChange, Actor: actor, Object: ParamEventMask, OldValue: old.String(), NewValue: m.String()}
	if err := l.write(&e); err != nil {
		l.mask.Store(uint32(old))
		return err
	}
	return nil
}

// Mask returns the current event mask.
func (l *Logger) Mask() Mask { return Mask(l.mask.Load()) }

// Path returns the path of the active audit file, or "" when the logger
// writes to [Config.Output].
func (l *Logger) Path() string { return l.out.Path() }

// Close writes what is pending, syncs the file, stops every goroutine the
// Logger started and closes the file. It returns write and sync errors and
// the errors of background work since New, joined. Close may be called more
// than once; later calls return nil. Log calls that race with Close either
// complete (their record is written) or return [ErrClosed].
func (l *Logger) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	for l.pending != nil {
		if l.busy {
			l.waitIdle()
			continue
		}
		l.busy = true
		l.flushPending(0)
		l.release()
	}
	l.mu.Unlock()

	close(l.stop)
	l.wg.Wait()

	l.mu.Lock()
	l.acquire()
	l.mu.Unlock()
	var errs []error
	if err := l.out.Sync(); err != nil {
		errs = append(errs, fmt.Errorf("audit: sync %s: %w", l.out.Path(), err))
	}
	if err := l.out.Close(); err != nil {
		errs = append(errs, fmt.Errorf("audit: close %s: %w", l.out.Path(), err))
	}
	l.bgMu.Lock()
	errs = append(errs, l.bgErrs...)
	l.bgMu.Unlock()
	return errors.Join(errs...)
}

// streamSink writes to a caller's io.Writer.
type streamSink struct{ w io.Writer }

func (s streamSink) Write(p []byte) error {
	n, err := s.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return err
}

func (s streamSink) Sync() error {
	if f, ok := s.w.(interface{ Sync() error }); ok {
		return f.Sync()
	}
	return nil
}

func (streamSink) Rotate() (string, error) { return "", nil }
func (streamSink) Size() int64             { return 0 }
func (streamSink) Path() string            { return "" }
func (streamSink) Close() error            { return nil }
