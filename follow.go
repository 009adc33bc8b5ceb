package audit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"
)

// Cursor says where a reader of a module's records stands, in a form that
// survives rotation and compression: the file by its fingerprint (see
// [Fingerprint]), the offset in the file's contents where the next line
// starts, and the number of lines before it. The zero Cursor stands before
// the first record of the oldest file.
type Cursor struct {
	File   string // fingerprint of the file; "" before the oldest file
	Offset int64  // where the next line starts in the file's contents
	Line   int    // lines before it in the file
}

// Fingerprint returns the identity of an audit file: a hex digest of its
// first line, which never changes once written, whatever the file's name
// (the active file is renamed at rotation) or form (a backup is compressed).
func Fingerprint(firstLine []byte) string {
	sum := sha256.Sum256(firstLine)
	return hex.EncodeToString(sum[:16])
}

// Entry is a record read by a [Follower].
type Entry struct {
	// Line is the record's line without its newline. It is valid until
	// the next call of Next.
	Line []byte
	// Path is the file it was read from, under the name it had then.
	Path string
	// Number is its line number in its file (its seq, for the library's
	// files).
	Number int
	// Offset is where the line starts in the file's contents.
	Offset int64
	// Next is the cursor just after this record: where a reader that has
	// handled it resumes.
	Next Cursor
}

// ErrCursorLost is returned by [Follower.Next] when the file a cursor points
// into is no longer among the module's files (it was removed by hand, or by
// retention before it was read), or is shorter than the cursor's offset.
var ErrCursorLost = errors.New("audit: cursor lost")

// Follower reads a module's records in the order written, from a [Cursor]
// on, and follows the active file across rotations without losing or
// repeating a record: it keeps the file it reads open, so a rotation (a
// rename) or a compression (a removal of the plain backup) does not take it
// away, and it moves to the next file only when the one it reads has been
// rotated away and read to its end. Incomplete last lines are never
// returned: they are read again once complete.
//
// A Follower is used by one goroutine at a time. Create it with [Follow].
type Follower struct {
	dir, module string
	poll        time.Duration
	cur         Cursor

	f      *os.File      // the file being read; nil before the first
	path   string        // its name when opened
	active bool          // it was the active file when opened
	gz     bool          // it is compressed
	br     *bufio.Reader // reads f (or its decompression) from cur.Offset
	zr     *gzip.Reader
	buf    []byte
	fps    map[string]string // fingerprints of backups, by path
}

// Follow returns a Follower of module's records in dir from cursor c. poll
// is how often it looks for new records once it has read everything (zero
// means 200 ms).
func Follow(dir, module string, c Cursor, poll time.Duration) (*Follower, error) {
	if !moduleRE.MatchString(module) {
		return nil, fmt.Errorf("audit: follow: module %q: %w", module, ErrBadConfig)
	}
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	return &Follower{dir: dir, module: module, poll: poll, cur: c}, nil
}

// Cursor returns the cursor after the last record returned.
func (fl *Follower) Cursor() Cursor { return fl.cur }

// Close closes the file being read.
func (fl *Follower) Close() error {
	if fl.f == nil {
		return nil
	}
	err := fl.f.Close()
	fl.f, fl.br, fl.zr = nil, nil, nil
	return err
}

// Next returns the next record, waiting for one until ctx is done (then it
// returns ctx's error). With a ctx that is done already, it returns a
// record that can be read without waiting, or ctx's error when there is
// none: a reader can tell when it has caught up, to flush its output
// before it waits. A record longer than [MaxRecordSize] is skipped with
// an error wrapping [ErrLineTooLong], after which Next may be called again.
// [ErrCursorLost] and read errors are final for the cursor.
func (fl *Follower) Next(ctx context.Context) (Entry, error) {
	for {
		if fl.f == nil {
			ok, err := fl.open()
			if err != nil {
				return Entry{}, err
			}
			if !ok {
				if err := fl.wait(ctx); err != nil {
					return Entry{}, err
				}
				continue
			}
		}
		e, complete, err := fl.readLine()
		if err != nil {
			return e, err
		}
		if complete {
			return e, nil
		}
		// At the end of what is there (or before an incomplete line).
		moved, err := fl.advance()
		if err != nil {
			return Entry{}, err
		}
		if !moved {
			// Back to the cursor first: the bytes of an incomplete line
			// were consumed, and a Next that returns on ctx must leave the
			// Follower where the next call reads them again.
			if err := fl.rewind(); err != nil {
				return Entry{}, err
			}
			if err := fl.wait(ctx); err != nil {
				return Entry{}, err
			}
		}
	}
}

