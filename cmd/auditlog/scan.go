package main

import (
	"bufio"
	"compress/gzip"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/auditkit/audit"
)

// scan reads the records of an audit directory that pass a filter, in time
// order: each module's files oldest first, and the modules merged by record
// time (ties in module name order).
//
// Each module's files are read by a goroutine of their own, which hands
// the records that pass the filter to next in batches: the modules are
// read in parallel, and the reading overlaps the printing.
type scan struct {
	rep     *reporter
	filter  *filter
	lf      *lineFilter
	strict  bool // parse every line in full
	streams streamHeap
	all     []*moduleStream
	total   int          // files to read
	opened  atomic.Int64 // files opened (or skipped) so far
	started bool
	done    chan struct{} // closed by close: the readers stop
	wg      sync.WaitGroup
	ticker  *time.Ticker     // the progress line's, on a terminal
	tick    <-chan time.Time // ticker's channel, or nil
	// Bytes on disk of the files, of those read or skipped, and in all.
	sizes      map[*auditFile]int64 // read-only once the scan starts
	doneBytes  atomic.Int64
	totalBytes int64
}

// errNoFiles means the directory holds no audit files (of the module
// asked for).
var errNoFiles = errors.New("no audit files")

// openScan lists the audit files of dir (of f.module only, if set) and
// opens the active ones at once, so that a rotation while the backups are
// read cannot hide records: the listing is repeated until it agrees with
// the active files opened. The error is about dir, or errNoFiles.
func openScan(dir string, f *filter, rep *reporter) (*scan, error) {
	var mods []*moduleFiles
	var actives map[*auditFile]*os.File
	for attempt := 0; ; attempt++ {
		var err error
		mods, err = listAuditFiles(dir, f.module)
		if err != nil {
			return nil, err
		}
		actives = openActives(mods)
		again, err := listAuditFiles(dir, f.module)
		if err != nil {
			closeAll(actives)
			return nil, err
		}
		if attempt == 4 || sameListing(mods, again, actives) {
			break
		}
		closeAll(actives)
	}
	if len(mods) == 0 {
		return nil, errNoFiles
	}
	sc := &scan{rep: rep, filter: f, lf: f.compile(), strict: f.strict, sizes: map[*auditFile]int64{}, done: make(chan struct{})}
	for _, m := range mods {
		s := &moduleStream{sc: sc, module: m.module, files: m.files, actives: map[*auditFile]*os.File{}}
		for _, af := range m.files {
			if f := actives[af]; f != nil {
				s.actives[af] = f
			}
		}
		sc.all = append(sc.all, s)
		sc.total += len(m.files)
		for _, af := range m.files {
			if st, err := os.Stat(af.path); err == nil {
				sc.sizes[af] = st.Size()
				sc.totalBytes += st.Size()
			}
		}
	}
	return sc, nil
}

// openActives opens the active file of each module.
func openActives(mods []*moduleFiles) map[*auditFile]*os.File {
	actives := map[*auditFile]*os.File{}
	for _, m := range mods {
		for _, af := range m.files {
			if af.active {
				if f, err := os.Open(af.path); err == nil {
					actives[af] = f
				}
			}
		}
	}
	return actives
}

func closeAll(files map[*auditFile]*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// sameListing reports whether b lists the same files as a, and the active
// files of a are still those opened.
func sameListing(a, b []*moduleFiles, actives map[*auditFile]*os.File) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].module != b[i].module || !slices.EqualFunc(a[i].files, b[i].files,
			func(x, y *auditFile) bool { return x.stem == y.stem }) {
			return false
		}
		for _, af := range a[i].files {
			if !af.active {
				continue
			}
			f := actives[af]
			if f == nil {
				return false
			}
			st1, err1 := f.Stat()
			st2, err2 := os.Stat(af.path)
			if err1 != nil || err2 != nil || !os.SameFile(st1, st2) {
				return false
			}
		}
	}
	return true
}

// next returns the next record, or false at the end. The entry is valid
// until the next call.
func (sc *scan) next() (*entry, bool) {
	if !sc.started {
		sc.started = true
		if sc.rep.tty {
			sc.ticker = time.NewTicker(progressTick)
			sc.tick = sc.ticker.C
		}
		for _, s := range sc.all {
			s.start()
		}
		for _, s := range sc.all {
			if s.next() {
				sc.streams = append(sc.streams, s)
			}
		}
		heap.Init(&sc.streams)
	} else if len(sc.streams) > 0 {
		// Advance the stream whose record was returned last.
		if sc.streams[0].next() {
			heap.Fix(&sc.streams, 0)
		} else {
			heap.Pop(&sc.streams)
		}
	}
	if len(sc.streams) == 0 {
		sc.rep.clearProgress()
		return nil, false
	}
	return sc.streams[0].current(), true
}

