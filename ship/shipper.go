package ship

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/auditkit/audit"
	"github.com/auditkit/audit/internal/redact"
)

// ShipperConfig says which module's records a [Shipper] ships, and where.
// Dir, Module and either URL or Destination are required; every other
// field's zero value is a working default.
type ShipperConfig struct {
	// Dir is the audit directory, Module the module whose files are
	// shipped.
	Dir    string
	Module string
	// Host names this machine in every message. Empty means the
	// operating system's host name.
	Host string
	// Destination is where the records go: the URL and options of
	// [Open]. Its OnError, when nil, is the shipper's.
	Destination Config
	// Open, when set, is used instead of [Open] to make the destination
	// from Destination, for destinations of other packages. The shipper
	// closes what it returns when it is closed.
	Open func(Config) (Destination, error)
	// CursorFile is the file that holds the shipping position. Empty
	// means [CursorPath] of Dir, Module and Destination.URL, which is the
	// name retention reads: a cursor file elsewhere does not keep
	// unshipped files from retention.
	CursorFile string
	// Batch is the most records handed to one Ship call. Zero means 256.
	Batch int
	// CursorInterval is how often, at most, the cursor file is written
	// (atomically, with two fsyncs): after a batch is acknowledged when
	// the last write is older than CursorInterval, else once
	// CursorInterval has passed since it; and when the shipper closes. A
	// crash resends the records acknowledged since the last write (at
	// least once). Zero means 500 ms.
	CursorInterval time.Duration
	// Poll bounds how long a record waits in the files before it is
	// read: at the end of the files the shipper looks again after Poll/8
	// when its last look found records, and backs off, doubling, up to
	// Poll while none come (see "Latency and cost" in the package
	// documentation). Zero means 200 ms.
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts after the
	// files cannot be read or the cursor cannot be written. Zero means
	// 100 ms and 30 seconds. The destination backs off on its own.
	MinBackoff, MaxBackoff time.Duration
	// MaxBacklogRecords, MaxBacklogBytes and MaxBacklogAge are the
	// backlog limits: when the records not yet acknowledged, their bytes
	// on disk, or the age of the oldest of them pass a limit, OnError
	// hears an error wrapping [ErrBacklog] once, and again only after the
	// backlog went back under every limit. Zero means no limit.
	MaxBacklogRecords int64
	MaxBacklogBytes   int64
	MaxBacklogAge     time.Duration
	// StatsInterval is how often the backlog is measured. Zero means one
	// second.
	StatsInterval time.Duration
	// OnError, when set, hears the first error of each streak of failures
	// (reading the files, writing the cursor, and the destination's),
	// every record that cannot be shipped (a [*SkipError]), and the
	// backlog passing a limit. It is called from the shipper's goroutines
	// and must not block for long.
	OnError func(error)
}

// Shipper follows one module's audit files from a durable cursor and ships
// their records to a destination, in order, at least once. Make one with
// [NewShipper], run it with Start and stop it with Close; it runs beside a
// [audit.Logger] in the same process, or alone (auditlog ship).
//
// A record that cannot be shipped (a line longer than
// [audit.MaxRecordSize], or one the destination refuses with
// [ErrBadMessage]) is skipped, counted in [ShipperStats].Failed and
// reported to OnError as a [*SkipError] naming its file and line; the
// cursor moves past it so that the records after it still go. The
// central copy then lacks that record, which verifying it shows. Every
// other failure (an outage, an unreadable file, a cursor pointing into a
// file that is gone) is retried with backoff and reported once per streak
// of failures, and again when the cause changes within it: nothing is
// skipped for it.
type Shipper struct {
	cfg     ShipperConfig
	dest    Destination
	cursor  string    // cursor file path
	lock    io.Closer // the cursor's lock, held until Close
	destURL string

	mu      sync.Mutex
	acked   Cursor       // the durable cursor
	readTo  audit.Cursor // where the reader stands
	started bool
	closed  bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	shipped, failed atomic.Uint64
	backlog         atomic.Pointer[Backlog]
	overLimit       bool         // only the monitor goroutine uses it
	header          headerReader // only the ship goroutine uses it
}