// wait waits for the poll interval or ctx.
func (fl *Follower) wait(ctx context.Context) error {
	t := time.NewTimer(fl.poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// readLine reads the next line at the cursor. complete is false at the end
// of the data, or before an incomplete last line, which is left unread.
func (fl *Follower) readLine() (e Entry, complete bool, err error) {
	fl.buf = fl.buf[:0]
	tooLong := false
	start := fl.cur.Offset
	n := int64(0)
	for {
		chunk, err := fl.br.ReadSlice('\n')
		n += int64(len(chunk))
		if !tooLong {
			if len(fl.buf)+len(chunk) > MaxRecordSize {
				tooLong, fl.buf = true, fl.buf[:0]
			} else {
				fl.buf = append(fl.buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == nil:
			fl.cur.Offset += n
			fl.cur.Line++
			e = Entry{Path: fl.path, Number: fl.cur.Line, Offset: start, Next: fl.cur}
			if tooLong {
				return e, false, fmt.Errorf("audit: %s:%d: %w", fl.path, fl.cur.Line, ErrLineTooLong)
			}
			e.Line = fl.buf[:len(fl.buf)-1]
			return e, true, nil
		case errors.Is(err, io.EOF):
			return Entry{}, false, nil // read again from the cursor later
		default:
			if isDamage(err) {
				return Entry{}, false, &DamagedError{Path: fl.path, Err: err}
			}
			return Entry{}, false, fmt.Errorf("audit: read %s: %w", fl.path, cause(err))
		}
	}
}

// rewind positions the reader at the cursor again, after the end of the
// data was reached, to read what was appended since.
func (fl *Follower) rewind() error {
	if fl.gz {
		return nil // a compressed file does not grow
	}
	if _, err := fl.f.Seek(fl.cur.Offset, io.SeekStart); err != nil {
		return fmt.Errorf("audit: read %s: %w", fl.path, cause(err))
	}
	fl.br.Reset(fl.f)
	return nil
}

// advance is called at the end of the data of the file being read. It moves
// to the next file when that one is complete: a backup, or an active file
// that was rotated away since it was opened and has been read to its end.
// It reports whether reading should go on at once (in the next file, or in
// a file just rotated away, which may have had records appended before the
// rotation).
func (fl *Follower) advance() (bool, error) {
	if fl.active {
		st, err := fl.f.Stat()
		if err != nil {
			return false, fmt.Errorf("audit: read %s: %w", fl.path, cause(err))
		}
		named, err := os.Stat(activePath(fl.dir, fl.module))
		if err == nil && os.SameFile(st, named) {
			return false, nil // still the active file: more may come
		}
		// Rotated away: read whatever was written before the rotation,
		// then go on with the next file.
		fl.active = false
		return true, fl.rewind()
	}
	// A complete file read to its end: go on with the next one.
	files, fps, i, stable, err := fl.locate(fl.cur.File)
	if err != nil || !stable {
		return false, err
	}
	if i < 0 {
		// Not among the module's files any more (removed by hand or by
		// retention meanwhile): what follows it cannot be told.
		return false, fmt.Errorf("%w: file %s of module %s was removed from %s after it was read", ErrCursorLost, fl.cur.File, fl.module, fl.dir)
	}
	if i+1 == len(files) || fps[i+1] == "" {
		return false, nil // the next file has no record yet
	}
	fl.Close()
	fl.cur = Cursor{File: fps[i+1]}
	return true, nil
}

// locate lists the module's files with their fingerprints and returns the
// index of the file with fingerprint fp ("" for the oldest with a record),
// or -1. A rotation between listing a file and reading its first line
// would hide it (the active path names the next file by then), so the
// listing is taken again until it holds while the fingerprints are read;
// stable is false when it did not hold within a few tries (files rotating
// faster than they can be listed), and the caller looks again later.
func (fl *Follower) locate(fp string) (files []File, fps []string, index int, stable bool, err error) {
	for attempt := 0; attempt < 10; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * time.Millisecond)
		}
		files, err = ListFiles(fl.dir, fl.module)
		if err != nil {
			return nil, nil, -1, false, err
		}
		fps = make([]string, len(files))
		index = -1
		for i, f := range files {
			if fps[i], err = fl.fingerprint(f); err != nil {
				return nil, nil, -1, false, err
			}
			if index < 0 && fps[i] != "" && (fps[i] == fp || fp == "") {
				index = i
			}
		}
		again, err := ListFiles(fl.dir, fl.module)
		if err != nil {
			return nil, nil, -1, false, err
		}
		if !slices.EqualFunc(files, again, func(a, b File) bool { return a.Path == b.Path }) {
			continue
		}
		if n := len(files); n > 0 && files[n-1].Active {
			if fp, err := fileFingerprint(files[n-1]); err != nil || fp != fps[n-1] {
				continue
			}
		}
		return files, fps, index, true, nil
	}
	return files, fps, -1, false, nil
}

// fingerprint returns the fingerprint of f. Those of backups are cached by
// name: a backup's name is never used again and its contents never change.
// The active file's is read each time, since the path names a new file
// after each rotation.
func (fl *Follower) fingerprint(f File) (string, error) {
	if fp, ok := fl.fps[f.Path]; ok {
		return fp, nil
	}
	fp, err := fileFingerprint(f)
	if err != nil || fp == "" || f.Active {
		return fp, err
	}
	if fl.fps == nil || len(fl.fps) > 4096 {
		fl.fps = map[string]string{}
	}
	fl.fps[f.Path] = fp
	return fp, nil
}

// open opens the file the cursor points into, or the oldest file for the
// zero cursor. ok is false when there is nothing to read yet.
func (fl *Follower) open() (ok bool, err error) {
	files, fps, i, stable, err := fl.locate(fl.cur.File)
	if errors.Is(err, fs.ErrNotExist) && fl.cur.File == "" {
		return false, nil // the directory comes with the first record
	}
	if err != nil || !stable {
		return false, err
	}
	if i < 0 {
		if fl.cur.File == "" {
			return false, nil // no records yet
		}
		return false, fmt.Errorf("%w: file %s of module %s is not in %s", ErrCursorLost, fl.cur.File, fl.module, fl.dir)
	}
	if fl.cur.File == "" {
		fl.cur = Cursor{File: fps[i]}
	}
	if err := fl.openAt(files[i]); err != nil {
		if files[i].Active && errors.Is(err, fs.ErrNotExist) {
			return false, nil // rotated away since the listing: look again
		}
		return false, err
	}
	if fl.gz {
		return true, nil // a compressed backup is never renamed
	}
	// A rotation between the listing and the open puts another file at
	// the path: check that the file opened is the one the cursor names.
	first, err := firstLineAt(fl.f)
	if err != nil && !errors.Is(err, io.EOF) {
		fl.Close()
		return false, fmt.Errorf("audit: read %s: %w", fl.path, err)
	}
	if err != nil || Fingerprint(first) != fl.cur.File {
		fl.Close()
		return false, nil // look again after the poll interval
	}
	return true, nil
}

// firstLineAt reads the first line of f without moving its offset.
func firstLineAt(f *os.File) ([]byte, error) {
	br := bufio.NewReader(io.NewSectionReader(f, 0, MaxRecordSize+1))
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		line, err = br.ReadBytes('\n')
	}
	if err != nil {
		return nil, cause(err)
	}
	return line[:len(line)-1], nil
}

