package ship

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrCursorInUse is wrapped by the error of [LockCursor] (and so of
// [NewShipper]) when another shipper, in this process or another, holds
// the cursor: two shippers of one module to one destination would each
// send every record and move the cursor back and forth.
var ErrCursorInUse = errors.New("shipping cursor in use by another shipper")

// LockCursor takes the lock of the cursor file at path for as long as the
// returned Closer is not closed: an advisory lock (flock) on the file
// path+".lock" beside it, created when missing and left in place. The
// lock goes with the process, so a shipper killed without Close leaves
// none behind. If another holder has it, the error wraps
// [ErrCursorInUse]. On systems without flock it takes no lock.
//
// Once it holds the lock, it removes the temporary files that a writer
// killed in the middle of [WriteCursor] left beside the cursor file
// (path+".tmp-*"), which would otherwise pile up under a crash loop: no
// other writer of the cursor has one open.
func LockCursor(path string) (io.Closer, error) {
	l, err := lockCursor(path)
	if err != nil {
		return nil, err
	}
	if stale, err := filepath.Glob(globEscape(path) + ".tmp-*"); err == nil {
		for _, p := range stale {
			os.Remove(p)
		}
	}
	return l, nil
}

// globEscape escapes the characters that filepath.Match gives a meaning.
func globEscape(path string) string {
	var b strings.Builder
	for _, r := range path {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