// ShipperStats counts what a [Shipper] did since it started.
type ShipperStats struct {
	// Shipped is the number of records the destination acknowledged.
	Shipped uint64
	// Failed is the number of records that could not be shipped and were
	// skipped, each reported as a [*SkipError].
	Failed uint64
	// Cursor is the durable position: every record up to it is
	// acknowledged.
	Cursor Cursor
	// Backlog is what is not yet acknowledged, as last measured.
	Backlog Backlog
}

// Backlog is what a [Shipper] has not yet delivered.
type Backlog struct {
	// Records is the number of records after the cursor.
	Records int64
	// Bytes is the space on disk of the records after the cursor: the
	// rest of the cursor's file and every later file, compressed ones at
	// their compressed size.
	Bytes int64
	// Oldest is the time of the first record after the cursor, zero when
	// there is none.
	Oldest time.Time
	// Measured is when these figures were taken.
	Measured time.Time
}

// ErrBacklog is wrapped by the error that reports a backlog past one of
// the limits of a [ShipperConfig].
var ErrBacklog = errors.New("shipping backlog over its limit")

// SkipError reports a record that could not be shipped and was skipped.
type SkipError struct {
	// Path is the audit file that holds the record, Line its line number
	// in it (from 1).
	Path string
	Line int
	// Err says why.
	Err error
}

// Error names the record skipped, its file and line, and why.
func (e *SkipError) Error() string {
	return fmt.Sprintf("audit: ship: %s:%d: record skipped, it cannot be shipped: %v", e.Path, e.Line, e.Err)
}

// Unwrap returns why the record could not be shipped.
func (e *SkipError) Unwrap() error { return e.Err }

const (
	defaultBatch          = 256
	defaultCursorInterval = 500 * time.Millisecond
	defaultPoll           = 200 * time.Millisecond
	defaultStatsInterval  = time.Second
)

