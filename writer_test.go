//go:build linux

package audit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWriterModes(t *testing.T) {
	for _, umask := range []int{0, 0o077} {
		t.Run(fmt.Sprintf("umask %03o", umask), func(t *testing.T) {
			withUmask(t, umask)
			root := t.TempDir()
			require.NoError(t, os.Chmod(root, 0o755))
			dir := filepath.Join(root, "a", "b", "audit")
			synctest.Test(t, func(t *testing.T) {
				cfg := testConfig(t, dir)
				cfg.Compress = true
				w, err := openWriter(cfg)
				require.NoError(t, err)
				requirePerm(t, root, 0o755) // existed: left alone
				for _, d := range []string{filepath.Join(root, "a"), filepath.Join(root, "a", "b"), dir} {
					requirePerm(t, d, 0o750)
				}
				requirePerm(t, w.Path(), 0o640)
				requirePerm(t, w.Path()+lockSuffix, 0o640)

				require.NoError(t, w.Write([]byte("one\n")))
				backup, err := w.Rotate()
				require.NoError(t, err)
				requirePerm(t, w.Path(), 0o640)
				synctest.Wait() // the compressor is done
				requirePerm(t, backup+gzExt, 0o640)
				require.NoError(t, w.Close())
			})

			// An existing file with another mode is given 0640; torn tails
			// go to a 0640 quarantine file.
			require.NoError(t, os.Chmod(filepath.Join(dir, "Agent.audit.log"), 0o600))
			f, err := os.OpenFile(filepath.Join(dir, "Agent.audit.log"), os.O_WRONLY|os.O_APPEND, 0)
			require.NoError(t, err)
			_, err = f.WriteString("torn")
			require.NoError(t, err)
			require.NoError(t, f.Close())
			w := openTestWriter(t, testConfig(t, dir))
			requirePerm(t, w.Path(), 0o640)
			q, _ := w.Quarantine()
			require.NotEmpty(t, q)
			requirePerm(t, q, 0o640)
		})
	}
}

func TestWriterSymlinkRefused(t *testing.T) {
	for _, name := range []string{"Agent.audit.log", "Agent.audit.log.lock"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(t.TempDir(), "target")
			require.NoError(t, os.WriteFile(target, []byte("precious\n"), 0o600))
			require.NoError(t, os.Symlink(target, filepath.Join(dir, name)))

			_, err := openWriter(testConfig(t, dir))
			require.ErrorIs(t, err, ErrUnsafePath)
			require.ErrorIs(t, err, syscall.ELOOP)
			require.Contains(t, err.Error(), filepath.Join(dir, name))
			require.Equal(t, "precious\n", readFile(t, target))
			requirePerm(t, target, 0o600)
		})
	}

	t.Run("symlinked directory is allowed", func(t *testing.T) {
		real := t.TempDir()
		link := filepath.Join(t.TempDir(), "audit")
		require.NoError(t, os.Symlink(real, link))
		w := openTestWriter(t, testConfig(t, link))
		require.NoError(t, w.Write([]byte("x\n")))
		require.Equal(t, "x\n", readFile(t, filepath.Join(real, "Agent.audit.log")))
	})
}

func TestWriterOSOpenNoFollow(t *testing.T) {
	// The check before the open races with an attacker; O_NOFOLLOW does not.
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	require.NoError(t, os.WriteFile(target, []byte("precious\n"), 0o600))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(target, link))
	for _, flag := range []int{os.O_RDONLY, os.O_WRONLY | os.O_APPEND | os.O_CREATE} {
		f, err := osFS{}.OpenFile(link, flag, 0o640)
		if err == nil {
			f.Close()
		}
		require.ErrorIs(t, err, syscall.ELOOP, "flag %#x", flag)
	}
	require.Equal(t, "precious\n", readFile(t, target))
}

