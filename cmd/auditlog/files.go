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
	"regexp"
	"strings"
	"time"

	"github.com/auditkit/audit"
)

// activeRE matches the name of an active audit file, M.audit.log, for
// convert, which reads files named on its command line; directories are
// listed by the library (audit.ListFiles).
var activeRE = regexp.MustCompile(`^([A-Za-z0-9_-]{1,64})\.audit\.log$`)

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
	plain bool       // the plain form was listed
	file  audit.File // as the library lists it
}

// moduleFiles are the audit files of one module: backups oldest first, by
// the time in their names, then the active file if there is one.
type moduleFiles struct {
	module string
	files  []*auditFile
}

// listAuditFiles returns the audit files in dir by module, sorted by module
// name, each module's in the order written, as the library lists them
// (audit.Modules and audit.ListFiles: the one place that knows the names).
// With module not empty, only that module's files are listed. The error is
// about dir itself.
func listAuditFiles(dir, module string) ([]*moduleFiles, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, errors.Unwrap(err) // the commands name the directory
	}
	names, err := audit.Modules(dir)
	if err != nil {
		return nil, err
	}
	var mods []*moduleFiles
	for _, m := range names {
		if module != "" && m != module {
			continue
		}
		files, err := audit.ListFiles(dir, m)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			continue // a head file alone
		}
		mf := &moduleFiles{module: m}
		for _, f := range files {
			af := &auditFile{path: f.Path, module: m, active: f.Active, time: f.Rotated,
				stem: strings.TrimSuffix(f.Path, ".gz"), plain: !f.Compressed, file: f}
			if f.Compressed {
				af.gz = f.Path
			}
			mf.files = append(mf.files, af)
		}
		mods = append(mods, mf)
	}
	return mods, nil
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
			return trimCR(bytes.TrimSuffix(lr.buf, []byte("\n"))), true, nil
		case errors.Is(err, io.EOF):
			if !got {
				return nil, false, io.EOF
			}
			lr.line++
			if tooLong {
				return nil, false, errLineTooLong
			}
			return trimCR(lr.buf), false, nil
		default:
			return nil, false, err
		}
	}
}

// readError returns the cause of an error of an audit.LineReader that is
// not about a line: a read error, or the decompressor's complaint about a
// damaged file. The commands name the file and line themselves.
func readError(err error) error {
	if c := errors.Unwrap(err); c != nil {
		return cleanErr(c)
	}
	return err
}

// trimCR removes a final "\r" from a line read without its newline: the
// lines of a file that went through a Windows editor end in "\r\n".
func trimCR(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		return line[:n-1]
	}
	return line
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