// NewShipper checks cfg, reads the cursor file and opens the destination
// without connecting. A missing cursor file means nothing was shipped
// yet: once the destination is open, it is created, pointing before the
// oldest file, so that retention keeps every file from now on; a
// destination that cannot be opened leaves no cursor file. A cursor file
// that is corrupt, or for another module or destination (another scheme,
// host or port), is an error wrapping [ErrBadCursor]. The shipper holds the cursor's lock ([LockCursor]) until
// Close: while it runs, a second shipper of the same cursor file is
// refused with an error wrapping [ErrCursorInUse].
func NewShipper(cfg ShipperConfig) (*Shipper, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("audit: shipper: %s: %w", fmt.Sprintf(format, args...), ErrBadDestination)
	}
	if cfg.Dir == "" {
		return nil, bad("no directory")
	}
	if cfg.Destination.URL == "" {
		return nil, bad("no destination URL")
	}
	if cfg.Host == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("audit: shipper: host name: %w", err)
		}
		cfg.Host = h
	}
	probe := Message{Host: cfg.Host, Module: cfg.Module, File: "-"}
	if cfg.Module == "" {
		return nil, bad("no module")
	}
	if _, err := cfg.Destination.Format.Append(nil, &probe); err != nil {
		return nil, bad("%v", err)
	}
	if cfg.Batch <= 0 {
		cfg.Batch = defaultBatch
	}
	if cfg.Poll <= 0 {
		cfg.Poll = defaultPoll
	}
	if cfg.CursorInterval <= 0 {
		cfg.CursorInterval = defaultCursorInterval
	}
	cfg.MinBackoff, cfg.MaxBackoff = backoffBounds(cfg.MinBackoff, cfg.MaxBackoff)
	if cfg.StatsInterval <= 0 {
		cfg.StatsInterval = defaultStatsInterval
	}
	if cfg.CursorFile == "" {
		cfg.CursorFile = CursorPath(cfg.Dir, cfg.Module, cfg.Destination.URL)
	}
	s := &Shipper{cfg: cfg, cursor: cfg.CursorFile, destURL: cfg.Destination.URL}
	if _, err := audit.Follow(cfg.Dir, cfg.Module, audit.Cursor{}, cfg.Poll); err != nil {
		return nil, err // a module name the library does not accept
	}
	dcfg := cfg.Destination
	if dcfg.OnError == nil {
		dcfg.OnError = s.report
	}
	open := cfg.Open
	if open == nil {
		open = Open
	}
	// The destination is checked before a new cursor file is made: one
	// left by a shipper that never ran would hold every file back from
	// retention.
	var err error
	if s.dest, err = open(dcfg); err != nil {
		return nil, err
	}
	fail := func(err error) (*Shipper, error) {
		s.dest.Close()
		if s.lock != nil {
			s.lock.Close()
		}
		return nil, err
	}
	if s.lock, err = LockCursor(s.cursor); err != nil {
		return fail(err)
	}
	c, err := ReadCursor(s.cursor)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c = Cursor{Module: cfg.Module, Destination: cfg.Destination.URL}
		if err := WriteCursor(s.cursor, c); err != nil {
			return fail(err)
		}
	case err != nil:
		return fail(err)
	case c.Module != cfg.Module:
		return fail(fmt.Errorf("audit: shipping cursor %s is for module %q, not %q: %w", s.cursor, c.Module, cfg.Module, ErrBadCursor))
	case destinationKey(c.Destination) != destinationKey(cfg.Destination.URL):
		// Its position says what another receiver has: shipping from it
		// would never send this one the records before it.
		return fail(fmt.Errorf("audit: shipping cursor %s is for destination %s, not %s: %w",
			s.cursor, redact.URL(destinationKey(c.Destination)), redact.URL(destinationKey(cfg.Destination.URL)), ErrBadCursor))
	}
	s.acked = c
	return s, nil
}

func (s *Shipper) report(err error) {
	if s.cfg.OnError != nil {
		s.cfg.OnError(err)
	}
}

// Start starts shipping in the background. It does nothing after the
// first call or after Close.
func (s *Shipper) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return
	}
	s.started = true
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	full, free := make(chan *batch, batches), make(chan *batch, batches)
	for range batches {
		free <- &batch{items: make([]item, 0, s.cfg.Batch)}
	}
	s.wg.Add(3)
	go func() { defer s.wg.Done(); s.read(ctx, s.Stats().Cursor, full, free) }()
	go func() { defer s.wg.Done(); s.ship(ctx, full, free) }()
	go func() { defer s.wg.Done(); s.monitor(ctx) }()
}

// Close stops shipping, waits until every goroutine of the shipper has
// returned, and closes the destination. Records acknowledged before are
// in the cursor file; the next shipper resumes after them. Close may be
// called more than once.
func (s *Shipper) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	cancel := s.cancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	s.wg.Wait()
	err := s.dest.Close()
	s.lock.Close()
	return err
}

// Stats returns what the shipper did so far and its backlog as last
// measured.
func (s *Shipper) Stats() ShipperStats {
	st := ShipperStats{Shipped: s.shipped.Load(), Failed: s.failed.Load()}
	s.mu.Lock()
	st.Cursor = s.acked
	s.mu.Unlock()
	if b := s.backlog.Load(); b != nil {
		st.Backlog = *b
	}
	return st
}

// item is one record read from the files, or a record that cannot be
// read (err set), with the cursor just past it. Its line is
// buf[start:end] of its batch.
type item struct {
	start, end int
	path       string
	number     int
	next       audit.Cursor
	err        error
}

// batch is a run of records handed from the reader to the shipper in one
// piece, their lines one after the other in buf. Batches go back to the
// reader once shipped and are filled again, so that reading allocates
// nothing per record.
type batch struct {
	items []item
	buf   []byte
}