func TestWriterUnsafeDir(t *testing.T) {
	tests := []struct {
		name    string
		mode    fs.FileMode // chmod of the directory; 0 means make it a regular file
		wantErr []error
	}{
		{"world writable", 0o777, []error{ErrUnsafePath}},
		{"world writable without read", 0o733, []error{ErrUnsafePath}},
		{"world writable sticky", 0o777 | fs.ModeSticky, nil},
		{"group writable", 0o770, nil},
		{"private", 0o700, nil},
		{"regular file", 0, []error{ErrUnsafePath, syscall.ENOTDIR}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "audit")
			if tt.mode == 0 {
				require.NoError(t, os.WriteFile(dir, nil, 0o600))
			} else {
				require.NoError(t, os.Mkdir(dir, 0o700))
				require.NoError(t, os.Chmod(dir, tt.mode))
			}
			w, err := openWriter(testConfig(t, dir))
			if tt.wantErr == nil {
				require.NoError(t, err)
				require.NoError(t, w.Close())
				st, err := os.Stat(dir)
				require.NoError(t, err)
				require.Equal(t, tt.mode, st.Mode()&(fs.ModePerm|fs.ModeSticky), "an existing directory is not chmodded")
				return
			}
			for _, want := range tt.wantErr {
				require.ErrorIs(t, err, want)
			}
			require.Contains(t, err.Error(), dir)
		})
	}
}

func TestWriterLock(t *testing.T) {
	dir := t.TempDir()
	w1, err := openWriter(testConfig(t, dir))
	require.NoError(t, err)

	_, err = openWriter(testConfig(t, dir))
	require.ErrorIs(t, err, ErrLocked)
	require.Contains(t, err.Error(), filepath.Join(dir, "Agent.audit.log"))
	require.Contains(t, err.Error(), "another writer")

	// Another module in the same directory is not locked out.
	other := testConfig(t, dir)
	other.Module = "AgentServer"
	openTestWriter(t, other)

	require.NoError(t, w1.Close())
	require.NoError(t, w1.Close(), "Close is idempotent")
	w2 := openTestWriter(t, testConfig(t, dir))
	require.NoError(t, w2.Write([]byte("after\n")))
	require.FileExists(t, filepath.Join(dir, "Agent.audit.log.lock"), "the lock file is never removed")
}

// lockHelperEnv names the directory in which TestWriterLockHelperProcess
// holds the lock.
const lockHelperEnv = "AUDIT_TEST_LOCK_HELPER_DIR"

func TestWriterLockAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWriterLockHelperProcess$")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // the child exits at EOF, should this test die
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	killed := false
	t.Cleanup(func() {
		if !killed {
			stdin.Close()
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "the helper process did not report the lock")
	require.Equal(t, "locked\n", line)

	_, err = openWriter(testConfig(t, dir))
	require.ErrorIs(t, err, ErrLocked)
	require.Contains(t, err.Error(), filepath.Join(dir, "Agent.audit.log"))

	require.NoError(t, cmd.Process.Kill())
	cmd.Wait()
	killed = true
	w := openTestWriter(t, testConfig(t, dir))
	require.NoError(t, w.Write([]byte("mine now\n")))
}

// TestWriterLockHelperProcess is the child of TestWriterLockAcrossProcesses:
// it holds the lock until killed or its standard input closes.
func TestWriterLockHelperProcess(t *testing.T) {
	dir := os.Getenv(lockHelperEnv)
	if dir == "" {
		t.Skip("helper process of TestWriterLockAcrossProcesses")
	}
	w, err := openWriter(testConfig(t, dir))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	w.Close()
	os.Exit(0)
}

func TestWriterTornTail(t *testing.T) {
	long := strings.Repeat("x", MaxRecordSize+10)
	tests := []struct {
		name     string
		content  string
		wantFile string // the active file after open
		wantTail string // "" means nil
		wantTorn string // "" means no quarantine
	}{
		{"torn record", "a\nb\npartial", "a\nb\n", "b", "partial"},
		{"clean", "a\nb\n", "a\nb\n", "b", ""},
		{"one line", "only\n", "only\n", "only", ""},
		{"no newline at all", "partial", "", "", "partial"},
		{"empty", "", "", "", ""},
		{"empty last line", "a\n\n", "a\n\n", "", ""},
		{"torn tail longer than a record", "a\n" + long, "a\n", "a", long},
		{"last line longer than a record", "a\n" + long + "\n", "a\n" + long + "\n", "", ""},
		{"last line longer than a record, torn", long + "\nrest", long + "\n", "", "rest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "Agent.audit.log")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o640))
			w := openTestWriter(t, testConfig(t, dir))

			require.Equal(t, tt.wantFile, readFile(t, path))
			require.Equal(t, int64(len(tt.wantFile)), w.Size())
			if tt.wantTail == "" {
				require.Nil(t, w.Tail())
			} else {
				require.Equal(t, tt.wantTail, string(w.Tail()))
			}
			q, n := w.Quarantine()
			if tt.wantTorn == "" {
				require.Empty(t, q)
				require.Zero(t, n)
				require.Equal(t, []string{"Agent.audit.log", "Agent.audit.log.lock"}, dirNames(t, dir))
				return
			}
			require.Equal(t, int64(len(tt.wantTorn)), n)
			require.True(t, strings.HasPrefix(filepath.Base(q), "Agent.audit.log.torn-"), q)
			require.Equal(t, dir, filepath.Dir(q))
			require.Equal(t, tt.wantTorn, readFile(t, q))

			// Writing goes on after the last complete line.
			require.NoError(t, w.Write([]byte("next\n")))
			require.Equal(t, tt.wantFile+"next\n", readFile(t, path))
		})
	}

	t.Run("two repairs in one millisecond get two files", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "Agent.audit.log")
		cfg := testConfig(t, dir)
		fixed := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		cfg.Now = func() time.Time { return fixed }
		var quarantined []string
		for _, torn := range []string{"first", "second"} {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
			require.NoError(t, err)
			_, err = f.WriteString("ok\n" + torn)
			require.NoError(t, err)
			require.NoError(t, f.Close())
			w, err := openWriter(cfg)
			require.NoError(t, err)
			q, _ := w.Quarantine()
			require.Equal(t, torn, readFile(t, q))
			quarantined = append(quarantined, q)
			require.NoError(t, w.Close())
		}
		require.NotEqual(t, quarantined[0], quarantined[1])
		require.Equal(t, "ok\nok\n", readFile(t, path))
	})
}

