package ship

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
)

// Cursor is how far one module's records have been delivered to one
// destination: every record up to and including the one that ends at
// Offset in File (sequence number Seq) was acknowledged. It is kept in a
// small file beside the audit files ([CursorPath]) and moved only after
// the destination acknowledged.
type Cursor struct {
	// Module is the module whose files are shipped.
	Module string
	// Destination is the destination's URL as given to [CursorPath].
	Destination string
	// File identifies the audit file of the last acknowledged record by
	// its fingerprint ([audit.Fingerprint] of its first line), which stays
	// the same when the file is rotated or compressed. Empty means nothing
	// was acknowledged yet: shipping starts at the module's oldest file.
	File string
	// Offset is the byte offset in File (in its uncompressed contents) just
	// past the last acknowledged record's newline: where reading resumes.
	Offset int64
	// Line is the number of lines in File up to Offset.
	Line int
	// Seq is the sequence number of the last acknowledged record.
	Seq uint64
}

// ErrBadCursor is wrapped by the error of a cursor file that is not one:
// truncated, altered or written by something else.
var ErrBadCursor = errors.New("corrupt shipping cursor")

// cursorMagic opens every cursor file, with the format's version.
const cursorMagic = "audit-ship-cursor 1\n"

// maxCursorSize bounds what ReadCursor reads; a cursor is a few lines.
const maxCursorSize = 64 << 10

// CursorPath returns the path of the cursor file of module and
// destination in the audit directory dir:
// <Module>.ship-<16 hex digits>.cursor, the digits naming the destination
// (its scheme, host and port, so that other options of the URL can change
// without losing the position). The name never matches the module's audit
// files, so readers leave it alone; retention reads it and keeps every
// file from the one the least advanced cursor of the module points into,
// so a file goes only once every destination has its records. A cursor
// file elsewhere, or under another name, holds nothing back.
func CursorPath(dir, module, destination string) string {
	sum := sha256.Sum256([]byte(destinationKey(destination)))
	return filepath.Join(dir, module+".ship-"+hex.EncodeToString(sum[:8])+".cursor")
}

// destinationKey returns what names a destination's cursor: the URL's
// scheme, host and port, or the whole URL when it has none.
func destinationKey(destination string) string {
	if u, err := url.Parse(destination); err == nil && u.Scheme != "" && u.Host != "" {
		return u.Scheme + "://" + u.Host
	}
	return destination
}

// AppendText implements [encoding.TextAppender]: the cursor file's
// content, lines of "key value" with quoted strings, ending with a CRC-32
// of everything before it.
func (c Cursor) AppendText(dst []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, cursorMagic...)
	dst = append(dst, "module "...)
	dst = strconv.AppendQuote(dst, c.Module)
	dst = append(dst, "\ndestination "...)
	dst = strconv.AppendQuote(dst, c.Destination)
	dst = append(dst, "\nfile "...)
	dst = strconv.AppendQuote(dst, c.File)
	dst = append(dst, "\noffset "...)
	dst = strconv.AppendInt(dst, c.Offset, 10)
	dst = append(dst, "\nline "...)
	dst = strconv.AppendInt(dst, int64(c.Line), 10)
	dst = append(dst, "\nseq "...)
	dst = strconv.AppendUint(dst, c.Seq, 10)
	dst = append(dst, '\n')
	sum := crc32.ChecksumIEEE(dst[start:])
	dst = append(dst, "crc32 "...)
	dst = fmt.Appendf(dst, "%08x", sum)
	return append(dst, '\n'), nil
}

// MarshalText implements [encoding.TextMarshaler].
func (c Cursor) MarshalText() ([]byte, error) { return c.AppendText(nil) }