// progressTick is how often the progress line is brought up to date while
// the readers find no record.
const progressTick = 250 * time.Millisecond

// close stops the readers and closes every file still open.
func (sc *scan) close() {
	if sc.ticker != nil {
		sc.ticker.Stop()
	}
	close(sc.done)
	sc.wg.Wait()
	for _, s := range sc.all {
		if !sc.started {
			closeAll(s.actives)
		}
	}
	sc.rep.clearProgress()
}

// showProgress updates the progress line with the bytes read so far.
func (sc *scan) showProgress() {
	if !sc.rep.tty {
		return
	}
	var cur int64
	for _, s := range sc.all {
		cur += s.reading.Load()
	}
	sc.rep.progressBytes(int(sc.opened.Load()), sc.total, sc.doneBytes.Load()+cur, sc.totalBytes)
}

// moduleStream reads the records of one module's files in order: a reader
// goroutine (started by start) reads the files and sends batches of
// records, and next takes them one by one.
type moduleStream struct {
	sc     *scan
	module string

	// The consumer's side.
	batches chan *batch // from the reader; closed at the end
	free    chan *batch // back to the reader
	b       *batch      // the batch being taken
	pos     int         // index in b of the next record

	// The reader's side.
	files   []*auditFile
	actives map[*auditFile]*os.File // the module's active file, opened by openScan
	i       int                     // next file to open
	cur     *auditFile              // the file being read, or nil
	rc      io.Closer
	raw     *bufio.Reader // the compressed bytes of a gzipped file
	zr      *gzip.Reader
	lr      *audit.LineReader // s.lines while a file is read, else nil
	lines   *audit.LineReader // kept from file to file for its buffers
	skip    skipper           // passes over the lines of cur that hold no needle
	lineNo  int               // the number of the last line of cur read
	counter *countingReader   // the bytes of cur read so far
	en      entry             // the record read last
	firsts  map[*auditFile]firstRecord
	msgs    []message // diagnostics not yet handed over
	// reading is the number of bytes of cur read so far, for the
	// progress line, stored every 4096 lines (shown is the last line
	// number stored).
	reading atomic.Int64
	shown   int
}

// message is a diagnostic of a reader, printed by the consumer.
type message struct {
	problem bool // counts as a problem in the input
	text    string
}

func (s *moduleStream) problem(format string, args ...any) {
	s.msgs = append(s.msgs, message{true, fmt.Sprintf(format, args...)})
}

func (s *moduleStream) note(format string, args ...any) {
	s.msgs = append(s.msgs, message{false, fmt.Sprintf(format, args...)})
}

// batch is a run of records of one module, their lines copied out of the
// reader's buffers.
type batch struct {
	entries []entry
	ends    []int // the end of each entry's line in buf
	buf     []byte
	msgs    []message // diagnostics about the lines before the last entry
}

// Limits of a batch; a module's reader has batchesInFlight of them.
const (
	batchEntries    = 512
	batchBytes      = 128 << 10
	batchesInFlight = 4
)

// add appends a copy of en to b.
func (b *batch) add(en *entry) {
	b.buf = append(b.buf, en.line...)
	b.ends = append(b.ends, len(b.buf))
	b.entries = append(b.entries, *en)
}

// seal points the lines of the entries at b.buf, which no longer moves.
func (b *batch) seal() {
	start := 0
	for i := range b.entries {
		en := &b.entries[i]
		end := b.ends[i]
		line := b.buf[start:end:end]
		if en.hasLead {
			// The leading fields are slices of the line: move them along.
			en.lead.time = moveSlice(en.lead.time, en.line, line)
			en.lead.module = moveSlice(en.lead.module, en.line, line)
		}
		en.line = line
		start = end
	}
}

// moveSlice returns the slice of to at the offset and length that sub has
// in from.
func moveSlice(sub, from, to []byte) []byte {
	if len(sub) == 0 {
		return nil
	}
	off := cap(from) - cap(sub)
	return to[off : off+len(sub)]
}

// start starts the reader goroutine of s.
func (s *moduleStream) start() {
	s.batches = make(chan *batch, batchesInFlight)
	s.free = make(chan *batch, batchesInFlight)
	for range batchesInFlight {
		s.free <- &batch{}
	}
	s.sc.wg.Add(1)
	go s.read()
}