const (
	// batches is how many batches are in flight: one being filled, the
	// others waiting to be shipped or being shipped.
	batches = 4
	// batchBytes is the size of the lines at which a batch is handed
	// over before it has Batch records; keptBatchBytes the largest
	// buffer kept for the next batch (a longer record's buffer goes).
	batchBytes     = 256 << 10
	keptBatchBytes = 2 * batchBytes
)

// read follows the files from c and hands every record, in order and in
// batches, to out; the batches come back through free.
//
// It reads what the files hold without waiting, up to a batch at a time.
// At their end it hands over what it has and waits before looking again:
// Poll/8 after a look that found records, doubling after each look that
// found none, up to Poll. A busy file is thus read in large pieces a few
// dozen times a second, and an idle one is looked at every Poll.
func (s *Shipper) read(ctx context.Context, c Cursor, out chan<- *batch, free chan *batch) {
	r := s.newRetry()
	cur := audit.Cursor{File: c.File, Offset: c.Offset, Line: c.Line}
	var fl *audit.Follower
	defer func() {
		if fl != nil {
			fl.Close()
		}
	}()
	// Next with a context that is done returns the records the files
	// hold and, at their end, that context's error instead of waiting.
	now, cancel := context.WithCancel(context.Background())
	cancel()
	minWait := max(s.cfg.Poll/8, time.Microsecond)
	wait := minWait
	idle := time.NewTimer(time.Hour)
	idle.Stop()
	defer idle.Stop()
	for ctx.Err() == nil {
		if fl == nil {
			var err error
			if fl, err = audit.Follow(s.cfg.Dir, s.cfg.Module, cur, s.cfg.Poll); err != nil {
				r.failed(ctx, err)
				continue
			}
		}
		var b *batch
		select {
		case b = <-free:
		case <-ctx.Done():
			return
		}
		b.items, b.buf = b.items[:0], b.buf[:0]
		if cap(b.buf) > keptBatchBytes {
			b.buf = nil
		}
		var ferr error
		atEnd := false
		for len(b.items) < s.cfg.Batch && len(b.buf) < batchBytes {
			e, err := fl.Next(now)
			if err != nil && errors.Is(err, context.Canceled) {
				atEnd = true
				break
			}
			it := item{path: e.Path, number: e.Number, next: e.Next}
			switch {
			case errors.Is(err, audit.ErrLineTooLong):
				it.err = err
			case err != nil:
				ferr = err
			default:
				if b.buf == nil {
					b.buf = make([]byte, 0, batchBytes+4<<10)
				}
				it.start = len(b.buf)
				b.buf = append(b.buf, e.Line...)
				it.end = len(b.buf)
			}
			if ferr != nil {
				break
			}
			cur = e.Next
			b.items = append(b.items, it)
		}
		found := len(b.items) > 0
		if found {
			s.mu.Lock()
			s.readTo = cur
			s.mu.Unlock()
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
		} else {
			free <- b
		}
		if ferr != nil {
			// The follower's state after a failure is unknown: start a
			// new one from the last record read.
			fl.Close()
			fl = nil
			r.failed(ctx, ferr)
			continue
		}
		r.succeeded()
		if !atEnd {
			continue
		}
		if found {
			wait = minWait
		} else {
			wait = min(2*wait, s.cfg.Poll)
		}
		idle.Reset(wait)
		select {
		case <-idle.C:
		case <-ctx.Done():
			return
		}
	}
}

func (s *Shipper) newRetry() retry {
	return retry{min: s.cfg.MinBackoff, max: s.cfg.MaxBackoff, onError: s.report, sleep: sleepCtx}
}

