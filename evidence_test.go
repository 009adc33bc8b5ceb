package audit

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Tests of verification after crashes, restarts and configuration changes:
// no false alarm for what a legitimate writer leaves behind, and no "intact"
// when something is missing.

const evModule = "AgentServer"

// sealedConfig is the Config of writeSealed.
func sealedConfig(dir, format, keyFile string, clock func() time.Time) Config {
	return Config{Module: evModule, AuditLogPath: dir, Formatter: format, MaxSize: MinFileSize, Integrity: true,
		IntegrityKeyFile: keyFile, EventMask: AllEvents, Now: clock}
}

// logN logs n DataRead events with l.
func logN(t *testing.T, l *Logger, n int, tag string) {
	t.Helper()
	for i := range n {
		require.NoError(t, l.Log(context.Background(), Event{Type: DataRead, Outcome: Succeeded, Actor: "alice", Subject: fmt.Sprint(tag, "-", i), Object: "history",
			Reason: sealedPadding}))
	}
}

// requireVerified verifies module's files in dir with key and requires
// that they are intact.
func requireVerified(t *testing.T, dir string, key []byte) *VerifyReport {
	t.Helper()
	r, err := Verify(dir, evModule, key)
	require.NoError(t, err)
	require.Nil(t, r.Problem, "%v", r.Problem)
	return r
}

// requireProblem verifies and requires a problem of kind in file (base
// name; "" for any).
func requireProblem(t *testing.T, dir string, key []byte, kind ProblemKind, file string) *Problem {
	t.Helper()
	r, err := Verify(dir, evModule, key)
	require.NoError(t, err)
	require.NotNil(t, r.Problem, "verify must not report every file intact")
	require.Equal(t, kind, r.Problem.Kind, "%v", r.Problem)
	if file != "" {
		require.Equal(t, file, filepath.Base(r.Problem.File), "%v", r.Problem)
	}
	return r.Problem
}

// keyModes runs f with a key file and without one (plain SHA-256).
func keyModes(t *testing.T, f func(t *testing.T, keyFile string, key []byte)) {
	t.Run("hmac", func(t *testing.T) {
		path, key := newKeyFile(t)
		f(t, path, key)
	})
	t.Run("sha256", func(t *testing.T) { f(t, "", nil) })
}

func TestVerifyAfterCrashInsideRotation(t *testing.T) {
	keyModes(t, func(t *testing.T, keyFile string, key []byte) {
		dir := t.TempDir()
		writeSealed(t, dir, evModule, FormatBCM, keyFile, 30, nil)
		// The state a kill -9 leaves between the rename of a rotation and
		// the new file's FILE_START: the key file already holds the next
		// key, the active file was renamed to a backup, and the new active
		// file is empty.
		active := filepath.Join(dir, evModule+activeSuffix)
		first, err := firstLine(File{Path: active, Active: true})
		require.NoError(t, err)
		rec, err := ParseRecord(first)
		require.NoError(t, err)
		index, _, _, err := fileStartInfo(&rec.Event)
		require.NoError(t, err)
		if keyFile != "" {
			k, err := readKeyFile(keyFile)
			require.NoError(t, err)
			require.Equal(t, index, k.index)
			require.NoError(t, writeKeyFile(keyFile, k.next()))
		}
		require.NoError(t, os.Rename(active, filepath.Join(dir, backupName(evModule, day1.Add(48*time.Hour)))))
		require.NoError(t, os.WriteFile(active, nil, 0o640))
		requireVerified(t, dir, key)

		l, err := New(sealedConfig(dir, FormatBCM, keyFile, fixedClock(day1.Add(49*time.Hour), time.Second)))
		require.NoError(t, err)
		logN(t, l, 5, "after")
		require.NoError(t, l.Close())
		r := requireVerified(t, dir, key)
		require.Equal(t, filepath.Join(dir, evModule+activeSuffix), r.LastFile)
	})
}

func TestVerifyInterruptedCompression(t *testing.T) {
	dir := t.TempDir()
	keyFile, key := newKeyFile(t)
	writeSealed(t, dir, evModule, FormatJSON, keyFile, 30, nil)
	// A kill during compression, after the .gz was complete and before the
	// plain backup was removed.
	backup := plainBackups(t, dir, evModule)[1]
	gzipFile(t, backup, backup+gzExt)
	files, err := ListFiles(dir, evModule)
	require.NoError(t, err)
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f.Path)
	}
	require.Contains(t, names, filepath.Base(backup))
	require.NotContains(t, names, filepath.Base(backup)+gzExt, "one backup is listed once")
	requireVerified(t, dir, key)
}

