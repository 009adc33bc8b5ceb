package audit

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Shipping cursors. A shipper (package ship) keeps how far it delivered a
// module's records in a file beside the audit files, named
// "<module>.ship-<16 hex digits>.cursor", the digits naming the
// destination. Retention reads these files and keeps every file from the
// one the least advanced cursor points into, so that a file is removed
// only once every destination has its records. The format is ship's
// cursor file: the core reads only the module and the file's fingerprint
// from it, after checking its checksum.
const (
	shipCursorInfix  = ".ship-"
	shipCursorSuffix = ".cursor"
	shipCursorMagic  = "audit-ship-cursor 1\n"
)

// isShipCursorName reports whether name is the name of one of module's
// shipping cursor files.
func isShipCursorName(module, name string) bool {
	rest, ok := strings.CutPrefix(name, module+shipCursorInfix)
	if !ok {
		return false
	}
	digits, ok := strings.CutSuffix(rest, shipCursorSuffix)
	if !ok || len(digits) != 16 {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if c := digits[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// readShipCursorFile returns the module and file fingerprint of the cursor
// file at path ("" for a cursor that has acknowledged nothing yet).
func readShipCursorFile(path string) (module, file string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return "", "", err
	}
	body, sum, ok := bytes.Cut(data, []byte("crc32 "))
	if !ok || !bytes.HasPrefix(body, []byte(shipCursorMagic)) ||
		string(sum) != fmt.Sprintf("%08x\n", crc32.ChecksumIEEE(body)) {
		return "", "", errors.New("not a valid shipping cursor file")
	}
	value := func(key string) (string, bool) {
		for line := range bytes.Lines(body) {
			if v, ok := bytes.CutPrefix(line, []byte(key+" ")); ok {
				s, err := strconv.Unquote(string(bytes.TrimSuffix(v, []byte("\n"))))
				return s, err == nil
			}
		}
		return "", false
	}
	module, okm := value("module")
	file, okf := value("file")
	if !okm || !okf {
		return "", "", errors.New("not a valid shipping cursor file")
	}
	return module, file, nil
}

// shippingHold returns what the shipping cursors of module in dir hold
// back from retention: with held true, every backup rotated at or after
// keepFrom stays (keepFrom is the zero time when every backup stays: a
// cursor that has shipped nothing yet). held is false when there is no
// cursor, or when every cursor points into the active file. A cursor file
// that cannot be read, or that points into a file that is not there, is
// an error: the caller keeps every file, since it cannot tell what was
// shipped.
func shippingHold(dir, module string) (keepFrom time.Time, held bool, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return time.Time{}, true, fmt.Errorf("read directory %s: %w", dir, cause(err))
	}
	var cursors []string
	for _, e := range entries {
		if e.Type().IsRegular() && isShipCursorName(module, e.Name()) {
			cursors = append(cursors, filepath.Join(dir, e.Name()))
		}
	}
	if len(cursors) == 0 {
		return time.Time{}, false, nil
	}
	var files []File
	var fps []string
	for _, path := range cursors {
		mod, fp, err := readShipCursorFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the listing: its destination is retired
		}
		if err != nil {
			return time.Time{}, true, fmt.Errorf("shipping cursor %s: %w; every file is kept until it is fixed or removed", path, cause(err))
		}
		if mod != module {
			return time.Time{}, true, fmt.Errorf("shipping cursor %s is for module %q, not %q; every file is kept until it is fixed or removed", path, mod, module)
		}
		if fp == "" {
			return time.Time{}, true, nil // nothing shipped yet: keep all
		}
		if files == nil {
			if files, err = ListFiles(dir, module); err != nil {
				return time.Time{}, true, err
			}
			fps = make([]string, len(files))
			for i, f := range files {
				first, err := firstLine(f)
				if err != nil && !errors.Is(err, fs.ErrNotExist) {
					return time.Time{}, true, fmt.Errorf("fingerprint of %s: %w", f.Path, err)
				}
				if first != nil {
					fps[i] = Fingerprint(first)
				}
			}
		}
		i := 0
		for i < len(files) && fps[i] != fp {
			i++
		}
		switch {
		case i == len(files):
			return time.Time{}, true, fmt.Errorf("shipping cursor %s points into file %s, which is not among the files of module %s; every file is kept until the cursor is fixed or removed", path, fp, module)
		case files[i].Active:
			continue // this destination holds back no backup
		case !held || files[i].Rotated.Before(keepFrom):
			keepFrom, held = files[i].Rotated, true
		}
	}
	return keepFrom, held, nil
}
