package kafka

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/auditkit/audit"
)

// The mirror of one host's module: files under DIR/<host>/ named like the
// library's backups, <Module>.audit-<UTC time>.log, one per source file,
// holding the source file's lines in order; and, for a sealed module, the
// newest head file the mirror holds the records of, <Module>.audit.head.
// A head that vouches for records not yet in the mirror waits in
// <Module>.audit.head.pending.

// backupTimeLayout is the time in the library's backup names.
const backupTimeLayout = "2006-01-02T15-04-05.000"

// moduleRE is the library's rule for module names.
var moduleRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// headPos is the position a head file vouches for.
type headPos struct {
	key, file, seq uint64
}

// less orders positions along the chain.
func (a headPos) less(b headPos) bool {
	if a.file != b.file {
		return a.file < b.file
	}
	if a.seq != b.seq {
		return a.seq < b.seq
	}
	return a.key < b.key
}

// parseHeadPos reads the key, file and seq fields of a head file's
// contents. It checks no seal: Verify does, with the key.
func parseHeadPos(data []byte) (headPos, bool) {
	line, ok := strings.CutSuffix(string(data), "\n")
	if !ok || strings.Contains(line, "\n") || !strings.HasPrefix(line, "audit-head v1 ") {
		return headPos{}, false
	}
	var p headPos
	found := 0
	for f := range strings.FieldsSeq(line) {
		k, v, _ := strings.Cut(f, "=")
		var dst *uint64
		switch k {
		case "key":
			dst = &p.key
		case "file":
			dst = &p.file
		case "seq":
			dst = &p.seq
		default:
			continue
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return headPos{}, false
		}
		*dst = n
		found++
	}
	return p, found == 3
}

// mirror is the mirror of one host's module.
type mirror struct {
	dir, host, module string

	files   map[string]bool // fingerprints of the mirror's files
	cur     string          // fingerprint of the newest file
	index   int64           // its index in the chain; -1 when unsealed
	lastSeq uint64          // seq of its last record
	named   time.Time       // the time in its name

	f        *os.File
	w        *bufio.Writer
	dirty    bool // written since the last sync
	dirDirty bool // a file was created since the last sync

	head, pending       []byte // newest head written; newest waiting
	headAt, pendingAt   headPos
	headNew, pendingNew bool // to be written at the next sync
}

// loadMirror opens the mirror of module under dir (DIR/<host>), creating
// the directory, and finds where it ends: the fingerprints of its files and
// the last record of the newest one. A last line left incomplete by a crash
// is cut off, and a newest file left empty is removed: neither was
// committed.
func loadMirror(dir, host, module string) (*mirror, error) {
	m := &mirror{dir: dir, host: host, module: module, files: map[string]bool{}, index: -1}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("audit: mirror: %w", err)
	}
	files, err := audit.ListFiles(dir, module)
	if err != nil {
		return nil, err
	}
	for i, f := range files {
		if f.Active {
			return nil, fmt.Errorf("audit: mirror %s: holds an active file of module %s: not a mirror directory", dir, module)
		}
		last := i == len(files)-1
		m.named = f.Rotated
		first, lines, end, err := scanMirrorFile(f, last)
		if err != nil {
			return nil, err
		}
		if first == nil {
			if !last {
				return nil, fmt.Errorf("audit: mirror %s: empty file before the newest", f.Path)
			}
			if err := os.Remove(f.Path); err != nil {
				return nil, fmt.Errorf("audit: mirror: %w", err)
			}
			if err := syncDir(dir); err != nil {
				return nil, err
			}
			break
		}
		fp := audit.Fingerprint(first)
		m.files[fp] = true
		if !last {
			continue
		}
		if f.Compressed {
			return nil, fmt.Errorf("audit: mirror %s: the newest file is compressed: cannot append to it", f.Path)
		}
		m.cur, m.lastSeq, m.index = fp, lines, fileIndex(first)
		if st, err := os.Stat(f.Path); err == nil && st.Size() > end {
			if err := os.Truncate(f.Path, end); err != nil {
				return nil, fmt.Errorf("audit: mirror: cut torn record: %w", err)
			}
		}
		fh, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return nil, fmt.Errorf("audit: mirror: %w", err)
		}
		if err := fh.Sync(); err != nil {
			fh.Close()
			return nil, fmt.Errorf("audit: mirror: %w", err)
		}
		m.f, m.w = fh, bufio.NewWriterSize(fh, 64<<10)
	}
	if m.head, err = readSmall(m.headPath()); err != nil {
		return nil, err
	}
	if m.head != nil {
		m.headAt, _ = parseHeadPos(m.head)
	}
	if m.pending, err = readSmall(m.headPath() + ".pending"); err != nil {
		return nil, err
	}
	if m.pending != nil {
		var ok bool
		if m.pendingAt, ok = parseHeadPos(m.pending); !ok {
			m.pending = nil
		}
	}
	m.promote()
	return m, nil
}

// scanMirrorFile returns the first line of f, and for the last file the
// number of complete lines and where the last one ends.
func scanMirrorFile(f audit.File, last bool) (first []byte, lines uint64, end int64, err error) {
	r, err := audit.OpenFile(f)
	if err != nil {
		return nil, 0, 0, err
	}
	defer r.Close()
	for {
		ln, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, 0, err
		}
		if !ln.Complete {
			break
		}
		if first == nil {
			first = append([]byte(nil), ln.Text...)
		}
		if !last {
			break
		}
		lines++
		end = ln.Offset + int64(len(ln.Text)) + 1
	}
	return first, lines, end, nil
}