// gzipFile writes the gzip of src to dst.
func gzipFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err = zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(dst, b.Bytes(), 0o640))
}

func TestRetentionAfterCloseKeepsTheChain(t *testing.T) {
	dir := t.TempDir()
	keyFile, key := newKeyFile(t)
	l, err := New(sealedConfig(dir, FormatBCM, keyFile, fixedClock(day1, time.Minute)))
	require.NoError(t, err)
	logN(t, l, 40, "a")
	require.NoError(t, l.Close())
	before := len(plainBackups(t, dir, evModule))
	// Retention that runs while the logger closes: its record can no
	// longer be written, so the files must stay.
	l.cfg.MaxBackups = 1
	l.prune()
	require.Len(t, plainBackups(t, dir, evModule), before)
	requireVerified(t, dir, key)
}

func TestRetentionOfManyFiles(t *testing.T) {
	dir := t.TempDir()
	keyFile, key := newKeyFile(t)
	writeSealed(t, dir, evModule, FormatBCM, keyFile, 400, nil)
	old := plainBackups(t, dir, evModule)
	require.Greater(t, len(old), 60)
	cfg := sealedConfig(dir, FormatBCM, keyFile, fixedClock(day1.Add(time.Hour), time.Minute))
	cfg.MaxBackups = 2
	l, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, l.Close())
	// The retention records need files of their own at this MaxSize, so
	// more than two backups remain; the old ones went, but the newest two.
	left := plainBackups(t, dir, evModule)
	for _, p := range old[:len(old)-2] {
		require.NotContains(t, left, p)
	}
	r := requireVerified(t, dir, key)
	require.GreaterOrEqual(t, l.Stats().Pruned, uint64(len(old)-2))
	// A retention step kicked by the rotations of the first one may remove
	// the files that hold its records; the records left name only files
	// that are gone.
	require.NotEmpty(t, r.Pruned)
	for _, name := range r.Pruned {
		require.NoFileExists(t, filepath.Join(dir, name))
	}
}

func TestVerifyAfterFormatterChange(t *testing.T) {
	keyModes(t, func(t *testing.T, keyFile string, key []byte) {
		dir := t.TempDir()
		for i, format := range []string{FormatBCM, FormatJSON, FormatBCM} {
			l, err := New(Config{Module: evModule, AuditLogPath: dir, Formatter: format, Integrity: true,
				IntegrityKeyFile: keyFile, EventMask: AllEvents, Now: fixedClock(day1.Add(time.Duration(i)*time.Hour), time.Second)})
			require.NoError(t, err)
			logN(t, l, 5, format)
			require.NoError(t, l.Close())
		}
		requireVerified(t, dir, key)
		backups := plainBackups(t, dir, evModule)
		require.Len(t, backups, 2, "each format change starts a new file")
		require.NoError(t, os.Remove(backups[0]))
		requireProblem(t, dir, key, FileMissing, "")
	})
}

func TestVerifyAfterIntegrityTurnedOnAndOff(t *testing.T) {
	dir := t.TempDir()
	keyFile, key := newKeyFile(t)
	for i, sealed := range []bool{false, true, false, true} {
		cfg := Config{Module: evModule, AuditLogPath: dir, Integrity: sealed, EventMask: AllEvents, Now: fixedClock(day1.Add(time.Duration(i)*time.Hour), time.Second)}
		if sealed {
			cfg.IntegrityKeyFile = keyFile
		}
		l, err := New(cfg)
		require.NoError(t, err)
		logN(t, l, 5, fmt.Sprint("run", i))
		require.NoError(t, l.Close())
		if i == 0 {
			r, err := Verify(dir, evModule, key)
			require.NoError(t, err)
			require.False(t, r.Sealed, "a module written without integrity is not sealed")
			require.Nil(t, r.Problem)
			continue
		}
		r := requireVerified(t, dir, key)
		require.True(t, r.Sealed)
		require.Len(t, r.Unsealed, []int{0, 1, 2, 2}[i], "the files written without integrity")
	}
	// Stripping the seal from the newest sealed file is not a change of
	// configuration.
	editLines(t, filepath.Join(dir, evModule+activeSuffix), func(lines []string) []string {
		out := make([]string, len(lines))
		for i, ln := range lines {
			body, _, ok := splitSeal([]byte(ln[:len(ln)-1]))
			require.True(t, ok)
			out[i] = string(body) + "\n"
		}
		return out
	})
	r, err := Verify(dir, evModule, key)
	require.NoError(t, err)
	require.NotNil(t, r.Problem)
}