func TestWriterWriteFaults(t *testing.T) {
	tests := []struct {
		name    string
		keep    int // bytes of the failing write that reach the file
		err     error
		wantErr error
	}{
		{"EIO, nothing written", 0, syscall.EIO, syscall.EIO},
		{"EIO after a partial write", 5, syscall.EIO, syscall.EIO},
		{"short write", 7, nil, io.ErrShortWrite},
		{"disk full after a partial write", 3, syscall.ENOSPC, syscall.ENOSPC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ffs := &faultFS{}
			cfg := testConfig(t, dir)
			cfg.fs = ffs
			w := openTestWriter(t, cfg)
			require.NoError(t, w.Write([]byte("first record\n")))

			ffs.set(func(f *faultFS) {
				f.writeFault = func(name string, p []byte) (int, error, bool) { return tt.keep, tt.err, isActive(name) }
			})
			err := w.Write([]byte("second record\n"))
			require.ErrorIs(t, err, tt.wantErr)
			require.Contains(t, err.Error(), w.Path())
			require.Equal(t, "first record\n", readFile(t, w.Path()), "no partial record stays")
			require.Equal(t, int64(len("first record\n")), w.Size())

			ffs.set(func(f *faultFS) { f.writeFault = nil })
			require.NoError(t, w.Write([]byte("third record\n")))
			require.Equal(t, "first record\nthird record\n", readFile(t, w.Path()))
			require.Equal(t, int64(len("first record\nthird record\n")), w.Size())
		})
	}
}

func TestWriterFailedTruncateBlocksWrites(t *testing.T) {
	dir := t.TempDir()
	ffs := &faultFS{}
	cfg := testConfig(t, dir)
	cfg.fs = ffs
	w := openTestWriter(t, cfg)
	require.NoError(t, w.Write([]byte("good\n")))

	ffs.set(func(f *faultFS) {
		f.writeFault = func(name string, p []byte) (int, error, bool) { return 4, syscall.EIO, true }
		f.truncErr = func(string, int64) error { return syscall.EROFS }
	})
	err := w.Write([]byte("broken record\n"))
	require.ErrorIs(t, err, syscall.EIO)
	require.ErrorIs(t, err, syscall.EROFS)
	require.Equal(t, "good\nbrok", readFile(t, w.Path()), "the fault left garbage")

	// Writes work again, but the garbage cannot be removed yet: nothing
	// may be appended after it.
	ffs.set(func(f *faultFS) { f.writeFault = nil })
	for range 3 {
		err = w.Write([]byte("later\n"))
		require.ErrorIs(t, err, syscall.EROFS)
		require.Equal(t, "good\nbrok", readFile(t, w.Path()))
	}
	_, err = w.Rotate()
	require.ErrorIs(t, err, syscall.EROFS, "no rotation of a file with garbage")

	ffs.set(func(f *faultFS) { f.truncErr = nil })
	require.NoError(t, w.Write([]byte("later\n")))
	require.Equal(t, "good\nlater\n", readFile(t, w.Path()))
	require.Equal(t, int64(len("good\nlater\n")), w.Size())
}

