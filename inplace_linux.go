//go:build linux && (amd64 || arm64)

package audit

import (
	"syscall"
	"unsafe"
)

// namesFile reports whether path (NUL-terminated in pathz) still names the
// open file f, without allocating: fstat(2) of the descriptor and
// fstatat(2) of the path into stack buffers. SyncEveryEvent checks this at
// every sync, so it must cost no allocation. ok is false when it cannot be
// told this way (the caller then asks os.Lstat).
func (f *osFile) namesFile(pathz []byte) (same, ok bool) {
	var open, named syscall.Stat_t
	if err := syscall.Fstat(f.fd, &open); err != nil {
		return false, false
	}
	_, _, errno := syscall.Syscall6(fstatatTrap, atFdcwd, uintptr(unsafe.Pointer(&pathz[0])),
		uintptr(unsafe.Pointer(&named)), atSymlinkNofollow, 0, 0)
	switch errno {
	case 0:
		return open.Dev == named.Dev && open.Ino == named.Ino, true
	case syscall.ENOENT:
		return false, true
	}
	return false, false
}

// Arguments of fstatat(2).
const (
	atFdcwd           = ^uintptr(99) // AT_FDCWD, -100
	atSymlinkNofollow = 0x100
)
