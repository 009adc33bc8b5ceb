//go:build unix

package ship

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

func lockCursor(path string) (io.Closer, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("audit: lock of shipping cursor %s: %w", path, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("audit: shipping cursor %s: %w (is another \"auditlog ship\" or shipper of this module and destination running?)", path, ErrCursorInUse)
		}
		return nil, fmt.Errorf("audit: lock of shipping cursor %s: %w", path, err)
	}
	return f, nil
}