func TestVerifyAfterClockSteppedBack(t *testing.T) {
	dir := t.TempDir()
	keyFile, key := newKeyFile(t)
	writeSealed(t, dir, evModule, FormatBCM, keyFile, 20, func(c *Config) { c.Now = fixedClock(day1.Add(2*time.Hour), time.Minute) })
	writeSealed(t, dir, evModule, FormatBCM, keyFile, 20, func(c *Config) { c.Now = fixedClock(day1, time.Minute) })
	backups := plainBackups(t, dir, evModule)
	files, err := ListFiles(dir, evModule)
	require.NoError(t, err)
	require.Len(t, files, len(backups)+1)
	requireVerified(t, dir, key)
	// Names sort in the order written: each backup's first record follows
	// the one before it.
	var last uint64
	for i, b := range backups {
		first, err := firstLine(File{Path: b})
		require.NoError(t, err)
		rec, err := ParseRecord(first)
		require.NoError(t, err)
		index, _, _, err := fileStartInfo(&rec.Event)
		require.NoError(t, err)
		if i > 0 {
			require.Equal(t, last+1, index, "%s", filepath.Base(b))
		}
		last = index
	}
}

func TestFarFutureEventKeepsDailyRotation(t *testing.T) {
	dir := t.TempDir()
	now := day1
	l, err := New(Config{Module: evModule, AuditLogPath: dir, Now: func() time.Time { return now }})
	require.NoError(t, err)
	require.NoError(t, l.Log(context.Background(), Event{Type: Logon, Outcome: Succeeded, Actor: "a", Time: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}))
	require.NoError(t, l.Log(context.Background(), Event{Type: Logon, Outcome: Succeeded, Actor: "b"}))
	now = day1.Add(24 * time.Hour)
	require.NoError(t, l.Log(context.Background(), Event{Type: Logon, Outcome: Succeeded, Actor: "c"}))
	require.NoError(t, l.Close())
	require.Len(t, plainBackups(t, dir, evModule), 1, "the next day starts a new file")
	recs := readRecords(t, filepath.Join(dir, evModule+activeSuffix))
	require.Len(t, recs, 1)
	require.Equal(t, "c", recs[0].Event.Actor)
}

func TestVerifyDetectsDeletedNewestFiles(t *testing.T) {
	cases := []struct {
		name   string
		delete func(t *testing.T, dir string)
		kind   ProblemKind
	}{
		{"active file", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, evModule+activeSuffix)))
		}, FileMissing},
		{"active file and newest backups", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, evModule+activeSuffix)))
			b := plainBackups(t, dir, evModule)
			for _, p := range b[len(b)-3:] {
				require.NoError(t, os.Remove(p))
			}
		}, FileMissing},
		{"records at the end of the active file", func(t *testing.T, dir string) {
			editLines(t, filepath.Join(dir, evModule+activeSuffix), func(l []string) []string { return l[:len(l)-1] })
		}, Truncated},
		{"every file", func(t *testing.T, dir string) {
			for _, p := range plainBackups(t, dir, evModule) {
				require.NoError(t, os.Remove(p))
			}
			require.NoError(t, os.Remove(filepath.Join(dir, evModule+activeSuffix)))
		}, FileMissing},
		{"the head", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(headPath(dir, evModule)))
		}, HeadMissing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			keyModes(t, func(t *testing.T, keyFile string, key []byte) {
				dir := t.TempDir()
				writeSealed(t, dir, evModule, FormatBCM, keyFile, 40, nil)
				requireVerified(t, dir, key)
				c.delete(t, dir)
				requireProblem(t, dir, key, c.kind, "")
			})
		})
	}
}

