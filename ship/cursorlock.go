package ship

import (
	"errors"
	"io"
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
func LockCursor(path string) (io.Closer, error) {
	return lockCursor(path)
}
