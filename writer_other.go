//go:build !unix || aix || (solaris && !illumos)

package audit

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
)

// This file is the best effort of systems without O_NOFOLLOW or flock(2) in
// package syscall (Windows, AIX, Solaris): a symbolic link is refused by a
// check before opening (racy), and the lock only excludes writers of this
// process.

// OpenFile implements [fileSystem]; a symbolic link at name is refused with
// ELOOP by a check before the open.
func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (file, error) {
	if st, err := os.Lstat(name); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.ELOOP}
	}
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &osFile{File: f}, nil
}

// SyncDir implements [fileSystem]. Directories cannot be synced on Windows;
// elsewhere a failure is ignored too, as this is best effort.
func (osFS) SyncDir(name string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(name)
	if err != nil {
		return err
	}
	d.Sync()
	return d.Close()
}

// Datasync implements [file] with fsync.
func (f *osFile) Datasync() error { return f.Sync() }

// processLocks holds the lock files locked in this process, by absolute
// path.
var processLocks = struct {
	sync.Mutex
	m map[string]bool
}{m: make(map[string]bool)}

// Lock implements [file]. It only excludes other writers of this process.
func (f *osFile) Lock() error {
	key, err := filepath.Abs(f.Name())
	if err != nil {
		return err
	}
	processLocks.Lock()
	defer processLocks.Unlock()
	if processLocks.m[key] {
		return fmt.Errorf("%w: %s is locked in this process", ErrLocked, key)
	}
	processLocks.m[key] = true
	f.release = func() {
		processLocks.Lock()
		delete(processLocks.m, key)
		processLocks.Unlock()
	}
	return nil
}

// dirModeUnsafe reports whether a directory with mode m can be written by
// anyone without the sticky bit. Windows has no such mode bits.
func dirModeUnsafe(m fs.FileMode) bool {
	return runtime.GOOS != "windows" && m.Perm()&0o002 != 0 && m&fs.ModeSticky == 0
}

// fileOwner reports that files have no owning user id here.
func fileOwner(fs.FileInfo) (uid int, ok bool) { return 0, false }

// openKeyFile opens a key file for reading; a symbolic link is refused by a
// check before the open.
func openKeyFile(path string) (*os.File, error) {
	if st, err := os.Lstat(path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.ELOOP}
	}
	return os.Open(path)
}
