package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/auditkit/audit"
)

// The names of audit files, as the library writes them. For module M:
//
//	M.audit.log                the active file
//	M.audit-<time>.log         a rotated backup
//	M.audit-<time>.log.gz      a compressed backup
//
// where <time> is UTC in backupTimeLayout. M is 1 to 64 ASCII letters,
// digits, '_' or '-', so it cannot contain the '.' that ends it.
var (
	activeRE = regexp.MustCompile(`^([A-Za-z0-9_-]{1,64})\.audit\.log$`)
	backupRE = regexp.MustCompile(`^([A-Za-z0-9_-]{1,64})\.audit-([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}\.[0-9]{3})\.log(\.gz)?$`)
)

// backupTimeLayout is the layout of the time in a backup's name.
const backupTimeLayout = "2006-01-02T15-04-05.000"

// auditFile is an audit file found in a directory.
type auditFile struct {
	path   string
	module string
	active bool
	time   time.Time // from a backup's name; zero for the active file
	// stem is the backup's path without ".gz": the plain and compressed
	// forms of one backup share it. It is path for the active file.
	stem string
	// gz is the compressed form's path when it exists. A backup listed with
	// both forms (a compression in progress, or interrupted by a crash
	// after it completed) is read from the plain one, or from gz if the
	// plain one has gone meanwhile.
	gz    string
	plain bool // the plain form was listed
}

// parseAuditName reports whether name is the name of an audit file, and
// returns its module, and for a backup its time and whether it is
// compressed.
func parseAuditName(name string) (module string, active bool, t time.Time, gz bool, ok bool) {
	if m := activeRE.FindStringSubmatch(name); m != nil {
		return m[1], true, time.Time{}, false, true
	}
	m := backupRE.FindStringSubmatch(name)
	if m == nil {
		return "", false, time.Time{}, false, false
	}
	t, err := time.Parse(backupTimeLayout, m[2])
	if err != nil || t.Format(backupTimeLayout) != m[2] {
		return "", false, time.Time{}, false, false
	}
	return m[1], false, t, m[3] != "", true
}

// moduleFiles are the audit files of one module: backups oldest first, by
// the time in their names, then the active file if there is one.
type moduleFiles struct {
	module string
	files  []*auditFile
}

// listAuditFiles returns the audit files in dir by module, sorted by module
// name. With module not empty, only that module's files are listed.
// Entries that are not regular files (or symbolic links to them) are
// ignored. The error is about dir itself.
func listAuditFiles(dir, module string) ([]*moduleFiles, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	byModule := map[string]*moduleFiles{}
	stems := map[string]*auditFile{}
	for _, ent := range entries {
		mod, active, t, gz, ok := parseAuditName(ent.Name())
		if !ok || module != "" && mod != module {
			continue
		}
		path := filepath.Join(dir, ent.Name())
		if !ent.Type().IsRegular() {
			if ent.Type()&fs.ModeSymlink == 0 {
				continue
			}
			if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
				continue
			}
		}
		stem := strings.TrimSuffix(path, ".gz")
		f := stems[stem]
		if f == nil {
			f = &auditFile{module: mod, active: active, time: t, stem: stem}
			stems[stem] = f
			mf := byModule[mod]
			if mf == nil {
				mf = &moduleFiles{module: mod}
				byModule[mod] = mf
			}
			mf.files = append(mf.files, f)
		}
		if gz {
			f.gz = path
		} else {
			f.plain = true
		}
	}
	mods := make([]*moduleFiles, 0, len(byModule))
	for _, mf := range byModule {
		for _, f := range mf.files {
			f.path = f.stem
			if !f.plain {
				f.path = f.gz
			}
		}
		slices.SortFunc(mf.files, compareFiles)
		mods = append(mods, mf)
	}
	slices.SortFunc(mods, func(a, b *moduleFiles) int { return strings.Compare(a.module, b.module) })
	return mods, nil
}

// compareFiles orders the files of a module: backups by time, then the
// active file.
func compareFiles(a, b *auditFile) int {
	switch {
	case a.active != b.active:
		if a.active {
			return 1
		}
		return -1
	case !a.time.Equal(b.time):
		return a.time.Compare(b.time)
	}
	return strings.Compare(a.stem, b.stem)
}

// openAuditFile opens f for reading, decompressing it if it is gzipped. A
// plain backup that has gone since it was listed (compressed meanwhile) is
// read from its compressed form.
func openAuditFile(f *auditFile) (io.ReadCloser, error) {
	path := f.path
	r, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !f.active && path == f.stem {
		path = f.stem + ".gz"
		r, err = os.Open(path)
	}
	if err != nil {
		return nil, err
	}
	return maybeGunzip(r, r)
}

// maybeGunzip returns a reader of the contents of r: decompressed if r
// starts with the gzip magic number. Closing the result closes c.
func maybeGunzip(r io.Reader, c io.Closer) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(2)
	if !bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		return readCloser{br, c}, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return readCloser{zr, c}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// maxLine is the longest line read: the largest record the library writes.
const maxLine = audit.MaxRecordSize

// errLineTooLong is returned for a line longer than maxLine; the line is
// skipped.
var errLineTooLong = fmt.Errorf("line longer than %d bytes", maxLine)

// lineReader reads the lines of an audit file.
type lineReader struct {
	br   *bufio.Reader
	line int // number of the last line returned
	buf  []byte
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line without its "\n" or "\r\n", and whether it
// ended with a newline (only the last line of a file may not). At the end
// of the input it returns io.EOF. A line longer than maxLine is skipped and
// reported with errLineTooLong; any other error is a read error, after
// which the reader must not be used.
func (lr *lineReader) next() (line []byte, complete bool, err error) {
	lr.buf = lr.buf[:0]
	tooLong, got := false, false
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if len(chunk) > 0 {
			got = true
		}
		if !tooLong {
			if len(lr.buf)+len(chunk) > maxLine {
				tooLong, lr.buf = true, lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == nil:
			lr.line++
			if tooLong {
				return nil, true, errLineTooLong
			}
			return trimEOL(lr.buf), true, nil
		case errors.Is(err, io.EOF):
			if !got {
				return nil, false, io.EOF
			}
			lr.line++
			if tooLong {
				return nil, false, errLineTooLong
			}
			return trimEOL(lr.buf), false, nil
		default:
			return nil, false, err
		}
	}
}

// trimEOL removes a final "\n" or "\r\n", and a lone final "\r".
func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}
