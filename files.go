package audit

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The read side of the audit files: which files a module has, in the order
// they were written, and their lines with their positions, read in bounded
// memory. Verify, the auditlog command and the shipper all read through it,
// so that the names of the files are known in one place (writer.go).

// File is one audit file of a module, as [ListFiles] finds it.
type File struct {
	// Path is the file to read.
	Path string
	// Module is the module that wrote it.
	Module string
	// Active is true for the active file, <Module>.audit.log.
	Active bool
	// Compressed is true for a gzipped backup.
	Compressed bool
	// Rotated is a backup's rotation time, from its name; zero for the
	// active file.
	Rotated time.Time
}

// ListFiles returns module's audit files in dir in the order they were
// written: backups oldest first (by the rotation time in their names, which
// the writer keeps increasing even when the clock steps back), then the
// active file if it exists. A backup found both plain and compressed (a
// compression interrupted by a crash) is listed once, as the plain file,
// which is complete. Compressions in progress, quarantined torn records,
// the lock file and the head file are not listed. A module without files
// gives an empty list and no error.
func ListFiles(dir, module string) ([]File, error) {
	if !moduleRE.MatchString(module) {
		return nil, fmt.Errorf("audit: list files: module %q: %w", module, ErrBadConfig)
	}
	// A directory is not read at one instant: a rotation while it is read
	// could hide the file it renames (read neither as the active file nor
	// as a backup), and a compression the backup it replaces. So the
	// listing is taken until the active file is the same before and after
	// it and a second listing finds the same backups.
	active := filepath.Join(dir, module+activeSuffix)
	var files []File
	for attempt := 0; ; attempt++ {
		before, err := statActive(active)
		if err != nil {
			return nil, err
		}
		backups, err := listBackups(osFS{}, dir, module)
		if err != nil {
			return nil, fmt.Errorf("audit: list files: %w", err)
		}
		after, err := statActive(active)
		if err != nil {
			return nil, err
		}
		files = backupFiles(dir, module, backups)
		if attempt < 20 {
			if !sameActive(before, after) {
				continue
			}
			again, err := listBackups(osFS{}, dir, module)
			if err != nil {
				return nil, fmt.Errorf("audit: list files: %w", err)
			}
			if !slices.EqualFunc(files, backupFiles(dir, module, again), func(a, b File) bool { return a.Rotated.Equal(b.Rotated) }) {
				continue
			}
		}
		if after != nil {
			files = append(files, File{Path: active, Module: module, Active: true})
		}
		return files, nil
	}
}

// statActive describes the active file at path, nil if there is none.
func statActive(path string) (os.FileInfo, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: list files: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, nil
	}
	return st, nil
}

// sameActive reports whether a and b describe the same active file (or
// both none).
func sameActive(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == b
	}
	return os.SameFile(a, b)
}

// backupFiles returns the Files of backups, one per backup.
func backupFiles(dir, module string, backups []backupFile) []File {
	var files []File
	for _, b := range backups {
		if b.kind == backupTmp {
			continue
		}
		if n := len(files); n > 0 && files[n-1].Rotated.Equal(b.time) {
			continue // the plain form sorts first: keep it, drop the .gz
		}
		files = append(files, File{Path: filepath.Join(dir, b.name), Module: module, Compressed: b.kind == backupGz, Rotated: b.time})
	}
	return files
}

// Modules returns the modules that have audit files, or the head file of a
// sealed chain, in dir, sorted by name.
func Modules(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("audit: list modules: %w", cause(err))
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if m, ok := moduleOfName(e.Name()); ok {
			seen[m] = true
		}
	}
	mods := make([]string, 0, len(seen))
	for m := range seen {
		mods = append(mods, m)
	}
	slices.Sort(mods)
	return mods, nil
}

// moduleOfName returns the module of an active, backup or head file name.
func moduleOfName(name string) (string, bool) {
	for _, suffix := range [...]string{activeSuffix, headSuffix} {
		if m, ok := strings.CutSuffix(name, suffix); ok && moduleRE.MatchString(m) {
			return m, true
		}
	}
	m, _, ok := strings.Cut(name, backupInfix)
	if !ok || !moduleRE.MatchString(m) {
		return "", false
	}
	if _, kind, ok := parseBackupFile(m, name); ok && kind != backupTmp {
		return m, true
	}
	return "", false
}