// ship takes the batches, ships their records and moves the cursor past
// the acknowledged ones. The cursor file is written at most once per
// CursorInterval: at once when the last write is older, else when the
// interval since the last write has passed.
func (s *Shipper) ship(ctx context.Context, in <-chan *batch, free chan<- *batch) {
	msgs := make([]Message, 0, s.cfg.Batch)
	w := cursorWriter{s: s, r: s.newRetry()}
	sr := s.newRetry()
	due := time.NewTimer(time.Hour)
	due.Stop()
	defer due.Stop()
	armed := false
	defer w.flush(ctx) // what was acknowledged before Close
	for {
		var b *batch
		select {
		case b = <-in:
		case <-due.C:
			armed = false
			w.flush(ctx)
			continue
		case <-ctx.Done():
			return
		}
		items := b.items
		for len(items) > 0 {
			// The records up to the first that cannot be read.
			k := 0
			msgs = msgs[:0]
			for k < len(items) && items[k].err == nil {
				msgs = append(msgs, s.message(&items[k], b.buf[items[k].start:items[k].end]))
				k++
			}
			n, err := s.dest.Ship(ctx, msgs)
			if n > 0 {
				s.shipped.Add(uint64(n))
				w.acked(items[n-1].next, msgs[n-1].Seq)
			}
			if err != nil && !errors.Is(err, ErrBadMessage) {
				if ctx.Err() != nil {
					return
				}
				// Ship retries delivery failures itself; a destination
				// that returns anyway (closed, or of another package)
				// is tried again after a backoff.
				if sr.failed(ctx, err) != nil {
					return
				}
				items = items[n:]
				continue
			}
			sr.succeeded()
			if n < len(items) && (err != nil || n == k) {
				// items[n] cannot be shipped: skip it, and say so.
				bad := items[n]
				if bad.err == nil {
					bad.err = err
				}
				s.failed.Add(1)
				s.report(&SkipError{Path: bad.path, Line: bad.number, Err: bad.err})
				var seq uint64
				if n < len(msgs) {
					seq = msgs[n].Seq
				}
				w.acked(bad.next, seq)
				n++
			}
			items = items[n:]
		}
		free <- b
		if !w.have {
			continue
		}
		if left := s.cfg.CursorInterval - time.Since(w.written); left <= 0 {
			if armed {
				due.Stop()
				armed = false
			}
			w.flush(ctx)
		} else if !armed {
			due.Reset(left)
			armed = true
		}
	}
}

// cursorWriter writes the cursor file: the durable cursor moves to what
// was acknowledged when flush succeeds.
type cursorWriter struct {
	s       *Shipper
	r       retry
	pending Cursor // acknowledged, not yet written, when have is true
	have    bool
	written time.Time
}

func (w *cursorWriter) acked(next audit.Cursor, seq uint64) {
	w.pending = Cursor{Module: w.s.cfg.Module, Destination: w.s.destURL, File: next.File, Offset: next.Offset, Line: next.Line, Seq: seq}
	w.have = true
}

// flush writes the pending cursor, retrying with backoff until it is
// written or ctx is done (then one last attempt is made, and a failure
// leaves the earlier cursor: the records after it are sent again).
func (w *cursorWriter) flush(ctx context.Context) {
	if !w.have {
		return
	}
	for {
		err := WriteCursor(w.s.cursor, w.pending)
		if err == nil {
			w.r.succeeded()
			break
		}
		if ctx.Err() != nil {
			w.s.report(err)
			return
		}
		if w.r.failed(ctx, err) != nil {
			return
		}
	}
	w.s.mu.Lock()
	w.s.acked = w.pending
	w.s.mu.Unlock()
	w.have = false
	w.written = time.Now()
}

// message makes the message of a record: the line as it is, with the
// type, outcome, seq and time read from it. A line that does not parse is
// shipped all the same, with its line number as its seq: the central
// verification reports it, as the local one does.
func (s *Shipper) message(it *item, line []byte) Message {
	m := Message{Host: s.cfg.Host, Module: s.cfg.Module, File: it.next.File, Seq: uint64(it.number), Line: line}
	if s.header.bcmHeader(line, &m) {
		return m
	}
	if r, err := audit.ParseRecord(line); err == nil {
		m.Seq, m.Type, m.Outcome, m.Time = r.Seq, r.Event.Type, r.Event.Outcome, r.Event.Time
	}
	return m
}