func TestWriterDiskFullTmpfs(t *testing.T) {
	dir := mountTmpfs(t, "1m")
	filler := filepath.Join(dir, "filler")
	require.NoError(t, os.WriteFile(filler, bytes.Repeat([]byte{'f'}, 256<<10), 0o600))
	w := openTestWriter(t, testConfig(t, dir))

	var written bytes.Buffer
	var err error
	for i := 0; i < 10000; i++ {
		// 3001 bytes, not a multiple of the page size, so that the last
		// write is likely to be partial.
		rec := fmt.Appendf(nil, "%06d %s\n", i, bytes.Repeat([]byte{'r'}, 2993))
		if err = w.Write(rec); err != nil {
			break
		}
		written.Write(rec)
	}
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.Greater(t, written.Len(), 0)
	require.Equal(t, written.String(), readFile(t, w.Path()), "the file ends on a record boundary")
	require.Equal(t, int64(written.Len()), w.Size())

	require.NoError(t, os.Remove(filler))
	require.NoError(t, w.Write([]byte("after space was freed\n")))
	written.WriteString("after space was freed\n")
	require.Equal(t, written.String(), readFile(t, w.Path()))
	require.NoError(t, w.Sync())
}

func TestWriterRotateUnique(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		w := openTestWriter(t, testConfig(t, dir)) // the bubble's clock stands still
		const n = 200
		backups := make([]string, 0, n)
		for i := range n {
			require.NoError(t, w.Write(fmt.Appendf(nil, "record %d\n", i)))
			b, err := w.Rotate()
			require.NoError(t, err)
			require.Zero(t, w.Size())
			backups = append(backups, b)
		}
		require.True(t, slices.IsSorted(backups), "backup names follow rotation order")
		require.Len(t, slices.Compact(slices.Clone(backups)), n, "backup names are unique")
		for i, b := range backups {
			require.Equal(t, dir, filepath.Dir(b))
			_, compressed, ok := parseBackupName("Agent", filepath.Base(b))
			require.True(t, ok, b)
			require.False(t, compressed)
			require.Equal(t, fmt.Sprintf("record %d\n", i), readFile(t, b), "backup %s was overwritten", b)
		}
		require.Len(t, dirNames(t, dir), n+2) // backups, active and lock
		require.Equal(t, "", readFile(t, w.Path()))
		first, _, _ := parseBackupName("Agent", filepath.Base(backups[0]))
		require.Equal(t, time.Now().UTC().Truncate(time.Millisecond), first)
	})
}

func TestWriterRotateSkipsTakenNames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		now := time.Now().UTC()
		// A previous run left backups at this millisecond and the next
		// (compressed).
		taken := map[string]string{
			backupName("Agent", now):                               "earlier run\n",
			backupName("Agent", now.Add(time.Millisecond)) + gzExt: "earlier run, compressed",
		}
		for name, content := range taken {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o640))
		}
		w := openTestWriter(t, testConfig(t, dir))
		require.NoError(t, w.Write([]byte("this run\n")))
		backup, err := w.Rotate()
		require.NoError(t, err)
		require.Equal(t, filepath.Join(dir, backupName("Agent", now.Add(2*time.Millisecond))), backup)
		require.Equal(t, "this run\n", readFile(t, backup))
		for name, content := range taken {
			require.Equal(t, content, readFile(t, filepath.Join(dir, name)), "%s was overwritten", name)
		}
	})
}