// ErrLineTooLong is returned by [LineReader.Next] for a line longer than
// [MaxRecordSize]: no record of the library is that long. The reader skips
// the line, reading it in bounded memory, and goes on with the next one.
var ErrLineTooLong = fmt.Errorf("line longer than %d bytes", MaxRecordSize)

// Line is a line of an audit file.
type Line struct {
	// Text is the line without its newline. It is valid until the next
	// call of Next.
	Text []byte
	// Number is the 1-based line number in the file.
	Number int
	// Offset is where the line starts in the file (in the decompressed
	// contents of a compressed backup).
	Offset int64
	// Complete is false for a last line that does not end with a newline.
	Complete bool
}

// LineReader reads the lines of an audit file in memory bounded by
// [MaxRecordSize], whatever the file holds. Create it with [OpenFile], or
// with [NewLineReader] for audit data that is not in a module's files.
type LineReader struct {
	br     *bufio.Reader
	close  func() error
	buf    []byte
	number int
	offset int64
	path   string
	skip   func(lines []byte) int
}

// readBufferSize is the buffer of a LineReader.
const readBufferSize = 256 << 10

// OpenFile opens the audit file f for reading its lines, decompressing a
// compressed one. A plain backup that was compressed since it was listed is
// read from its compressed form.
func OpenFile(f File) (*LineReader, error) {
	path := f.Path
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !f.Active && !f.Compressed {
		path += gzExt
		fh, err = os.Open(path)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	r := &LineReader{path: path, close: fh.Close}
	if !strings.HasSuffix(path, gzExt) {
		r.br = bufio.NewReaderSize(fh, readBufferSize)
		return r, nil
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(fh, 64<<10))
	if err != nil {
		fh.Close()
		return nil, &DamagedError{Path: path, Err: err}
	}
	r.close = func() error { zr.Close(); return fh.Close() }
	r.br = bufio.NewReaderSize(zr, readBufferSize)
	return r, nil
}

// NewLineReader returns a [LineReader] of the lines of r, for audit data
// that does not come from a module's files (standard input, a file named
// by a user). name stands for r in errors and is what [LineReader.Path]
// returns. r is read as it is, not decompressed; closing the LineReader
// does not close r.
func NewLineReader(r io.Reader, name string) *LineReader {
	return &LineReader{br: bufio.NewReaderSize(r, readBufferSize), path: name, close: noClose}
}

// Reset makes r read the lines of src, named name, from the first, as a
// new [NewLineReader] would, but with r's buffers: a reader of many files
// allocates them once. It does not close what r was reading, and removes
// the function set with [LineReader.SetSkip].
func (r *LineReader) Reset(src io.Reader, name string) {
	r.br.Reset(src)
	r.close, r.buf, r.number, r.offset, r.path, r.skip = noClose, r.buf[:0], 0, 0, name, nil
}

func noClose() error { return nil }

// SetSkip makes [LineReader.Next] pass over lines without returning them,
// for a reader that looks for a few lines among many and can tell most of
// the others apart without splitting them into lines. Before it reads a
// line, Next calls skip with the complete lines in its buffer from that
// line on (one or more, each with its newline); skip returns how many bytes
// at their start to pass over, which must be 0 or the end of one of the
// lines. The lines passed over are counted in [Line.Number] and
// [Line.Offset] as if they had been read. When skip passes over all it was
// given, Next reads on and calls it again; otherwise Next returns the line
// that starts where skip stopped, so that the next call of skip starts
// just after that line. A line longer than the buffer (256 KiB) is never
// given to skip. A nil skip, the default, passes over nothing.
func (r *LineReader) SetSkip(skip func(lines []byte) int) { r.skip = skip }

// skipLines passes over the lines that r.skip says to, up to the first
// it does not.
func (r *LineReader) skipLines() {
	for {
		buf, _ := r.br.Peek(r.br.Buffered())
		last := bytes.LastIndexByte(buf, '\n')
		if last < 0 {
			// No complete line buffered: read on, unless a line fills
			// the buffer.
			if len(buf) >= r.br.Size() {
				return
			}
			if _, err := r.br.Peek(len(buf) + 1); err != nil {
				return // the end, or an error that Next reports
			}
			continue
		}
		lines := buf[:last+1]
		n := r.skip(lines)
		if n < 0 || n > len(lines) || n > 0 && lines[n-1] != '\n' {
			panic(fmt.Sprintf("audit: LineReader skip passed over %d bytes of %d, not a whole number of lines", n, len(lines)))
		}
		if n == 0 {
			return
		}
		r.number += bytes.Count(lines[:n], []byte{'\n'})
		r.offset += int64(n)
		r.br.Discard(n)
		if n < len(lines) {
			return
		}
	}
}

// DamagedError reports a compressed audit file that cannot be decompressed
// to its end: its bytes were cut or changed.
type DamagedError struct {
	Path string
	Err  error
}

// Error implements error.
func (e *DamagedError) Error() string {
	return fmt.Sprintf("audit: %s: compressed file is damaged: %v", e.Path, e.Err)
}

// Unwrap returns the decompressor's error.
func (e *DamagedError) Unwrap() error { return e.Err }

// Path returns the path of the file read (the compressed form when the
// plain one had gone).
func (r *LineReader) Path() string { return r.path }

// Next returns the next line. At the end of the file it returns io.EOF. A
// line longer than [MaxRecordSize] is skipped and reported with an error
// wrapping [ErrLineTooLong] (Line then has its number and offset); reading
// may go on. Damaged compressed data gives a [*DamagedError]; any other
// error is a read error. After those two the reader must not be used.
func (r *LineReader) Next() (Line, error) {
	if r.skip != nil {
		r.skipLines()
	}
	chunk, err := r.br.ReadSlice('\n')
	if err == nil && len(chunk) <= MaxRecordSize {
		// The whole line is in the buffer: no copy.
		start := r.offset
		r.offset += int64(len(chunk))
		r.number++
		return Line{Text: chunk[:len(chunk)-1], Number: r.number, Offset: start, Complete: true}, nil
	}
	return r.nextSlow(chunk, err)
}

// nextSlow is Next for a line that is not whole in the buffer, or at the
// end or an error: chunk and err are what ReadSlice returned first.
func (r *LineReader) nextSlow(chunk []byte, err error) (Line, error) {
	r.buf = r.buf[:0]
	start := r.offset
	tooLong, got := false, false
	for {
		r.offset += int64(len(chunk))
		if len(chunk) > 0 {
			got = true
		}
		if !tooLong {
			if len(r.buf)+len(chunk) > MaxRecordSize {
				tooLong, r.buf = true, r.buf[:0]
			} else {
				r.buf = append(r.buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			chunk, err = r.br.ReadSlice('\n')
			continue
		case err == nil || errors.Is(err, io.EOF) && got:
			r.number++
			complete := err == nil
			ln := Line{Number: r.number, Offset: start, Complete: complete}
			if tooLong {
				return ln, fmt.Errorf("audit: %s:%d: %w", r.path, r.number, ErrLineTooLong)
			}
			ln.Text = r.buf
			if complete {
				ln.Text = r.buf[:len(r.buf)-1]
			}
			return ln, nil
		case errors.Is(err, io.EOF):
			return Line{}, io.EOF
		default:
			if isDamage(err) {
				return Line{}, &DamagedError{Path: r.path, Err: err}
			}
			return Line{}, fmt.Errorf("audit: read %s: %w", r.path, cause(err))
		}
	}
}

// isDamage reports whether err is the decompressor's complaint about its
// input rather than a read error.
func isDamage(err error) bool {
	var corrupt flate.CorruptInputError
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) ||
		errors.Is(err, gzip.ErrHeader) || errors.As(err, &corrupt)
}

// Close closes the file.
func (r *LineReader) Close() error { return r.close() }

// firstLine returns the first line of f (without its newline), or nil for an
// empty file.
func firstLine(f File) ([]byte, error) {
	r, err := OpenFile(f)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	ln, err := r.Next()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return bytes.Clone(ln.Text), nil
}

// firstAndLastLines streams f and returns its first and last complete lines.
func firstAndLastLines(f File) (first, last []byte, err error) {
	r, err := OpenFile(f)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	for {
		ln, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if !ln.Complete {
			break
		}
		if first == nil {
			first = bytes.Clone(ln.Text)
		}
		last = append(last[:0], ln.Text...)
	}
	if first == nil {
		return nil, nil, fmt.Errorf("%s: empty file", f.Path)
	}
	return first, last, nil
}
