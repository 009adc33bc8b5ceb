//go:build linux

package audit

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// mountTmpfs mounts a tmpfs of the given size (such as "1m") on a new
// directory of t.TempDir and returns that directory; it is unmounted when
// the test ends. The test is skipped unless the process may mount (root, or
// CAP_SYS_ADMIN). Close files on it in a t.Cleanup registered after this
// call, so that they are closed before the unmount.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root: skipping the real disk-full test")
	}
	dir := filepath.Join(t.TempDir(), "tmpfs")
	require.NoError(t, os.Mkdir(dir, 0o750))
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0750"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): skipping the real disk-full test", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// withUmask sets the process umask to mask until the test ends. Tests that
// call it must not be parallel.
func withUmask(t *testing.T, mask int) {
	t.Helper()
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// testConfig returns a writerConfig for module "Agent" in dir, whose
// background errors fail the test.
func testConfig(t *testing.T, dir string) writerConfig {
	t.Helper()
	return writerConfig{
		Dir:     dir,
		Module:  "Agent",
		Now:     time.Now,
		OnError: func(err error) { t.Errorf("background error: %v", err) },
	}
}

// openTestWriter opens a writer with cfg, closed when the test ends.
func openTestWriter(t *testing.T, cfg writerConfig) *fileWriter {
	t.Helper()
	w, err := openWriter(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, w.Close()) })
	return w
}

// readFile returns the content of name, failing the test if it cannot be
// read.
func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return string(b)
}

// requirePerm checks the permission bits of name, without following a
// symbolic link.
func requirePerm(t *testing.T, name string, want fs.FileMode) {
	t.Helper()
	st, err := os.Lstat(name)
	require.NoError(t, err)
	require.Equal(t, want, st.Mode().Perm(), "mode of %s", name)
}

// dirNames returns the sorted names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// faultFS is the real file system with faults injected by the hooks, which
// tests set with set. A hook that returns nil lets the operation through.
type faultFS struct {
	osFS

	mu sync.Mutex
	// openErr fails OpenFile.
	openErr func(name string, flag int) error
	// renameErr fails Rename.
	renameErr func(oldpath, newpath string) error
	// writeFault makes a Write to name keep only the first keep bytes of p
	// and return (keep, err); ok false lets the write through.
	writeFault func(name string, p []byte) (keep int, err error, ok bool)
	// truncErr fails Truncate.
	truncErr func(name string, size int64) error
	// removeErr fails Remove.
	removeErr func(name string) error
}

// set changes the hooks under the lock (the compressor reads them from its
// own goroutine).
func (f *faultFS) set(change func(f *faultFS)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// hooks returns a copy of the hooks.
func (f *faultFS) hooks() faultFS {
	f.mu.Lock()
	defer f.mu.Unlock()
	return faultFS{openErr: f.openErr, renameErr: f.renameErr, writeFault: f.writeFault,
		truncErr: f.truncErr, removeErr: f.removeErr}
}

// OpenFile implements fileSystem.
func (f *faultFS) OpenFile(name string, flag int, perm fs.FileMode) (file, error) {
	if h := f.hooks().openErr; h != nil {
		if err := h(name, flag); err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
	}
	inner, err := f.osFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{file: inner, fs: f, name: name}, nil
}

// Rename implements fileSystem.
func (f *faultFS) Rename(oldpath, newpath string) error {
	if h := f.hooks().renameErr; h != nil {
		if err := h(oldpath, newpath); err != nil {
			return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
		}
	}
	return f.osFS.Rename(oldpath, newpath)
}

// Remove implements fileSystem.
func (f *faultFS) Remove(name string) error {
	if h := f.hooks().removeErr; h != nil {
		if err := h(name); err != nil {
			return &fs.PathError{Op: "remove", Path: name, Err: err}
		}
	}
	return f.osFS.Remove(name)
}

// faultFile is a file of faultFS.
type faultFile struct {
	file
	fs   *faultFS
	name string
}

// Write implements file.
func (f *faultFile) Write(p []byte) (int, error) {
	if h := f.fs.hooks().writeFault; h != nil {
		if keep, err, ok := h(f.name, p); ok {
			if keep > 0 {
				if _, werr := f.file.Write(p[:keep]); werr != nil {
					return 0, werr
				}
			}
			return keep, err
		}
	}
	return f.file.Write(p)
}

// Truncate implements file.
func (f *faultFile) Truncate(size int64) error {
	if h := f.fs.hooks().truncErr; h != nil {
		if err := h(f.name, size); err != nil {
			return &fs.PathError{Op: "truncate", Path: f.name, Err: err}
		}
	}
	return f.file.Truncate(size)
}

// isActive reports whether name is an active audit file.
func isActive(name string) bool { return strings.HasSuffix(name, activeSuffix) }