// headerReader reads the time, type, outcome and seq from the leading
// fields of BCM lines. It keeps the second of the last time it parsed, so
// that the records of the same second (most of them, when records come
// fast) cost a comparison and the fraction's digits instead of a
// time.Parse. The zero headerReader is ready to use.
type headerReader struct {
	sec  [len("2006-01-02T15:04:05")]byte
	base time.Time // sec's time in UTC; zero when none was kept
}

// bcmHeader reads the time, type, outcome and seq from the leading fields
// of a BCM line ("TIME MODULE TYPE OUTCOME seq=N ...") into m, without
// parsing the rest: a tenth of the cost of [audit.ParseRecord], which
// matters when the shipper keeps up with a busy logger on the same cores.
// It reports false for a line of another format or with a header it does
// not read; ParseRecord then decides.
func (h *headerReader) bcmHeader(line []byte, m *Message) bool {
	var f [5][]byte
	rest := line
	for i := range f {
		sp := bytes.IndexByte(rest, ' ')
		if sp < 0 {
			if i < len(f)-1 {
				return false
			}
			sp = len(rest)
		}
		f[i], rest = rest[:sp], rest[min(sp+1, len(rest)):]
	}
	if len(f[0]) == 0 || f[0][0] < '0' || f[0][0] > '9' || string(f[1]) != m.Module {
		return false
	}
	seq, ok := bytes.CutPrefix(f[4], []byte("seq="))
	if !ok {
		return false
	}
	n, err := strconv.ParseUint(string(seq), 10, 64)
	if err != nil {
		return false
	}
	t, ok := h.time(f[0])
	if !ok {
		return false
	}
	typ, ok := eventTypes()[string(f[2])]
	if !ok {
		var err error
		if typ, err = audit.ParseEventType(string(f[2])); err != nil {
			return false
		}
	}
	var out audit.Outcome
	switch string(f[3]) {
	case "SUCCESS":
		out = audit.Succeeded
	case "FAILURE":
		out = audit.Failed
	default:
		return false
	}
	m.Seq, m.Type, m.Outcome, m.Time = n, typ, out, t
	return true
}

// time parses b as time.RFC3339Nano. A time in UTC of the second kept,
// with 1 to 9 fraction digits (the library writes 6) or none, is the kept
// second plus the fraction; anything else goes through time.Parse, and a
// UTC time it parses becomes the second kept.
func (h *headerReader) time(b []byte) (time.Time, bool) {
	n := len(h.sec)
	if !h.base.IsZero() && len(b) > n && b[len(b)-1] == 'Z' && string(b[:n]) == string(h.sec[:]) {
		frac := b[n : len(b)-1]
		switch {
		case len(frac) == 0:
			return h.base, true
		case len(frac) >= 2 && len(frac) <= 10 && frac[0] == '.':
			ns := 0
			for _, c := range frac[1:] {
				if c < '0' || c > '9' {
					ns = -1
					break
				}
				ns = ns*10 + int(c-'0')
			}
			if ns >= 0 {
				for range 10 - len(frac) {
					ns *= 10
				}
				return h.base.Add(time.Duration(ns)), true
			}
		}
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}, false
	}
	if len(b) > n && b[len(b)-1] == 'Z' && (b[n] == '.' || b[n] == 'Z') {
		copy(h.sec[:], b[:n])
		h.base = t.Truncate(time.Second)
	}
	return t, true
}

// eventTypes maps the names of the event types callers log to the types,
// so that a name is looked up without allocating; the library's own types
// are looked up with ParseEventType.
var eventTypes = sync.OnceValue(func() map[string]audit.EventType {
	m := map[string]audit.EventType{}
	for _, t := range audit.EventTypes() {
		m[t.String()] = t
	}
	return m
})

