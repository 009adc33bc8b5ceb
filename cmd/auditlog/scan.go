package main

import (
	"container/heap"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"

	"github.com/auditkit/audit"
)

// scan reads the records of an audit directory that pass a filter, in time
// order: each module's files oldest first, and the modules merged by record
// time (ties in module name order).
type scan struct {
	rep     *reporter
	filter  *filter
	streams streamHeap
	all     []*moduleStream
	total   int // files to read
	opened  int // files opened so far
	started bool
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
	sc := &scan{rep: rep, filter: f}
	for _, m := range mods {
		s := &moduleStream{sc: sc, module: m.module, files: m.files, actives: actives}
		sc.all = append(sc.all, s)
		sc.total += len(m.files)
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

// next returns the next record, or false at the end.
func (sc *scan) next() (*audit.Record, bool) {
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
	return &sc.streams[0].rec, true
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

// moduleStream reads the records of one module's files in order.
type moduleStream struct {
	sc      *scan
	module  string
	files   []*auditFile
	actives map[*auditFile]*os.File // shared by the streams of a scan
	i       int                     // next file to open
	cur     *auditFile              // the file being read, or nil
	rc      io.ReadCloser
	lr      *lineReader
	rec     audit.Record // the current record
}

// advance reads the next record that passes the filter into s.rec.
func (s *moduleStream) advance() bool {
	rep := s.sc.rep
	for {
		if s.cur == nil {
			if s.i >= len(s.files) {
				return false
			}
			af := s.files[s.i]
			s.i++
			s.sc.opened++
			rep.progress(s.sc.opened, s.sc.total)
			rc, err := s.open(af)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					rep.problem("%s: %v (removed by retention while being read?)", af.path, errors.Unwrap(err))
				} else {
					rep.problem("%s: %v", af.path, cleanErr(err))
				}
				continue
			}
			s.cur, s.rc, s.lr = af, rc, newLineReader(rc)
		}
		line, complete, err := s.lr.next()
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
		}
		rec, err := audit.ParseRecord(line)
		if err != nil {
			rep.problem("%s:%d: %v", s.cur.path, s.lr.line, err)
			continue
		}
		if !s.sc.filter.match(&rec) {
			continue
		}
		s.rec = rec
		return true
	}
}

// open opens af: an active file was opened by openScan.
func (s *moduleStream) open(af *auditFile) (io.ReadCloser, error) {
	if af.active {
		f := s.actives[af]
		if f == nil {
			return openAuditFile(af)
		}
		delete(s.actives, af)
		return maybeGunzip(f, f)
	}
	return openAuditFile(af)
}

func (s *moduleStream) closeFile() {
	if s.rc != nil {
		s.rc.Close()
	}
	s.cur, s.rc, s.lr = nil, nil, nil
}

// streamHeap orders module streams by the time of their current record,
// then by module name.
type streamHeap []*moduleStream

func (h streamHeap) Len() int { return len(h) }
func (h streamHeap) Less(i, j int) bool {
	if c := h[i].rec.Event.Time.Compare(h[j].rec.Event.Time); c != 0 {
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