// read is the reader goroutine: it sends the records that pass the filter
// in batches until the files end or the scan is closed.
func (s *moduleStream) read() {
	defer s.sc.wg.Done()
	defer close(s.batches)
	defer func() {
		s.closeFile()
		closeAll(s.actives)
	}()
	for {
		var b *batch
		select {
		case b = <-s.free:
		case <-s.sc.done:
			return
		}
		b.entries, b.ends, b.buf = b.entries[:0], b.ends[:0], b.buf[:0]
		more := true
		for len(b.entries) < batchEntries && len(b.buf) < batchBytes {
			if more = s.advance(); !more {
				break
			}
			b.add(&s.en)
		}
		b.seal()
		b.msgs, s.msgs = s.msgs, b.msgs[:0]
		if len(b.entries) > 0 || len(b.msgs) > 0 {
			select {
			case s.batches <- b:
			case <-s.sc.done:
				return
			}
		}
		if !more {
			return
		}
	}
}

// next moves to the next record of the module, or reports false at the
// end.
func (s *moduleStream) next() bool {
	for {
		if s.b != nil && s.pos < len(s.b.entries) {
			s.pos++
			return true
		}
		if s.b != nil {
			s.free <- s.b
			s.b = nil
		}
		var b *batch
		select {
		case b = <-s.batches:
		case <-s.sc.tick:
			s.sc.showProgress() // while a reader finds nothing to send
			continue
		}
		if b == nil {
			return false // closed
		}
		for _, m := range b.msgs {
			if m.problem {
				s.sc.rep.problem("%s", m.text)
			} else {
				s.sc.rep.note("%s", m.text)
			}
		}
		s.b, s.pos = b, 0
		s.sc.showProgress()
	}
}

// current returns the record that next moved to.
func (s *moduleStream) current() *entry { return &s.b.entries[s.pos-1] }

// advance reads the next record that passes the filter into s.en.
func (s *moduleStream) advance() bool {
	sc := s.sc
	rep := s
	for {
		if s.cur == nil {
			if s.i >= len(s.files) {
				return false
			}
			af := s.files[s.i]
			s.i++
			sc.opened.Add(1)
			if s.outsidePeriod(af) {
				sc.doneBytes.Add(sc.sizes[af])
				continue
			}
			rc, counter, err := s.open(af)
			if err != nil {
				sc.doneBytes.Add(sc.sizes[af])
				if errors.Is(err, fs.ErrNotExist) {
					rep.problem("%s: %v (removed by retention while being read?)", af.path, errors.Unwrap(err))
				} else {
					rep.problem("%s: %v", af.path, cleanErr(err))
				}
				continue
			}
			s.cur, s.rc, s.counter = af, rc, counter
		}
		ln, err := s.lr.Next()
		if ln.Number > 0 { // not at the end, nor after a read error
			s.lineNo = ln.Number
		}
		if s.skip.off {
			s.lr.SetSkip(nil) // the rest of the file line by line
		}
		line := trimCR(ln.Text)
		if s.lineNo-s.shown >= 4096 {
			s.shown = s.lineNo
			s.reading.Store(s.counter.n)
		}
		switch {
		case errors.Is(err, io.EOF):
			s.closeFile()
			continue
		case errors.Is(err, audit.ErrLineTooLong):
			rep.problem("%s:%d: %v, skipped", s.cur.path, ln.Number, audit.ErrLineTooLong)
			continue
		case err != nil:
			rep.problem("%s:%d: read error: %v; skipped the rest of the file", s.cur.path, s.lineNo+1, readError(err))
			s.closeFile()
			continue
		case len(line) == 0 && ln.Complete:
			continue // an empty line holds no record
		case !ln.Complete && s.cur.active:
			rep.note("%s:%d: incomplete final line skipped (a record being written?)", s.cur.path, ln.Number)
			continue
		case !ln.Complete:
			rep.problem("%s:%d: incomplete final line skipped (the file was cut short)", s.cur.path, ln.Number)
			continue
		}
		if s.take(line) {
			return true
		}
	}
}

// take decides on line and makes it the current entry if it passes the
// filter.
func (s *moduleStream) take(line []byte) bool {
	sc := s.sc
	en := &s.en
	en.line, en.file, en.lineNo, en.rec, en.hasLead = line, s.cur, s.lineNo, nil, false
	if !sc.strict {
		en.hasLead = readLead(line, &en.lead)
		switch sc.lf.decide(line, &en.lead, en.hasLead) {
		case reject:
			return false
		case accept:
			if validCanonicalTime(en.lead.time) {
				return true // its time is read when needed
			}
		}
	}
	rec, err := audit.ParseRecord(line)
	if err != nil {
		s.problem("%s:%d: %v", s.cur.path, s.lineNo, err)
		return false
	}
	if !sc.filter.match(&rec) {
		return false
	}
	en.rec = &rec
	return true
}