// UnmarshalText implements [encoding.TextUnmarshaler]: it accepts exactly
// what MarshalText writes, with a matching checksum, a non-empty module
// and destination, an offset and a line count that are not negative, and
// an empty file only with offset, line and seq zero.
func (c *Cursor) UnmarshalText(text []byte) error {
	rest, ok := bytes.CutPrefix(text, []byte(cursorMagic))
	if !ok {
		return fmt.Errorf("not a cursor file of version 1: %w", ErrBadCursor)
	}
	var v Cursor
	var err error
	field := func(key string) string {
		if err != nil {
			return ""
		}
		line, after, found := bytes.Cut(rest, []byte{'\n'})
		val, ok := bytes.CutPrefix(line, []byte(key+" "))
		if !found || !ok {
			err = fmt.Errorf("line %q: want %s: %w", line, key, ErrBadCursor)
			return ""
		}
		rest = after
		return string(val)
	}
	str := func(key string, empty bool) string {
		s := field(key)
		if err != nil {
			return ""
		}
		u, uerr := strconv.Unquote(s)
		if uerr != nil || (u == "" && !empty) || strconv.Quote(u) != s {
			err = fmt.Errorf("%s %s: want a quoted non-empty string: %w", key, s, ErrBadCursor)
		}
		return u
	}
	v.Module = str("module", false)
	v.Destination = str("destination", false)
	v.File = str("file", true)
	if s := field("offset"); err == nil {
		var perr error
		if v.Offset, perr = strconv.ParseInt(s, 10, 64); perr != nil || v.Offset < 0 {
			err = fmt.Errorf("offset %q: want a number of bytes: %w", s, ErrBadCursor)
		}
	}
	if s := field("line"); err == nil {
		n, perr := strconv.ParseInt(s, 10, 0)
		if perr != nil || n < 0 {
			err = fmt.Errorf("line %q: want a number of lines: %w", s, ErrBadCursor)
		}
		v.Line = int(n)
	}
	if s := field("seq"); err == nil {
		var perr error
		if v.Seq, perr = strconv.ParseUint(s, 10, 64); perr != nil {
			err = fmt.Errorf("seq %q: want a number: %w", s, ErrBadCursor)
		}
	}
	body := len(text) - len(rest)
	if s := field("crc32"); err == nil {
		want := fmt.Sprintf("%08x", crc32.ChecksumIEEE(text[:body]))
		if s != want {
			err = fmt.Errorf("checksum %s, content sums to %s: %w", s, want, ErrBadCursor)
		}
	}
	if err == nil && v.File == "" && (v.Offset != 0 || v.Line != 0 || v.Seq != 0) {
		err = fmt.Errorf("no file but offset %d, line %d, seq %d: %w", v.Offset, v.Line, v.Seq, ErrBadCursor)
	}
	if err == nil && len(rest) != 0 {
		err = fmt.Errorf("%d bytes after the checksum: %w", len(rest), ErrBadCursor)
	}
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// ReadCursor reads and checks the cursor file at path. A missing file is
// an error wrapping [io/fs.ErrNotExist] (nothing was shipped yet); a file
// that is not a valid cursor is an error wrapping [ErrBadCursor] that
// names the file.
func ReadCursor(path string) (Cursor, error) {
	var c Cursor
	f, err := os.Open(path)
	if err != nil {
		return c, fmt.Errorf("audit: shipping cursor: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCursorSize+1))
	if err != nil {
		return c, fmt.Errorf("audit: shipping cursor %s: %w", path, err)
	}
	if len(data) > maxCursorSize {
		return c, fmt.Errorf("audit: shipping cursor %s: larger than %d bytes: %w", path, maxCursorSize, ErrBadCursor)
	}
	if err := c.UnmarshalText(data); err != nil {
		return Cursor{}, fmt.Errorf("audit: shipping cursor %s: %w", path, err)
	}
	return c, nil
}

// WriteCursor replaces the cursor file at path with c atomically: it
// writes a new temporary file beside it (created exclusively, mode 0640),
// syncs it, renames it over path and syncs the directory, so that after a
// crash the file holds either the old cursor or the new one.
func WriteCursor(path string, c Cursor) error {
	data, _ := c.AppendText(nil)
	if err := writeFileAtomic(path, data); err != nil {
		return fmt.Errorf("audit: shipping cursor: %w", err)
	}
	return nil
}

func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o640); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
