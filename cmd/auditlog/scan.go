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
	"time"

	"github.com/auditkit/audit"
)

// scan reads the records of an audit directory that pass a filter, in time
// order: each module's files oldest first, and the modules merged by record
// time (ties in module name order).
type scan struct {
	rep     *reporter
	filter  *filter
	lf      *lineFilter
	strict  bool // parse every line in full
	streams streamHeap
	all     []*moduleStream
	total   int // files to read
	opened  int // files opened so far
	started bool
	firsts  map[*auditFile]firstRecord
	// Bytes on disk of the files, of those read or skipped, and in all.
	sizes      map[*auditFile]int64
	doneBytes  int64
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
	sc := &scan{rep: rep, filter: f, lf: f.compile(), strict: f.strict, sizes: map[*auditFile]int64{}}
	for _, m := range mods {
		s := &moduleStream{sc: sc, module: m.module, files: m.files, actives: actives}
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
		for _, s := range sc.all {
			if s.advance() {
				sc.streams = append(sc.streams, s)
			}
		}
		heap.Init(&sc.streams)
	} else if len(sc.streams) > 0 {
		// Advance the stream whose record was returned last.
		if sc.streams[0].advance() {
			heap.Fix(&sc.streams, 0)
		} else {
			heap.Pop(&sc.streams)
		}
	}
	if len(sc.streams) == 0 {
		sc.rep.clearProgress()
		return nil, false
	}
	return &sc.streams[0].en, true
}

// close closes every file still open.
func (sc *scan) close() {
	for _, s := range sc.all {
		s.closeFile()
		closeAll(s.actives)
		s.actives = nil
	}
	sc.rep.clearProgress()
}

// showProgress updates the progress line with the bytes read so far.
func (sc *scan) showProgress() {
	var cur int64
	for _, s := range sc.all {
		if s.counter != nil {
			cur += s.counter.n
		}
	}
	sc.rep.progressBytes(sc.opened, sc.total, sc.doneBytes+cur, sc.totalBytes)
}

// moduleStream reads the records of one module's files in order.
type moduleStream struct {
	sc      *scan
	module  string
	files   []*auditFile
	actives map[*auditFile]*os.File // shared by the streams of a scan
	i       int                     // next file to open
	cur     *auditFile              // the file being read, or nil
	rc      io.Closer
	raw     *bufio.Reader // a second buffer: the compressed bytes of a gzipped file
	zr      *gzip.Reader
	lr      *lines          // s.lines while a file is read, else nil
	lines   *lines          // kept from file to file for its buffers
	counter *countingReader // the bytes of cur read so far
	en      entry           // the current record
	days    dayCache
	count   int // lines read, to show the progress now and then
}

// advance reads the next record that passes the filter into s.en.
func (s *moduleStream) advance() bool {
	sc := s.sc
	rep := sc.rep
	for {
		if s.cur == nil {
			if s.i >= len(s.files) {
				return false
			}
			af := s.files[s.i]
			s.i++
			sc.opened++
			if s.outsidePeriod(af) {
				sc.doneBytes += sc.sizes[af]
				continue
			}
			sc.showProgress()
			rc, counter, err := s.open(af)
			if err != nil {
				sc.doneBytes += sc.sizes[af]
				if errors.Is(err, fs.ErrNotExist) {
					rep.problem("%s: %v (removed by retention while being read?)", af.path, errors.Unwrap(err))
				} else {
					rep.problem("%s: %v", af.path, cleanErr(err))
				}
				continue
			}
			s.cur, s.rc, s.counter = af, rc, counter
		}
		line, complete, err := s.lr.next()
		if s.count++; s.count&0xfff == 0 && rep.tty {
			sc.showProgress()
		}
		switch {
		case errors.Is(err, io.EOF):
			s.closeFile()
			continue
		case errors.Is(err, errLineTooLong):
			rep.problem("%s:%d: %v, skipped", s.cur.path, s.lr.line, err)
			continue
		case err != nil:
			rep.problem("%s:%d: read error: %v; skipped the rest of the file", s.cur.path, s.lr.line+1, cleanErr(err))
			s.closeFile()
			continue
		case len(line) == 0 && complete:
			continue // an empty line holds no record
		case !complete && s.cur.active:
			rep.note("%s:%d: incomplete final line skipped (a record being written?)", s.cur.path, s.lr.line)
			continue
		case !complete:
			rep.problem("%s:%d: incomplete final line skipped (the file was cut short)", s.cur.path, s.lr.line)
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
	en.line, en.file, en.lineNo, en.parsed, en.hasLead = line, s.cur, s.lr.line, false, false
	if !sc.strict {
		en.hasLead = readLead(line, &en.lead)
		switch sc.lf.decide(line, &en.lead, en.hasLead) {
		case reject:
			return false
		case accept:
			if t, ok := s.days.parse(en.lead.time); ok {
				en.time = t
				return true
			}
		}
	}
	rec, err := audit.ParseRecord(line)
	if err != nil {
		sc.rep.problem("%s:%d: %v", s.cur.path, s.lr.line, err)
		return false
	}
	if !sc.filter.match(&rec) {
		return false
	}
	en.rec, en.parsed, en.time = rec, true, rec.Event.Time
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
		if t, ok := s.sc.firstTime(af); ok && !t.Before(f.until) {
			return true
		}
	}
	if !f.since.IsZero() && s.i < len(s.files) {
		if t, ok := s.sc.firstTime(s.files[s.i]); ok && t.Before(f.since) {
			return true
		}
	}
	return false
}

// firstTime returns the time of the first record of af, if it can be
// read.
func (sc *scan) firstTime(af *auditFile) (time.Time, bool) {
	if ft, ok := sc.firsts[af]; ok {
		return ft.t, ft.ok
	}
	var ft firstRecord
	if rc, err := openAuditFile(af); err == nil {
		line, complete, err := newLineReader(rc).next()
		rc.Close()
		if err == nil && complete {
			if rec, err := audit.ParseRecord(line); err == nil {
				ft = firstRecord{rec.Event.Time, true}
			}
		}
	}
	if sc.firsts == nil {
		sc.firsts = map[*auditFile]firstRecord{}
	}
	sc.firsts[af] = ft
	return ft.t, ft.ok
}

type firstRecord struct {
	t  time.Time
	ok bool
}

// open opens af (an active file was opened by openScan), counting the
// bytes read from it, and makes s.lr read its lines, decompressed if it is
// gzipped. The buffers of s are used again from file to file.
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
	if s.lines == nil {
		s.lines = newLines(c)
	} else {
		s.lines.reset(c)
	}
	if magic, _ := s.lines.br.Peek(2); len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		s.lr = s.lines
		return f, c, nil
	}
	// Compressed: the buffer that peeked holds the compressed bytes, and
	// lines read the decompressed stream through the other buffer.
	if s.raw == nil {
		s.raw = bufio.NewReaderSize(nil, linesBuffer)
	}
	s.raw, s.lines.br = s.lines.br, s.raw
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
	s.lines.reset(s.zr)
	s.lr = s.lines
	return f, c, nil
}

// openFileOrGzip opens af as openAuditFile does, without decompressing
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
		s.sc.doneBytes += s.sc.sizes[s.cur]
	}
	s.cur, s.rc, s.lr, s.counter = nil, nil, nil, nil
}

// streamHeap orders module streams by the time of their current record,
// then by module name.
type streamHeap []*moduleStream

func (h streamHeap) Len() int { return len(h) }
func (h streamHeap) Less(i, j int) bool {
	if c := h[i].en.time.Compare(h[j].en.time); c != 0 {
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
