//go:build linux

package audit

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// otherUID is the user that plays someone else in the ownership tests.
const otherUID = 65534

// requireRoot skips the test unless it runs as root, which it needs to give
// a file to another user.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("giving a file to another user (chown) needs root: skipping the ownership test")
	}
}

// plantFile creates name with content, owned by otherUID, as another user
// would in a shared directory.
func plantFile(t *testing.T, name, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(name, []byte(content), 0o666))
	require.NoError(t, os.Chmod(name, 0o666)) // whatever the umask
	require.NoError(t, os.Chown(name, otherUID, otherUID))
}

// stickyDir returns a new world-writable directory with the sticky bit,
// like /tmp.
func stickyDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "shared")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.Chmod(dir, 0o777|fs.ModeSticky))
	return dir
}

// TestNewRefusesFilesOfOthers checks that the logger never writes into an
// audit or lock file that another user created at its name in a shared
// (world-writable, sticky) directory.
func TestNewRefusesFilesOfOthers(t *testing.T) {
	requireRoot(t)
	for _, name := range []string{"AgentServer.audit.log", "AgentServer.audit.log.lock"} {
		t.Run(name, func(t *testing.T) {
			dir := stickyDir(t)
			planted := filepath.Join(dir, name)
			const content = "2026-11-25T09:00:00.000000Z AgentServer SERVER_START SUCCESS seq=1\n"
			plantFile(t, planted, content)
			l, err := New(Config{Module: "AgentServer", AuditLogPath: dir})
			if l != nil {
				l.Close()
				t.Fatal("New opened a file planted by another user")
			}
			require.ErrorIs(t, err, ErrUnsafePath)
			require.ErrorContains(t, err, planted)
			require.ErrorContains(t, err, "owned by uid 65534")
			require.Equal(t, content, readFile(t, planted), "the planted file is left as it was")
			st, err := os.Stat(planted)
			require.NoError(t, err)
			require.Equal(t, fs.FileMode(0o666), st.Mode().Perm(), "not even its mode is changed")
		})
	}
}

// TestOpenRegularCreatesExclusively checks that every file the writer
// creates is created with O_EXCL, and an existing one is opened without
// O_CREATE.
func TestOpenRegularCreatesExclusively(t *testing.T) {
	dir := t.TempDir()
	ffs := &faultFS{}
	var mu sync.Mutex
	var creates []int
	ffs.set(func(f *faultFS) {
		f.openErr = func(name string, flag int) error {
			if flag&os.O_CREATE != 0 {
				mu.Lock()
				creates = append(creates, flag)
				mu.Unlock()
			}
			return nil
		}
	})
	cfg := testConfig(t, dir)
	cfg.fs = ffs
	// A torn tail makes the writer create a quarantine file too.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Agent.audit.log"), []byte("whole\ntorn"), 0o640))
	w, err := openWriter(cfg)
	require.NoError(t, err)
	require.NoError(t, w.Write([]byte("one\n")))
	_, err = w.Rotate()
	require.NoError(t, err)
	require.NoError(t, w.Close())
	w, err = openWriter(cfg) // the lock and active files exist now
	require.NoError(t, err)
	require.NoError(t, w.Close())

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, creates)
	for _, flag := range creates {
		require.NotZero(t, flag&os.O_EXCL, "open flags %#x create a file without O_EXCL", flag)
	}
}

// TestKeyFileOfOthers checks that a key file, or a temporary key file, that
// another user owns is refused rather than used or written into.
func TestKeyFileOfOthers(t *testing.T) {
	requireRoot(t)
	t.Run("key file", func(t *testing.T) {
		dir := stickyDir(t)
		key := filepath.Join(dir, "audit.key")
		plantFile(t, key, "0:000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f\n")
		l, err := New(Config{Module: "AgentServer", AuditLogPath: t.TempDir(), Integrity: true, IntegrityKeyFile: key})
		if l != nil {
			l.Close()
			t.Fatal("New used a key file planted by another user")
		}
		require.ErrorIs(t, err, ErrBadKey)
		require.ErrorIs(t, err, ErrUnsafePath)
		require.ErrorContains(t, err, "owned by uid 65534")
	})
	t.Run("temporary key file", func(t *testing.T) {
		dir := stickyDir(t)
		key := filepath.Join(dir, "audit.key")
		require.NoError(t, NewKey(key))
		plantFile(t, key+tmpExt, "planted")
		k, err := readKeyFile(key)
		require.NoError(t, err)
		err = writeKeyFile(key, k.evolve())
		require.ErrorIs(t, err, ErrUnsafePath)
		require.ErrorContains(t, err, "owned by uid 65534")
		require.Equal(t, "planted", readFile(t, key+tmpExt), "the planted file is left as it was")
	})
}

// TestWriteKeyFileStaleTemporary checks that a temporary key file of our
// own, left by a crash, is replaced, and that a symbolic link there is
// neither followed nor written through.
func TestWriteKeyFileStaleTemporary(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "audit.key")
	require.NoError(t, NewKey(key))
	k, err := readKeyFile(key)
	require.NoError(t, err)

	require.NoError(t, os.WriteFile(key+tmpExt, []byte("stale"), 0o600))
	k = k.evolve()
	require.NoError(t, writeKeyFile(key, k))
	got, err := readKeyFile(key)
	require.NoError(t, err)
	require.Equal(t, uint64(1), got.index)
	require.NoFileExists(t, key+tmpExt)

	target := filepath.Join(t.TempDir(), "target")
	require.NoError(t, os.WriteFile(target, []byte("target"), 0o600))
	require.NoError(t, os.Symlink(target, key+tmpExt))
	require.NoError(t, writeKeyFile(key, k.evolve()))
	require.Equal(t, "target", readFile(t, target), "the link's target is untouched")
	got, err = readKeyFile(key)
	require.NoError(t, err)
	require.Equal(t, uint64(2), got.index)
}

// TestKeyFileNotRegular checks that a FIFO, a device, a symbolic link or a
// large file given as the key file is refused at once, without waiting for
// a FIFO's writer or reading a device without end.
func TestKeyFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.key")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	link := filepath.Join(dir, "link.key")
	real := filepath.Join(dir, "real.key")
	require.NoError(t, NewKey(real))
	require.NoError(t, os.Symlink(real, link))
	big := filepath.Join(dir, "big.key")
	require.NoError(t, os.WriteFile(big, make([]byte, maxKeyFileSize+1), 0o600))
	tests := []struct {
		name, path, wantErr string
	}{
		{"fifo", fifo, "not a regular file"},
		{"dev zero", "/dev/zero", "not a regular file"},
		{"dev null", "/dev/null", "not a regular file"},
		{"symbolic link", link, "symbolic link"},
		{"large file", big, "at most 4096"},
		{"directory", dir, "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				l, err := New(Config{Module: "AgentServer", AuditLogPath: t.TempDir(), Integrity: true, IntegrityKeyFile: tt.path})
				if l != nil {
					l.Close()
				}
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(time.Minute): // a hang, not a slow answer
				t.Fatalf("New with key file %s did not return", tt.path)
			}
			require.ErrorIs(t, err, ErrBadKey)
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorContains(t, err, tt.path)
		})
	}
	// The real key file is fine.
	l := newTestLogger(t, Config{Integrity: true, IntegrityKeyFile: real})
	require.NoError(t, l.Log(context.Background(), Event{Type: ServerStart}))
}
