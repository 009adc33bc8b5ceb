package audit

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBackupName(t *testing.T) {
	tests := []struct {
		name   string
		module string
		t      time.Time
		want   string
	}{
		{"utc", "Agent", time.Date(2026, 11, 20, 23, 59, 59, 999_999_999, time.UTC), "Agent.audit-2026-11-20T23-59-59.999.log"},
		{"local time is written in UTC", "CEMServer", time.Date(2026, 11, 21, 1, 2, 3, 4_000_000, time.FixedZone("CET", 3600)), "CEMServer.audit-2026-11-21T00-02-03.004.log"},
		{"module with dash and underscore", "a_b-C", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "a_b-C.audit-2020-01-01T00-00-00.000.log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := backupName(tt.module, tt.t)
			require.Equal(t, tt.want, got)
			parsed, compressed, ok := parseBackupName(tt.module, got)
			require.True(t, ok)
			require.False(t, compressed)
			require.True(t, parsed.Equal(tt.t.Truncate(time.Millisecond)), "round trip gives %v", parsed)
			require.Equal(t, time.UTC, parsed.Location())
		})
	}
}

func TestParseBackupName(t *testing.T) {
	stamp := time.Date(2026, 11, 20, 8, 30, 15, 123_000_000, time.UTC)
	tests := []struct {
		name           string
		module         string
		file           string
		wantOK         bool
		wantCompressed bool
	}{
		{"backup", "Agent", "Agent.audit-2026-11-20T08-30-15.123.log", true, false},
		{"compressed backup", "Agent", "Agent.audit-2026-11-20T08-30-15.123.log.gz", true, true},
		{"compression in progress", "Agent", "Agent.audit-2026-11-20T08-30-15.123.log.gz.tmp", false, false},
		{"longer module with the same prefix", "Agent", "AgentServer.audit-2026-11-20T08-30-15.123.log", false, false},
		{"module with a dash suffix", "Agent", "Agent-X.audit-2026-11-20T08-30-15.123.log", false, false},
		{"shorter module", "AgentServer", "Agent.audit-2026-11-20T08-30-15.123.log", false, false},
		{"module case differs", "agent", "Agent.audit-2026-11-20T08-30-15.123.log", false, false},
		{"active file", "Agent", "Agent.audit.log", false, false},
		{"lock file", "Agent", "Agent.audit.log.lock", false, false},
		{"quarantine file", "Agent", "Agent.audit.log.torn-2026-11-20T08-30-15.123", false, false},
		{"trace log", "Agent", "Agent.log", false, false},
		{"dated trace log", "Agent", "Agent.20261120.log", false, false},
		{"extra suffix", "Agent", "Agent.audit-2026-11-20T08-30-15.123.log.bak", false, false},
		{"gz twice", "Agent", "Agent.audit-2026-11-20T08-30-15.123.log.gz.gz", false, false},
		{"no extension", "Agent", "Agent.audit-2026-11-20T08-30-15.123", false, false},
		{"seconds only", "Agent", "Agent.audit-2026-11-20T08-30-15.log", false, false},
		{"two fraction digits", "Agent", "Agent.audit-2026-11-20T08-30-15.12.log", false, false},
		{"four fraction digits", "Agent", "Agent.audit-2026-11-20T08-30-15.1234.log", false, false},
		{"month 13", "Agent", "Agent.audit-2026-13-20T08-30-15.123.log", false, false},
		{"colons", "Agent", "Agent.audit-2026-11-20T08:30:15.123.log", false, false},
		{"space instead of T", "Agent", "Agent.audit-2026-11-20 08-30-15.123.log", false, false},
		{"lumberjack local time", "Agent", "Agent.audit-2026-11-20T08-30-15.123+01.log", false, false},
		{"prefix", "Agent", "x.Agent.audit-2026-11-20T08-30-15.123.log", false, false},
		{"empty", "Agent", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, compressed, ok := parseBackupName(tt.module, tt.file)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.wantCompressed, compressed)
			if tt.wantOK {
				require.True(t, got.Equal(stamp), "time %v", got)
			} else {
				require.True(t, got.IsZero())
			}
		})
	}
}