// openAt opens f and positions the reader at the cursor.
func (fl *Follower) openAt(f File) error {
	path := f.Path
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !f.Active && !f.Compressed {
		path += gzExt
		fh, err = os.Open(path)
	}
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	fl.f, fl.path, fl.active, fl.gz = fh, path, f.Active, strings.HasSuffix(path, gzExt)
	if !fl.gz {
		if _, err := fh.Seek(fl.cur.Offset, io.SeekStart); err != nil {
			fl.Close()
			return fmt.Errorf("audit: read %s: %w", path, cause(err))
		}
		if st, err := fh.Stat(); err == nil && st.Size() < fl.cur.Offset {
			fl.Close()
			return fmt.Errorf("%w: %s has %d bytes, the cursor points at %d", ErrCursorLost, path, st.Size(), fl.cur.Offset)
		}
		fl.br = bufio.NewReaderSize(fh, readBufferSize)
		return nil
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(fh, 64<<10))
	if err != nil {
		fl.Close()
		return &DamagedError{Path: path, Err: err}
	}
	fl.zr = zr
	if _, err := io.CopyN(io.Discard, zr, fl.cur.Offset); err != nil {
		fl.Close()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: %s is shorter than the cursor's offset %d", ErrCursorLost, path, fl.cur.Offset)
		}
		return &DamagedError{Path: path, Err: err}
	}
	fl.br = bufio.NewReaderSize(zr, readBufferSize)
	return nil
}

// fileFingerprint returns the fingerprint of f, or "" when it has no
// complete first line yet.
func fileFingerprint(f File) (string, error) {
	r, err := OpenFile(f)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil // gone since it was listed
		}
		return "", err
	}
	defer r.Close()
	ln, err := r.Next()
	if errors.Is(err, io.EOF) || err == nil && !ln.Complete {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return Fingerprint(bytes.Clone(ln.Text)), nil
}

// activePath returns the path of module's active file in dir.
func activePath(dir, module string) string {
	return dir + string(os.PathSeparator) + module + activeSuffix
}