func TestWriterRotateFailures(t *testing.T) {
	t.Run("rename fails", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			dir := t.TempDir()
			ffs := &faultFS{}
			cfg := testConfig(t, dir)
			cfg.fs = ffs
			w := openTestWriter(t, cfg)
			require.NoError(t, w.Write([]byte("old\n")))
			ffs.set(func(f *faultFS) { f.renameErr = func(string, string) error { return syscall.EXDEV } })

			backup, err := w.Rotate()
			require.ErrorIs(t, err, syscall.EXDEV)
			require.Empty(t, backup)
			require.NoError(t, w.Write([]byte("still old\n")), "the writer goes on with the old file")
			require.Equal(t, "old\nstill old\n", readFile(t, w.Path()))
			require.Equal(t, int64(len("old\nstill old\n")), w.Size())
			require.Equal(t, []string{"Agent.audit.log", "Agent.audit.log.lock"}, dirNames(t, dir))

			ffs.set(func(f *faultFS) { f.renameErr = nil })
			backup, err = w.Rotate()
			require.NoError(t, err)
			require.Equal(t, "old\nstill old\n", readFile(t, backup))
		})
	})

	t.Run("rename and reopen fail", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			dir := t.TempDir()
			ffs := &faultFS{}
			cfg := testConfig(t, dir)
			cfg.fs = ffs
			w := openTestWriter(t, cfg)
			require.NoError(t, w.Write([]byte("old\n")))
			ffs.set(func(f *faultFS) {
				f.renameErr = func(string, string) error { return syscall.EIO }
				f.openErr = func(name string, _ int) error {
					if isActive(name) {
						return syscall.EMFILE
					}
					return nil
				}
			})
			_, err := w.Rotate()
			require.ErrorIs(t, err, syscall.EIO)
			require.ErrorIs(t, err, syscall.EMFILE)
			err = w.Write([]byte("lost\n"))
			require.ErrorIs(t, err, syscall.EMFILE, "no file is open")

			ffs.set(func(f *faultFS) { f.renameErr, f.openErr = nil, nil })
			require.NoError(t, w.Write([]byte("new\n")))
			require.Equal(t, "old\nnew\n", readFile(t, w.Path()), "the old file is reopened")
		})
	})

	t.Run("opening the new file fails", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			dir := t.TempDir()
			ffs := &faultFS{}
			cfg := testConfig(t, dir)
			cfg.fs = ffs
			w := openTestWriter(t, cfg)
			require.NoError(t, w.Write([]byte("old\n")))
			failNewActive(ffs, syscall.ENOSPC)
			backup, err := w.Rotate()
			require.ErrorIs(t, err, syscall.ENOSPC)
			require.NotEmpty(t, backup, "the rename happened")
			require.Equal(t, "old\n", readFile(t, backup))
			require.NoFileExists(t, w.Path())
			require.Zero(t, w.Size())

			err = w.Write([]byte("new\n"))
			require.ErrorIs(t, err, syscall.ENOSPC, "Write retries the open")
			require.NoFileExists(t, w.Path())

			ffs.set(func(f *faultFS) { f.openErr = nil })
			require.NoError(t, w.Write([]byte("new\n")))
			require.Equal(t, "new\n", readFile(t, w.Path()))
			require.Equal(t, "old\n", readFile(t, backup))
			requirePerm(t, w.Path(), 0o640)
		})
	})

	t.Run("rotate again after the new file failed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			dir := t.TempDir()
			ffs := &faultFS{}
			cfg := testConfig(t, dir)
			cfg.fs = ffs
			w := openTestWriter(t, cfg)
			require.NoError(t, w.Write([]byte("old\n")))
			failNewActive(ffs, syscall.EACCES)
			_, err := w.Rotate()
			require.ErrorIs(t, err, fs.ErrPermission)
			ffs.set(func(f *faultFS) { f.openErr = nil })
			backup, err := w.Rotate()
			require.NoError(t, err)
			require.Empty(t, backup, "the earlier rotation is completed, no empty backup is made")
			require.Len(t, dirNames(t, dir), 3)
			require.NoError(t, w.Write([]byte("new\n")))
			require.Equal(t, "new\n", readFile(t, w.Path()))
		})
	})
}

func TestWriterActiveFileRemoved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		w := openTestWriter(t, testConfig(t, dir))
		require.NoError(t, w.Write([]byte("before\n")))
		require.NoError(t, w.Sync())
		require.NoError(t, os.Remove(w.Path()))

		err := w.Sync()
		require.ErrorIs(t, err, errFileReplaced)
		backup, err := w.Rotate()
		require.NoError(t, err)
		require.Empty(t, backup, "nothing to rename")
		require.NoError(t, w.Write([]byte("after\n")))
		require.Equal(t, "after\n", readFile(t, w.Path()))
		require.NoError(t, w.Sync())
	})
}

