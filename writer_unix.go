//go:build unix && !aix && !(solaris && !illumos)

package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// OpenFile implements [fileSystem] with O_NOFOLLOW and O_CLOEXEC.
func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, perm)
	if err != nil {
		return nil, err
	}
	return &osFile{File: f}, nil
}

// SyncDir implements [fileSystem]. A file system that cannot sync a
// directory (EINVAL, ENOTSUP) is not an error.
func (osFS) SyncDir(name string) error {
	d, err := os.Open(name)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}

// Datasync implements [file]: fdatasync(2) on Linux, fsync(2) elsewhere.
func (f *osFile) Datasync() error {
	return f.control("datasync", datasyncFd)
}

// Lock implements [file] with flock(2) LOCK_EX|LOCK_NB. A flock belongs to
// the open file description, so it also excludes a second open in the same
// process.
func (f *osFile) Lock() error {
	err := f.control("flock", func(fd int) error {
		for {
			err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
			if err != syscall.EINTR {
				return err
			}
		}
	})
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return fmt.Errorf("%w: %w", ErrLocked, err)
	}
	return err
}

// control runs fn on f's descriptor and names a failure like package os.
func (f *osFile) control(op string, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	if ferr != nil {
		return &fs.PathError{Op: op, Path: f.Name(), Err: ferr}
	}
	return nil
}

// datasyncFd flushes the data of a file; writer_linux.go makes it
// fdatasync(2).
var datasyncFd = syscall.Fsync

// dirModeUnsafe reports whether a directory with mode m can be written by
// anyone without the sticky bit, so that others could replace audit files.
func dirModeUnsafe(m fs.FileMode) bool {
	return m.Perm()&0o002 != 0 && m&fs.ModeSticky == 0
}

// fileOwner returns the user id that owns the file st describes.
func fileOwner(st fs.FileInfo) (uid int, ok bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(sys.Uid), true
}

// openKeyFile opens a key file for reading without following a symbolic
// link and without waiting for the writer of a FIFO (O_NONBLOCK).
func openKeyFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
}