func TestVerifyBlamesTheReplacedFile(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	keyA, origA := newKeyFile(t)
	keyB, _ := newKeyFile(t)
	writeSealed(t, a, evModule, FormatBCM, keyA, 40, nil)
	writeSealed(t, b, evModule, FormatBCM, keyB, 40, nil)
	ba, bb := plainBackups(t, a, evModule), plainBackups(t, b, evModule)
	data, err := os.ReadFile(bb[3])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(ba[3], data, 0o640))
	requireProblem(t, a, origA, Replaced, filepath.Base(ba[3]))
}

func TestVerifyDamagedCompressedBackup(t *testing.T) {
	dir := t.TempDir()
	keyFile, key := newKeyFile(t)
	writeSealed(t, dir, evModule, FormatBCM, keyFile, 40, nil)
	backup := plainBackups(t, dir, evModule)[2]
	gzipFile(t, backup, backup+gzExt)
	require.NoError(t, os.Remove(backup))
	requireVerified(t, dir, key)
	data, err := os.ReadFile(backup + gzExt)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(backup+gzExt, data[:len(data)-20], 0o640))
	requireProblem(t, dir, key, Truncated, filepath.Base(backup)+gzExt)
}

func TestVerifyRefusesAnEvolvedKey(t *testing.T) {
	dir := t.TempDir()
	keyFile, _ := newKeyFile(t)
	writeSealed(t, dir, evModule, FormatBCM, keyFile, 40, nil)
	live, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	_, err = Verify(dir, evModule, live)
	require.ErrorIs(t, err, ErrBadKey)
	require.ErrorContains(t, err, "original key")
	_, err = ReadKey(keyFile)
	require.ErrorIs(t, err, ErrBadKey)
	require.ErrorContains(t, err, "original key")
}

func TestVerifyFreshModule(t *testing.T) {
	dir := t.TempDir()
	keyFile, key := newKeyFile(t)
	l, err := New(sealedConfig(dir, FormatBCM, keyFile, nil))
	require.NoError(t, err)
	require.NoError(t, l.Close())
	r := requireVerified(t, dir, key)
	require.True(t, r.Sealed)
	require.Zero(t, r.Records)
}

// TestVerifyBoundedMemory feeds Verify a line far longer than any record,
// in a plain and in a compressed backup (a small gzip of zeros), and
// checks that it reports the line and allocates little.
func TestVerifyBoundedMemory(t *testing.T) {
	for _, compressed := range []bool{false, true} {
		t.Run(fmt.Sprint("compressed=", compressed), func(t *testing.T) {
			dir := t.TempDir()
			keyFile, key := newKeyFile(t)
			writeSealed(t, dir, evModule, FormatBCM, keyFile, 40, nil)
			backup := plainBackups(t, dir, evModule)[1]
			huge := bytes.Repeat([]byte{'0'}, 48<<20)
			if compressed {
				var b bytes.Buffer
				zw := gzip.NewWriter(&b)
				zw.Write(huge)
				require.NoError(t, zw.Close())
				require.NoError(t, os.Remove(backup))
				backup += gzExt
				require.NoError(t, os.WriteFile(backup, b.Bytes(), 0o640))
			} else {
				require.NoError(t, os.WriteFile(backup, huge, 0o640))
			}
			huge = nil
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r, err := Verify(dir, evModule, key)
			runtime.ReadMemStats(&after)
			require.NoError(t, err)
			require.NotNil(t, r.Problem)
			require.Equal(t, filepath.Base(backup), filepath.Base(r.Problem.File))
			require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20), "bytes allocated by Verify")
		})
	}
}

func TestListFilesOrder(t *testing.T) {
	dir := t.TempDir()
	writeSealed(t, dir, evModule, FormatBCM, "", 30, nil)
	files, err := ListFiles(dir, evModule)
	require.NoError(t, err)
	require.True(t, files[len(files)-1].Active)
	require.True(t, slices.IsSortedFunc(files[:len(files)-1], func(a, b File) int { return a.Rotated.Compare(b.Rotated) }))
	mods, err := Modules(dir)
	require.NoError(t, err)
	require.Equal(t, []string{evModule}, mods)
}