func TestWriterClosed(t *testing.T) {
	dir := t.TempDir()
	w, err := openWriter(testConfig(t, dir))
	require.NoError(t, err)
	require.NoError(t, w.Write([]byte("x\n")))
	require.NoError(t, w.Close())
	require.NoError(t, w.Close())

	require.ErrorIs(t, w.Write([]byte("y\n")), fs.ErrClosed, "no silent reopen after Close")
	require.ErrorIs(t, w.Sync(), fs.ErrClosed)
	_, err = w.Rotate()
	require.ErrorIs(t, err, fs.ErrClosed)
	require.Equal(t, "x\n", readFile(t, w.Path()))
}

// gunzip returns the uncompressed content of a gzip file.
func gunzip(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open(name)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	b, err := io.ReadAll(zr)
	require.NoError(t, err)
	require.NoError(t, zr.Close())
	return string(b)
}

func TestWriterCompression(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		cfg := testConfig(t, dir)
		cfg.Compress = true
		w, err := openWriter(cfg)
		require.NoError(t, err)
		want := map[string]string{}
		for i := range 5 {
			content := strings.Repeat(fmt.Sprintf("record %d of a compressible audit file\n", i), 1000*(i+1))
			require.NoError(t, w.Write([]byte(content)))
			b, err := w.Rotate()
			require.NoError(t, err)
			want[b] = content
		}
		synctest.Wait() // the compressor has emptied its queue
		for b, content := range want {
			require.NoFileExists(t, b)
			require.NoFileExists(t, b+gzExt+tmpExt)
			require.Equal(t, content, gunzip(t, b+gzExt))
			_, compressed, ok := parseBackupName("Agent", filepath.Base(b+gzExt))
			require.True(t, ok)
			require.True(t, compressed)
		}
		require.NoError(t, w.Close()) // synctest fails if the compressor outlives it
	})
}

func TestWriterCompressionAtOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		files := map[string]string{
			"Agent.audit-2026-01-01T00-00-00.000.log":        "left uncompressed\n",
			"Agent.audit-2026-01-02T00-00-00.000.log":        "also\n",
			"Agent.audit-2026-01-03T00-00-00.000.log.gz.tmp": "half a gzip",
			"Other.audit-2026-01-01T00-00-00.000.log":        "another module's\n",
			"Other.audit-2026-01-03T00-00-00.000.log.gz.tmp": "another module's",
			"AgentServer.20261120.log":                       "trace\n",
		}
		for name, content := range files {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o640))
		}
		cfg := testConfig(t, dir)
		cfg.Compress = true
		w := openTestWriter(t, cfg)
		synctest.Wait()

		require.Equal(t, "left uncompressed\n", gunzip(t, filepath.Join(dir, "Agent.audit-2026-01-01T00-00-00.000.log.gz")))
		require.Equal(t, "also\n", gunzip(t, filepath.Join(dir, "Agent.audit-2026-01-02T00-00-00.000.log.gz")))
		require.Equal(t, []string{
			"Agent.audit-2026-01-01T00-00-00.000.log.gz",
			"Agent.audit-2026-01-02T00-00-00.000.log.gz",
			"Agent.audit.log",
			"Agent.audit.log.lock",
			"AgentServer.20261120.log",
			"Other.audit-2026-01-01T00-00-00.000.log",
			"Other.audit-2026-01-03T00-00-00.000.log.gz.tmp",
		}, dirNames(t, dir))
		require.Equal(t, "another module's", readFile(t, filepath.Join(dir, "Other.audit-2026-01-03T00-00-00.000.log.gz.tmp")))
		require.NoError(t, w.Close())
	})
}

func TestWriterCloseCancelsCompression(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		cfg := testConfig(t, dir)
		cfg.Compress = true
		w, err := openWriter(cfg)
		require.NoError(t, err)
		want := map[string]string{}
		for i := range 30 {
			content := strings.Repeat(fmt.Sprintf("line of backup %d\n", i), 20000)
			require.NoError(t, w.Write([]byte(content)))
			b, err := w.Rotate()
			require.NoError(t, err)
			want[b] = content
		}
		require.NoError(t, w.Close()) // without waiting for the queue

		// Every backup is whole, in exactly one form, and no temporary file
		// is left.
		left := 0
		for b, content := range want {
			require.NoFileExists(t, b+gzExt+tmpExt)
			if _, err := os.Stat(b); err == nil {
				require.NoFileExists(t, b+gzExt)
				require.Equal(t, content, readFile(t, b))
				left++
			} else {
				require.Equal(t, content, gunzip(t, b+gzExt))
			}
		}
		t.Logf("%d of %d backups left for the next open", left, len(want))

		// The next open compresses what is left.
		w2, err := openWriter(cfg)
		require.NoError(t, err)
		synctest.Wait()
		for b, content := range want {
			require.NoFileExists(t, b)
			require.Equal(t, content, gunzip(t, b+gzExt))
		}
		require.NoError(t, w2.Close())
	})
}