// pruneDir fills dir with the neighbours an audit directory has, and old
// and new backups of module Agent; it returns the names that pruning
// before 2026-11-01 must remove.
func pruneDir(t *testing.T, dir string) (wantRemoved []string) {
	t.Helper()
	keep := []string{
		// this module's files that are not backups
		"Agent.audit.log",
		"Agent.audit.log.lock",
		"Agent.audit.log.torn-2020-01-01T00-00-00.000",
		// this module's new backups
		"Agent.audit-2026-11-01T00-00-00.000.log",
		"Agent.audit-2026-11-20T10-00-00.000.log.gz",
		"Agent.audit-2026-11-20T10-00-00.001.log",
		// trace logs
		"Agent.log",
		"AgentServer.log",
		"AgentServer.20261120.log",
		"AgentServer.20200101.log.gz",
		// other modules' files
		"AgentServer.audit.log",
		"AgentServer.audit-2020-01-01T00-00-00.000.log",
		"AgentServer.audit-2020-01-01T00-00-00.000.log.gz",
		"CEMServer.audit-2020-01-01T00-00-00.000.log",
		"Agent-X.audit-2020-01-01T00-00-00.000.log",
		"Agent_X.audit-2020-01-01T00-00-00.000.log.gz",
		"agent.audit-2020-01-01T00-00-00.000.log",
		// near misses
		"Agent.audit-2020-01-01T00-00-00.000.log.bak",
		"Agent.audit-2020-01-01T00-00-00.000.log.gz.gz",
		"Agent.audit-2020-01-01T00-00-00.log",
		"Agent.audit-2020-01-01T00-00-00.0000.log",
		"Agent.audit-2020-13-01T00-00-00.000.log",
		"Agent.audit-2020-01-01T00:00:00.000.log",
		"Agent.audit-2020-01-01T00-00-00.000",
		"old-Agent.audit-2020-01-01T00-00-00.000.log",
		"Agent.audit-2020-01-01T00-00-00.000.log~",
	}
	old := []string{
		"Agent.audit-2020-01-01T00-00-00.000.log",
		"Agent.audit-2020-01-01T00-00-00.001.log.gz",
		"Agent.audit-2026-10-31T23-59-59.999.log",
		"Agent.audit-2026-10-31T23-59-59.999.log.gz.tmp",
	}
	for _, name := range slices.Concat(keep, old) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("content of "+name+"\n"), 0o640))
	}
	// A directory named like an old backup, holding a file.
	sub := filepath.Join(dir, "Agent.audit-2019-01-01T00-00-00.000.log")
	require.NoError(t, os.Mkdir(sub, 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(sub, "inside"), []byte("inside\n"), 0o640))
	if runtime.GOOS != "windows" {
		// A symbolic link named like an old backup, to a file outside.
		target := filepath.Join(t.TempDir(), "target")
		require.NoError(t, os.WriteFile(target, []byte("target\n"), 0o640))
		require.NoError(t, os.Symlink(target, filepath.Join(dir, "Agent.audit-2019-01-02T00-00-00.000.log")))
	}
	for _, name := range old {
		wantRemoved = append(wantRemoved, filepath.Join(dir, name))
	}
	slices.Sort(wantRemoved)
	return wantRemoved
}

// snapshot returns the content of every file under dir by relative path,
// and the targets of symbolic links.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			files[rel] = "-> " + target
		case d.Type().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files[rel] = string(b)
		case d.IsDir():
			files[rel] = "directory"
		}
		return nil
	})
	require.NoError(t, err)
	return files
}

func TestPruneBackups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		wantRemoved := pruneDir(t, dir)
		before := snapshot(t, dir)

		removed, err := pruneBackups(nil, dir, "Agent", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		require.Equal(t, wantRemoved, removed)

		after := snapshot(t, dir)
		for _, p := range removed {
			rel, err := filepath.Rel(dir, p)
			require.NoError(t, err)
			require.Contains(t, before, rel)
			delete(before, rel)
		}
		require.Equal(t, before, after, "everything else is still there, byte for byte")

		// Nothing is older than the zero time; a second prune finds nothing.
		removed, err = pruneBackups(nil, dir, "Agent", time.Time{})
		require.NoError(t, err)
		require.Empty(t, removed)
		removed, err = pruneBackups(nil, dir, "Agent", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		require.Empty(t, removed)
	})
}