// monitor measures the backlog every StatsInterval and reports it when it
// passes a limit.
func (s *Shipper) monitor(ctx context.Context) {
	t := time.NewTicker(s.cfg.StatsInterval)
	defer t.Stop()
	m := backlogMeter{dir: s.cfg.Dir, module: s.cfg.Module, poll: s.cfg.Poll, files: map[string]fileCount{}}
	for {
		s.measure(&m)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Shipper) measure(m *backlogMeter) {
	s.mu.Lock()
	c, read := s.acked, s.readTo
	s.mu.Unlock()
	b, err := m.measure(audit.Cursor{File: c.File, Offset: c.Offset, Line: c.Line}, read)
	if err != nil {
		return // the reader reports what is wrong with the files
	}
	b.Measured = time.Now()
	s.backlog.Store(&b)
	var over []string
	if l := s.cfg.MaxBacklogRecords; l > 0 && b.Records > l {
		over = append(over, fmt.Sprintf("%d records (limit %d)", b.Records, l))
	}
	if l := s.cfg.MaxBacklogBytes; l > 0 && b.Bytes > l {
		over = append(over, fmt.Sprintf("%d bytes (limit %d)", b.Bytes, l))
	}
	if l := s.cfg.MaxBacklogAge; l > 0 && !b.Oldest.IsZero() && b.Measured.Sub(b.Oldest) > l {
		over = append(over, fmt.Sprintf("oldest record from %s (limit %v)", b.Oldest.UTC().Format(time.RFC3339), l))
	}
	if len(over) > 0 && !s.overLimit {
		s.report(fmt.Errorf("audit: ship %s to %s: %v: %w", s.cfg.Module, s.destURL, over, ErrBacklog))
	}
	s.overLimit = len(over) > 0
}

// backlogMeter measures what lies after a cursor. It caches the line
// counts and fingerprints of backups, which never change, and counts the
// active file's lines from where it counted last time.
type backlogMeter struct {
	dir, module string
	poll        time.Duration
	files       map[string]fileCount // by path
}

// fileCount is what the meter knows of one file.
type fileCount struct {
	fp     string
	info   os.FileInfo // of the active file, to tell it from its successor
	offset int64       // bytes counted
	lines  int64       // complete lines in them
}

// measure measures the backlog after c. read is where the shipper's
// reader stands: the lines it read need not be counted again.
func (m *backlogMeter) measure(c, read audit.Cursor) (Backlog, error) {
	var b Backlog
	files, err := audit.ListFiles(m.dir, m.module)
	if err != nil {
		return b, err
	}
	counts := make([]fileCount, len(files))
	sizes := make([]int64, len(files))
	gz := make([]bool, len(files))
	start := -1
	for i, f := range files {
		if counts[i], sizes[i], gz[i], err = m.count(f, read); err != nil {
			return b, err
		}
		if c.File == "" || counts[i].fp == c.File {
			start = i
			break
		}
	}
	if start < 0 {
		return b, fmt.Errorf("file %s is gone", c.File)
	}
	for i := start + 1; i < len(files); i++ {
		if counts[i], sizes[i], gz[i], err = m.count(files[i], read); err != nil {
			return b, err
		}
	}
	for i := start; i < len(files); i++ {
		lines, size := counts[i].lines, sizes[i]
		if i == start && c.File != "" {
			left := max(lines-int64(c.Line), 0)
			if gz[i] {
				// Offsets are in the uncompressed contents: take the
				// share of the lines left.
				if lines > 0 {
					size = size * left / lines
				}
			} else {
				size = max(size-c.Offset, 0)
			}
			lines = left
		}
		b.Records += lines
		b.Bytes += size
	}
	if b.Records > 0 {
		// The first record after the cursor.
		if fl, err := audit.Follow(m.dir, m.module, c, m.poll); err == nil {
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // take what is there, wait for nothing
			if e, err := fl.Next(ctx); err == nil {
				if r, err := audit.ParseRecord(e.Line); err == nil {
					b.Oldest = r.Event.Time
				}
			}
			fl.Close()
		}
	}
	return b, nil
}

// count returns what the meter knows of f, its size on disk and whether
// it is compressed.
func (m *backlogMeter) count(f audit.File, read audit.Cursor) (fc fileCount, size int64, gz bool, err error) {
	path := f.Path
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) && !f.Active && !f.Compressed {
		path += ".gz"
		st, err = os.Stat(path)
	}
	if err != nil {
		return fc, 0, false, err
	}
	gz = f.Compressed || path != f.Path
	fc, ok := m.files[f.Path]
	if ok && !f.Active {
		return fc, st.Size(), gz, nil
	}
	if !ok && !f.Active && !gz {
		// A backup not seen yet may be the active file, rotated since it
		// was counted: count on from there rather than from its start.
		for _, a := range m.files {
			if a.info != nil && os.SameFile(a.info, st) {
				fc = a
				break
			}
		}
	}
	if ok && (fc.info == nil || !os.SameFile(fc.info, st)) {
		fc = fileCount{} // a new active file
	}
	if gz {
		fc, err = countCompressed(f)
	} else {
		fc, err = countPlain(path, fc, read)
	}
	if err != nil {
		return fc, 0, false, err
	}
	fc.info = nil // only the active file's is kept, to tell it from its successor
	if f.Active {
		fc.info = st
	}
	if len(m.files) > 4096 {
		clear(m.files)
	}
	m.files[f.Path] = fc
	return fc, st.Size(), gz, nil
}