// fileIndex returns the file index of a FILE_START record, -1 for any
// other first line (an unsealed file).
func fileIndex(first []byte) int64 {
	rec, err := audit.ParseRecord(first)
	if err != nil || rec.Event.Type != audit.FileStart {
		return -1
	}
	for i := range rec.Event.NumFields() {
		if f := rec.Event.Field(i); f.Key == "file" {
			n, err := strconv.ParseUint(f.Value, 10, 63)
			if err != nil {
				return -1
			}
			return int64(n)
		}
	}
	return -1
}

func readSmall(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: mirror: %w", err)
	}
	return data, nil
}

func (m *mirror) headPath() string { return filepath.Join(m.dir, m.module+".audit.head") }

// outcome of adding a record to a mirror.
type outcome int

const (
	written   outcome = iota
	duplicate         // already in the mirror
	ahead             // after a record the mirror lacks: dropped, the shipper resends in order
)

// add appends the record seq of source file fp to the mirror, unless it is
// already there. t names a new mirror file.
func (m *mirror) add(fp string, seq uint64, line []byte, t time.Time) (outcome, error) {
	switch {
	case fp == m.cur:
		if seq <= m.lastSeq {
			return duplicate, nil
		}
		if seq != m.lastSeq+1 {
			return ahead, nil
		}
	case m.files[fp]:
		return duplicate, nil
	case seq != 1:
		return ahead, nil
	default:
		if err := m.create(t); err != nil {
			return 0, err
		}
		m.files[fp], m.cur, m.lastSeq, m.index = true, fp, 0, fileIndex(line)
	}
	m.w.Write(line)
	if err := m.w.WriteByte('\n'); err != nil {
		return 0, fmt.Errorf("audit: mirror %s: %w", m.f.Name(), err)
	}
	m.lastSeq = seq
	m.dirty = true
	m.promote()
	return written, nil
}

// create starts a new mirror file named by t, later than the newest one.
func (m *mirror) create(t time.Time) error {
	if m.f != nil {
		if err := m.syncFile(); err != nil {
			return err
		}
		if err := m.f.Close(); err != nil {
			return fmt.Errorf("audit: mirror: %w", err)
		}
		m.f, m.w = nil, nil
	}
	t = t.UTC().Truncate(time.Millisecond)
	if !t.After(m.named) {
		t = m.named.Add(time.Millisecond)
	}
	for {
		name := filepath.Join(m.dir, m.module+".audit-"+t.Format(backupTimeLayout)+".log")
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o640)
		if errors.Is(err, fs.ErrExist) {
			t = t.Add(time.Millisecond)
			continue
		}
		if err != nil {
			return fmt.Errorf("audit: mirror: %w", err)
		}
		m.f, m.w, m.named, m.dirDirty = f, bufio.NewWriterSize(f, 64<<10), t, true
		return nil
	}
}

// offerHead takes a head file's contents: it is written at the next sync
// if the mirror holds the record it vouches for, else kept waiting until
// it does. Heads older than the newest one seen are dropped.
func (m *mirror) offerHead(data []byte) bool {
	p, ok := parseHeadPos(data)
	if !ok {
		return false
	}
	if m.head != nil && !m.headAt.less(p) || m.pending != nil && !m.pendingAt.less(p) {
		return true
	}
	m.pending, m.pendingAt, m.pendingNew = append([]byte(nil), data...), p, true
	m.promote()
	return true
}

// covers reports whether the mirror holds every record up to p and the
// file of p's key.
func (m *mirror) covers(p headPos) bool {
	if m.index < 0 {
		return false
	}
	i := uint64(m.index)
	return p.key <= i && (p.file < i || p.file == i && p.seq <= m.lastSeq)
}

// promote makes the waiting head the mirror's head once the mirror
// covers it.
func (m *mirror) promote() {
	if m.pending != nil && m.covers(m.pendingAt) {
		m.head, m.headAt, m.headNew = m.pending, m.pendingAt, true
		m.pending, m.pendingNew = nil, true
	}
}

// syncFile flushes and syncs the newest file.
func (m *mirror) syncFile() error {
	if m.f == nil || !m.dirty {
		return nil
	}
	if err := m.w.Flush(); err != nil {
		return fmt.Errorf("audit: mirror %s: %w", m.f.Name(), err)
	}
	if err := m.f.Sync(); err != nil {
		return fmt.Errorf("audit: mirror %s: %w", m.f.Name(), err)
	}
	m.dirty = false
	return nil
}

// sync makes what was added durable: the newest file, the directory when
// files were created, and the head files.
func (m *mirror) sync() error {
	if err := m.syncFile(); err != nil {
		return err
	}
	if m.headNew {
		if err := writeFileAtomic(m.headPath(), m.head); err != nil {
			return err
		}
		m.headNew = false
	}
	if m.pendingNew {
		var err error
		if m.pending == nil {
			err = os.Remove(m.headPath() + ".pending")
			if errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
			m.dirDirty = true
		} else {
			err = writeFileAtomic(m.headPath()+".pending", m.pending)
		}
		if err != nil {
			return fmt.Errorf("audit: mirror: %w", err)
		}
		m.pendingNew = false
	}
	if m.dirDirty {
		if err := syncDir(m.dir); err != nil {
			return err
		}
		m.dirDirty = false
	}
	return nil
}

// close syncs and closes the mirror.
func (m *mirror) close() error {
	err := m.sync()
	if m.f != nil {
		if cerr := m.f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("audit: mirror: %w", cerr)
		}
		m.f, m.w = nil, nil
	}
	return err
}

// writeFileAtomic replaces path with data: a temporary file beside it,
// synced, renamed over path, and the directory synced.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("audit: mirror: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o640); err != nil {
		return fmt.Errorf("audit: mirror: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("audit: mirror: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("audit: mirror: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("audit: mirror: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("audit: mirror: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("audit: mirror: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("audit: mirror: sync %s: %w", dir, err)
	}
	return nil
}