// TestKeyFileNeverLags makes rewriting the key file fail at a rotation:
// the record that needed the new key fails, and the logger keeps using the
// key that is on disk, so that a key stolen from the file later cannot
// re-seal a file that a newer key in memory would have sealed. Once the key
// file can be written again, logging and verification go on.
func TestKeyFileNeverLags(t *testing.T) {
	dir := t.TempDir()
	keyFile, key := newKeyFile(t)
	l, err := New(sealedConfig(dir, FormatBCM, keyFile, fixedClock(day1, time.Second)))
	require.NoError(t, err)
	// A directory at the temporary file's name, with something in it, so
	// that the key file cannot be replaced.
	obstacle := keyFile + tmpExt
	require.NoError(t, os.Mkdir(obstacle, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(obstacle, "x"), nil, 0o600))
	var failed error
	for i := 0; failed == nil && i < 100; i++ {
		failed = l.Log(context.Background(), Event{Type: DataRead, Outcome: Succeeded, Actor: "alice", Subject: fmt.Sprint(i), Object: "history"})
	}
	require.Error(t, failed, "the record that starts a new file fails")
	onDisk, err := readKeyFile(keyFile)
	require.NoError(t, err)
	l.mu.Lock()
	inUse := l.key.index
	l.mu.Unlock()
	require.Equal(t, onDisk.index, inUse, "the key in use is the key on disk")

	require.NoError(t, os.RemoveAll(obstacle))
	logN(t, l, 20, "after")
	require.NoError(t, l.Close())
	onDisk, err = readKeyFile(keyFile)
	require.NoError(t, err)
	require.Equal(t, onDisk.index, l.key.index)
	requireVerified(t, dir, key)
}

// TestRetentionLeavesNoGapBesideACompression runs retention while the
// oldest backup is being compressed: the compressor owns that file, so
// retention must keep it and every newer file, rather than remove the
// files after it and leave a gap in the middle of the chain, which a kill
// before the next retention leaves for verification to find (the kill
// test found it).
func TestRetentionLeavesNoGapBesideACompression(t *testing.T) {
	dir := t.TempDir()
	keyFile, key := newKeyFile(t)
	writeSealed(t, dir, evModule, FormatBCM, keyFile, 40, nil)
	old := plainBackups(t, dir, evModule)
	require.Greater(t, len(old), 6)
	release := markCompressing(old[0])
	defer release()
	cfg := sealedConfig(dir, FormatBCM, keyFile, fixedClock(day1.Add(time.Hour), time.Minute))
	cfg.MaxBackups = 2
	l, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, l.Close())
	require.FileExists(t, old[0], "the compressor's file stays")
	requireVerified(t, dir, key)
}

// TestNewRefusesAKeyOfAnotherChain replaces the key file of a sealed module
// with a new key, with the active file in use and with it left empty by a
// crash inside a rotation. Continuing the chain with that key made every
// later file fail to verify with either key; New must refuse the key and
// leave the key file and the chain as they were.
func TestNewRefusesAKeyOfAnotherChain(t *testing.T) {
	for _, emptyActive := range []bool{false, true} {
		t.Run(fmt.Sprint("empty active file ", emptyActive), func(t *testing.T) {
			dir := t.TempDir()
			keyFile, key := newKeyFile(t)
			writeSealed(t, dir, evModule, FormatBCM, keyFile, 30, nil)
			if emptyActive {
				active := filepath.Join(dir, evModule+activeSuffix)
				require.NoError(t, os.Rename(active, filepath.Join(dir, backupName(evModule, day1.Add(48*time.Hour)))))
				require.NoError(t, os.WriteFile(active, nil, 0o640))
			}
			require.NoError(t, os.Remove(keyFile))
			require.NoError(t, NewKey(keyFile))
			newKey, err := os.ReadFile(keyFile)
			require.NoError(t, err)
			_, err = New(sealedConfig(dir, FormatBCM, keyFile, fixedClock(day1.Add(50*time.Hour), time.Second)))
			require.ErrorIs(t, err, ErrBadKey)
			require.ErrorContains(t, err, keyFile)
			after, err := os.ReadFile(keyFile)
			require.NoError(t, err)
			require.Equal(t, newKey, after, "the refused key file is left as it was")
			requireVerified(t, dir, key)

			// The original key, put back, is the chain's key.
			require.NoError(t, os.Remove(keyFile))
			require.NoError(t, os.WriteFile(keyFile, fmt.Appendf(nil, "0:%x\n", key), 0o600))
			l, err := New(sealedConfig(dir, FormatBCM, keyFile, fixedClock(day1.Add(51*time.Hour), time.Second)))
			require.NoError(t, err)
			logN(t, l, 3, "restored")
			require.NoError(t, l.Close())
			requireVerified(t, dir, key)
		})
	}
}

