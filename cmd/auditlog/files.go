package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

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
	// stem is the backup's path without ".gz": the plain and compressed
	// forms of one backup share it. It is path for the active file. A
	// backup listed plain is read from its compressed form if the plain
	// one has gone meanwhile.
	stem string
	file audit.File // as the library lists it
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
			mf.files = append(mf.files, &auditFile{path: f.Path, module: m, active: f.Active,
				stem: strings.TrimSuffix(f.Path, ".gz"), file: f})
		}
		mods = append(mods, mf)
	}
	return mods, nil
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

// readError returns the cause of an error of an audit.LineReader that is
// not about a line: a read error, or the decompressor's complaint about a
// damaged file. The commands name the file and line themselves.
func readError(err error) error {
	var damaged *audit.DamagedError
	if errors.As(err, &damaged) {
		return fmt.Errorf("compressed file is damaged: %v", cleanErr(damaged.Err))
	}
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