func TestWriterCompressionFailure(t *testing.T) {
	tests := []struct {
		name  string
		fault func(f *faultFS)
		want  error
	}{
		{"temporary file cannot be created", func(f *faultFS) {
			f.openErr = func(name string, _ int) error {
				if strings.HasSuffix(name, gzExt+tmpExt) {
					return syscall.EDQUOT
				}
				return nil
			}
		}, syscall.EDQUOT},
		{"writing the temporary file fails", func(f *faultFS) {
			f.writeFault = func(name string, p []byte) (int, error, bool) {
				return 0, syscall.ENOSPC, strings.HasSuffix(name, gzExt+tmpExt)
			}
		}, syscall.ENOSPC},
		{"rename fails", func(f *faultFS) {
			f.renameErr = func(oldpath, _ string) error {
				if strings.HasSuffix(oldpath, gzExt+tmpExt) {
					return syscall.EIO
				}
				return nil
			}
		}, syscall.EIO},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				ffs := &faultFS{}
				ffs.set(tt.fault)
				var mu sync.Mutex
				var errs []error
				cfg := testConfig(t, dir)
				cfg.fs = ffs
				cfg.Compress = true
				cfg.OnError = func(err error) {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
				w := openTestWriter(t, cfg)
				require.NoError(t, w.Write([]byte("keep me\n")))
				backup, err := w.Rotate()
				require.NoError(t, err)
				synctest.Wait()

				mu.Lock()
				defer mu.Unlock()
				require.Len(t, errs, 1)
				require.ErrorIs(t, errs[0], tt.want)
				require.Contains(t, errs[0].Error(), backup)
				require.Equal(t, "keep me\n", readFile(t, backup), "the original is kept")
				require.NoFileExists(t, backup+gzExt)
				require.NoFileExists(t, backup+gzExt+tmpExt)
			})
		})
	}
}

func TestWriterPruneSkipsBackupBeingCompressed(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "Agent.audit-2020-01-01T00-00-00.000.log")
	require.NoError(t, os.WriteFile(old, []byte("x\n"), 0o640))
	require.NoError(t, os.WriteFile(old+gzExt+tmpExt, []byte("partial"), 0o640))
	release := markCompressing(old)
	removed, err := pruneBackups(nil, dir, "Agent", time.Now())
	require.NoError(t, err)
	require.Empty(t, removed)
	release()
	removed, err = pruneBackups(nil, dir, "Agent", time.Now())
	require.NoError(t, err)
	require.Equal(t, []string{old, old + gzExt + tmpExt}, removed)
}

func TestWriterErrorsWrapOSErrors(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o500))
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	if os.Geteuid() == 0 {
		// root ignores permissions: inject the error instead.
		ffs := &faultFS{}
		ffs.set(func(f *faultFS) { f.openErr = func(string, int) error { return syscall.EACCES } })
		cfg := testConfig(t, dir)
		cfg.fs = ffs
		_, err := openWriter(cfg)
		require.ErrorIs(t, err, fs.ErrPermission)
		require.True(t, strings.HasPrefix(err.Error(), "audit: "), err.Error())
		return
	}
	_, err := openWriter(testConfig(t, dir))
	require.ErrorIs(t, err, fs.ErrPermission)
	require.True(t, strings.HasPrefix(err.Error(), "audit: "), err.Error())
	require.False(t, errors.Is(err, ErrUnsafePath))
}

// failNewActive makes ffs fail the creation of a new active file (a
// rotation's last step) with err.
func failNewActive(ffs *faultFS, err error) {
	ffs.set(func(f *faultFS) {
		f.openErr = func(name string, flag int) error {
			if isActive(name) && flag&os.O_EXCL != 0 {
				return err
			}
			return nil
		}
	})
}