// TestNewRefusesAChangeOfChainAlgorithm restarts a module sealed with a key
// without its key file, and one sealed without a key with one. Either way
// the files written afterwards verified with neither reading of the key
// (TAMPERED for ever after a configuration change); New must refuse.
func TestNewRefusesAChangeOfChainAlgorithm(t *testing.T) {
	keyFile, key := newKeyFile(t)
	dir := t.TempDir()
	writeSealed(t, dir, evModule, FormatBCM, keyFile, 10, nil)
	_, err := New(sealedConfig(dir, FormatBCM, "", fixedClock(day1.Add(time.Hour), time.Second)))
	require.ErrorIs(t, err, ErrBadKey)
	require.ErrorContains(t, err, "hmac-sha256")
	requireVerified(t, dir, key)

	other, _ := newKeyFile(t)
	dir = t.TempDir()
	writeSealed(t, dir, evModule, FormatBCM, "", 10, nil)
	_, err = New(sealedConfig(dir, FormatBCM, other, fixedClock(day1.Add(time.Hour), time.Second)))
	require.ErrorIs(t, err, ErrBadKey)
	require.ErrorContains(t, err, "sha256")
	requireVerified(t, dir, nil)
}

// TestVerifyChecksTheCompressedTwin edits the compressed copy of a backup
// that a crash during compression left beside its plain file. Readers take
// the plain file, so the forged copy went unseen and the set verified as
// intact; the two must hold the same bytes, since a compression is
// complete before it gets its name.
func TestVerifyChecksTheCompressedTwin(t *testing.T) {
	dir := t.TempDir()
	keyFile, key := newKeyFile(t)
	writeSealed(t, dir, evModule, FormatBCM, keyFile, 30, nil)
	backup := plainBackups(t, dir, evModule)[1]
	data, err := os.ReadFile(backup)
	require.NoError(t, err)
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err = zw.Write(bytes.Replace(data, []byte("alice"), []byte("mallory"), 1))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(backup+gzExt, b.Bytes(), 0o640))
	requireProblem(t, dir, key, Modified, filepath.Base(backup)+gzExt)

	// A copy cut short is damaged, not the plain file.
	gzipFile(t, backup, backup+gzExt)
	requireVerified(t, dir, key)
	full, err := os.ReadFile(backup + gzExt)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(backup+gzExt, full[:len(full)-12], 0o640))
	requireProblem(t, dir, key, Truncated, filepath.Base(backup)+gzExt)
}

// TestVerifyNamesAFileResealedWithoutTheKey replaces a backup of a keyed
// chain with an edited copy sealed as a plain SHA-256 chain, which anyone
// can compute. It was reported as "wrong key", which sends the auditor
// looking for another key; it is a replaced file.
func TestVerifyNamesAFileResealedWithoutTheKey(t *testing.T) {
	dir := t.TempDir()
	keyFile, key := newKeyFile(t)
	writeSealed(t, dir, evModule, FormatBCM, keyFile, 30, nil)
	forged := plainBackups(t, dir, evModule)[2]
	resealPlain(t, forged, func(line string) string { return strings.Replace(line, "alice", "mallory", 1) })
	requireProblem(t, dir, key, Replaced, filepath.Base(forged))
}

// resealPlain rewrites the sealed file at path with edit applied to each
// record after the first, and every record sealed again as a plain SHA-256
// chain from its FileStart record's prev: what a forger without the key
// can do.
func resealPlain(t *testing.T, path string, edit func(string) string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	rec, err := ParseRecord([]byte(lines[0]))
	require.NoError(t, err)
	index, mac, _, err := fileStartInfo(&rec.Event)
	require.NoError(t, err)
	k := newChainKey(index, nil)
	var out []byte
	for i, ln := range lines {
		body, _, ok := splitSeal([]byte(ln))
		require.True(t, ok)
		b := string(body)
		if i == 0 {
			b = strings.Replace(b, chainHMAC, chainSHA256, 1)
		} else {
			b = edit(b)
		}
		mac = k.seal(&mac, []byte(b))
		out = append(sealBody(append(out, b...), 0, false, &mac), '\n')
	}
	require.NoError(t, os.WriteFile(path, out, 0o640))
}