// outsidePeriod reports whether af cannot hold a record of the filter's
// period, judged by the time of the first record of af and of the file
// after it: a module's records are in time order, so a file holds
// records from its first record's time up to the next file's first.
func (s *moduleStream) outsidePeriod(af *auditFile) bool {
	f := s.sc.filter
	if f.until.IsZero() && f.since.IsZero() {
		return false
	}
	if !f.until.IsZero() {
		if t, ok := s.firstTime(af); ok && !t.Before(f.until) {
			return true
		}
	}
	if !f.since.IsZero() && s.i < len(s.files) {
		if t, ok := s.firstTime(s.files[s.i]); ok && t.Before(f.since) {
			return true
		}
	}
	return false
}

// firstTime returns the time of the first record of af, if it can be
// read.
func (s *moduleStream) firstTime(af *auditFile) (time.Time, bool) {
	if ft, ok := s.firsts[af]; ok {
		return ft.t, ft.ok
	}
	var ft firstRecord
	if r, err := audit.OpenFile(af.file); err == nil {
		ln, err := r.Next()
		if err == nil && ln.Complete {
			if rec, err := audit.ParseRecord(ln.Text); err == nil {
				ft = firstRecord{rec.Event.Time, true}
			}
		}
		r.Close()
	}
	if s.firsts == nil {
		s.firsts = map[*auditFile]firstRecord{}
	}
	s.firsts[af] = ft
	return ft.t, ft.ok
}

type firstRecord struct {
	t  time.Time
	ok bool
}

// open opens af (an active file was opened by openScan), counting the
// bytes read from it, and makes s.lr read its lines, decompressed if it is
// gzipped, passing over the lines that hold none of the filter's needles.
// The buffers of s are used again from file to file.
func (s *moduleStream) open(af *auditFile) (io.Closer, *countingReader, error) {
	var f *os.File
	if af.active {
		f = s.actives[af]
		delete(s.actives, af)
	}
	if f == nil {
		var err error
		if f, err = openFileOrGzip(af); err != nil {
			return nil, nil, err
		}
	}
	c := &countingReader{r: f}
	var src io.Reader = c
	var magic [2]byte
	if n, _ := f.ReadAt(magic[:], 0); n == 2 && magic == [2]byte{0x1f, 0x8b} {
		if s.raw == nil {
			s.raw = bufio.NewReaderSize(c, 256<<10)
		} else {
			s.raw.Reset(c)
		}
		var err error
		if s.zr == nil {
			s.zr, err = gzip.NewReader(s.raw)
		} else {
			err = s.zr.Reset(s.raw)
		}
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		src = s.zr
	}
	if s.lines == nil {
		s.lines = audit.NewLineReader(src, f.Name())
	} else {
		s.lines.Reset(src, f.Name())
	}
	s.skip = skipper{}
	if !s.sc.strict && s.sc.lf.needles != nil {
		s.skip.needles = s.sc.lf.needles
		s.lines.SetSkip(s.skip.skip)
	}
	s.lr, s.lineNo = s.lines, 0
	return f, c, nil
}

// openFileOrGzip opens af as audit.OpenFile does, without decompressing
// it.
func openFileOrGzip(af *auditFile) (*os.File, error) {
	f, err := os.Open(af.path)
	if errors.Is(err, fs.ErrNotExist) && !af.active && af.path == af.stem {
		f, err = os.Open(af.stem + ".gz")
	}
	return f, err
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (s *moduleStream) closeFile() {
	if s.rc != nil {
		s.rc.Close()
	}
	if s.counter != nil {
		s.sc.doneBytes.Add(s.sc.sizes[s.cur])
		s.reading.Store(0)
		s.shown = 0
	}
	s.cur, s.rc, s.lr, s.counter = nil, nil, nil, nil
}

// streamHeap orders module streams by the time of their current record,
// then by module name.
type streamHeap []*moduleStream

func (h streamHeap) Len() int { return len(h) }
func (h streamHeap) Less(i, j int) bool {
	if c := compareTime(h[i].current(), h[j].current()); c != 0 {
		return c < 0
	}
	return h[i].module < h[j].module
}
func (h streamHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *streamHeap) Push(x any)   { *h = append(*h, x.(*moduleStream)) }
func (h *streamHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}

// cleanErr drops the operation and path of a *fs.PathError, which the
// caller names itself.
func cleanErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