func TestPruneBackupsOfOtherModule(t *testing.T) {
	dir := t.TempDir()
	pruneDir(t, dir)
	removed, err := pruneBackups(nil, dir, "AgentServer", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Equal(t, []string{
		filepath.Join(dir, "AgentServer.audit-2020-01-01T00-00-00.000.log"),
		filepath.Join(dir, "AgentServer.audit-2020-01-01T00-00-00.000.log.gz"),
	}, removed)
	require.FileExists(t, filepath.Join(dir, "AgentServer.audit.log"))
	require.FileExists(t, filepath.Join(dir, "AgentServer.20200101.log.gz"))
	require.FileExists(t, filepath.Join(dir, "Agent.audit-2020-01-01T00-00-00.000.log"))
}

// removeFailFS is the real file system whose Remove fails for the names
// in fail.
type removeFailFS struct {
	osFS
	fail map[string]error
}

// Remove implements fileSystem.
func (f removeFailFS) Remove(name string) error {
	if err := f.fail[filepath.Base(name)]; err != nil {
		return &fs.PathError{Op: "remove", Path: name, Err: err}
	}
	return f.osFS.Remove(name)
}

func TestPruneBackupsErrors(t *testing.T) {
	t.Run("failed removals do not stop the others", func(t *testing.T) {
		dir := t.TempDir()
		names := []string{
			"Agent.audit-2020-01-01T00-00-00.000.log",
			"Agent.audit-2020-01-02T00-00-00.000.log.gz",
			"Agent.audit-2020-01-03T00-00-00.000.log",
			"Agent.audit-2020-01-04T00-00-00.000.log",
		}
		for _, n := range names {
			require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte(n), 0o640))
		}
		fsys := removeFailFS{fail: map[string]error{
			names[0]: syscall.EACCES,
			names[2]: syscall.EIO,
		}}
		removed, err := pruneBackups(fsys, dir, "Agent", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		require.Equal(t, []string{filepath.Join(dir, names[1]), filepath.Join(dir, names[3])}, removed)
		require.ErrorIs(t, err, fs.ErrPermission)
		require.ErrorIs(t, err, syscall.EIO)
		require.Contains(t, err.Error(), filepath.Join(dir, names[0]))
		require.Contains(t, err.Error(), filepath.Join(dir, names[2]))
		require.True(t, strings.HasPrefix(err.Error(), "audit: "), err.Error())
		require.FileExists(t, filepath.Join(dir, names[0]))
		require.FileExists(t, filepath.Join(dir, names[2]))
	})

	t.Run("a backup already gone is not an error", func(t *testing.T) {
		dir := t.TempDir()
		n := "Agent.audit-2020-01-01T00-00-00.000.log"
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o640))
		fsys := removeFailFS{fail: map[string]error{n: syscall.ENOENT}}
		removed, err := pruneBackups(fsys, dir, "Agent", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		require.Empty(t, removed)
	})

	t.Run("missing directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "missing")
		removed, err := pruneBackups(nil, dir, "Agent", time.Now())
		require.ErrorIs(t, err, fs.ErrNotExist)
		require.Contains(t, err.Error(), dir)
		require.Empty(t, removed)
	})
}

func TestPruneChainStopsAtAKeptBackup(t *testing.T) {
	dir := t.TempDir()
	names := []string{
		"Agent.audit-2020-01-01T00-00-00.000.log",
		"Agent.audit-2020-01-02T00-00-00.000.log.gz",
		"Agent.audit-2020-01-03T00-00-00.000.log",
		"Agent.audit-2020-01-04T00-00-00.000.log",
	}
	for _, n := range names {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte(n), 0o640))
	}
	fsys := removeFailFS{fail: map[string]error{names[1]: syscall.EIO}}
	removed, err := pruneChain(fsys, dir, "Agent", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	require.ErrorIs(t, err, syscall.EIO)
	require.Equal(t, []string{filepath.Join(dir, names[0])}, removed, "the files after a failed removal stay")
	release := markCompressing(filepath.Join(dir, names[2]))
	removed, err = pruneChain(nil, dir, "Agent", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	release()
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(dir, names[1])}, removed, "the files from one being compressed on stay")
	for _, n := range names[2:] {
		require.FileExists(t, filepath.Join(dir, n))
	}
}
