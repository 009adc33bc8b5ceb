//go:build !linux

package main

import "os"

// isTerminal reports whether w is a character device, the best guess
// without the terminal ioctl of Linux.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