// TestVerifyTornRecordIsTheStartOfARecord appends an incomplete last line
// to the active file. The beginning of a record of the module (what a kill
// during a write leaves), or zeros (what a power loss can leave), is a torn
// record and not tampering; anything else was not written by the logger,
// and was reported as "left by a crash during a write" all the same.
func TestVerifyTornRecordIsTheStartOfARecord(t *testing.T) {
	for _, format := range []string{FormatBCM, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			orig := t.TempDir()
			keyFile, key := newKeyFile(t)
			writeSealed(t, orig, evModule, format, keyFile, 12, nil)
			active := filepath.Join(orig, evModule+activeSuffix)
			lines := fileLines(t, active)
			last := lines[len(lines)-1]
			tests := []struct {
				name string
				tail string
				torn bool
			}{
				{"a record cut after its time", last[:20], true},
				{"a record cut after its module", last[:len(last)/2], true},
				{"a record cut before its MAC", last[:len(last)-70], true},
				{"zeros", "\x00\x00\x00\x00", true},
				{"a cut record and zeros", last[:30] + "\x00\x00", true},
				{"text", "rm -rf / and nothing to see", false},
				{"another module's record", strings.Replace(last, evModule, "CEMServer", 1)[:len(last)/2], false},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					dir := copyDir(t, orig)
					f, err := os.OpenFile(filepath.Join(dir, evModule+activeSuffix), os.O_WRONLY|os.O_APPEND, 0)
					require.NoError(t, err)
					_, err = f.WriteString(tt.tail)
					require.NoError(t, err)
					require.NoError(t, f.Close())
					if tt.torn {
						r := requireVerified(t, dir, key)
						require.NotEmpty(t, r.Torn)
						return
					}
					p := requireProblem(t, dir, key, Modified, evModule+activeSuffix)
					require.Equal(t, len(lines)+1, p.Line)
				})
			}
		})
	}
}

// fileLines returns the lines of the file at path, without newlines.
func fileLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// TestVerifyUnsealedFilesAmongSealed writes sealed files, then unsealed
// ones with integrity turned off, then sealed ones again: the legitimate
// set verifies. An unsealed file put among them afterwards (it can hold
// anything: nothing seals it) is inserted, and an unsealed file of the
// period removed is missing, where both used to pass as "written while
// integrity was off".
func TestVerifyUnsealedFilesAmongSealed(t *testing.T) {
	write := func(t *testing.T) (dir string, key []byte, unsealed []string) {
		dir = t.TempDir()
		keyFile, key := newKeyFile(t)
		for i, sealed := range []bool{true, false, true} {
			cfg := Config{Module: evModule, AuditLogPath: dir, MaxSize: MinFileSize, Integrity: sealed, EventMask: AllEvents,
				Now: fixedClock(day1.Add(time.Duration(i)*time.Hour), time.Second)}
			if sealed {
				cfg.IntegrityKeyFile = keyFile
			}
			l, err := New(cfg)
			require.NoError(t, err)
			logN(t, l, 20, fmt.Sprint("run", i))
			require.NoError(t, l.Close())
		}
		r := requireVerified(t, dir, key)
		require.GreaterOrEqual(t, len(r.Unsealed), 2, "the period without integrity spans files")
		return dir, key, r.Unsealed
	}

	t.Run("planted", func(t *testing.T) {
		dir, key, unsealed := write(t)
		data, err := os.ReadFile(unsealed[0])
		require.NoError(t, err)
		files, err := ListFiles(dir, evModule)
		require.NoError(t, err)
		i := slices.IndexFunc(files, func(f File) bool { return f.Path == unsealed[0] })
		require.GreaterOrEqual(t, i, 0)
		planted := filepath.Join(dir, backupName(evModule, files[i].Rotated.Add(time.Millisecond)))
		forged := strings.ReplaceAll(string(data), "actor=alice", "actor=mallory")
		require.NoError(t, os.WriteFile(planted, []byte(forged), 0o640))
		files, err = ListFiles(dir, evModule)
		require.NoError(t, err)
		require.True(t, slices.ContainsFunc(files, func(f File) bool { return f.Path == planted }), "the planted file is listed")
		requireProblem(t, dir, key, Inserted, "")
	})
	t.Run("removed", func(t *testing.T) {
		dir, key, unsealed := write(t)
		require.NoError(t, os.Remove(unsealed[len(unsealed)-1]))
		requireProblem(t, dir, key, FileMissing, "")
	})
}