// countPlain counts the complete lines of an uncompressed file from where
// fc stopped, or from read when read is further in the same file: the
// shipper's reader counted the lines before it, so that a busy file is
// not read a second time only to count them.
func countPlain(path string, fc fileCount, read audit.Cursor) (fileCount, error) {
	f, err := os.Open(path)
	if err != nil {
		return fc, err
	}
	defer f.Close()
	if fc.fp == "" {
		first, err := readFirstLine(f)
		if err != nil {
			return fc, err
		}
		if first == nil {
			return fileCount{}, nil // no complete line yet
		}
		fc.fp = audit.Fingerprint(first)
	}
	if read.File == fc.fp && read.Offset > fc.offset {
		fc.offset, fc.lines = read.Offset, int64(read.Line)
	}
	buf := make([]byte, 64<<10)
	pos := fc.offset
	for {
		n, err := f.ReadAt(buf, pos)
		chunk := buf[:n]
		if last := bytes.LastIndexByte(chunk, '\n'); last >= 0 {
			fc.lines += int64(bytes.Count(chunk[:last+1], []byte{'\n'}))
			fc.offset = pos + int64(last) + 1
		}
		pos += int64(n)
		if errors.Is(err, io.EOF) {
			return fc, nil
		}
		if err != nil {
			return fc, err
		}
	}
}

// readFirstLine returns f's first complete line, or nil if it has none.
func readFirstLine(f *os.File) ([]byte, error) {
	br := bufio.NewReader(io.NewSectionReader(f, 0, audit.MaxRecordSize+1))
	line, err := br.ReadBytes('\n')
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return line[:len(line)-1], nil
}

// countCompressed counts the lines of a compressed backup.
func countCompressed(f audit.File) (fileCount, error) {
	var fc fileCount
	r, err := audit.OpenFile(f)
	if err != nil {
		return fc, err
	}
	defer r.Close()
	for {
		ln, err := r.Next()
		if errors.Is(err, io.EOF) {
			return fc, nil
		}
		if err != nil && !errors.Is(err, audit.ErrLineTooLong) {
			return fc, err
		}
		if !ln.Complete {
			return fc, nil
		}
		if fc.lines == 0 {
			fc.fp = audit.Fingerprint(ln.Text)
		}
		fc.lines++
	}
}
