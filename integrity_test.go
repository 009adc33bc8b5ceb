package audit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// writeSealed writes n records of module into dir with integrity on and a
// small rotation size, and returns the original key.
func writeSealed(t *testing.T, dir, module, format string, keyFile string, n int, extra func(*Config)) {
	t.Helper()
	cfg := Config{Module: module, AuditLogPath: dir, Formatter: format, MaxSize: MinFileSize, Integrity: true,
		IntegrityKeyFile: keyFile, EventMask: AllEvents, Now: fixedClock(day1, time.Minute)}
	if extra != nil {
		extra(&cfg)
	}
	l, err := New(cfg)
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, l.Log(context.Background(), Event{Type: DataRead, Outcome: Succeeded, Actor: "alice", Subject: fmt.Sprint("customer-", i), Object: "history",
			Reason: sealedPadding}))
	}
	require.NoError(t, l.Close())
}

// sealedPadding pads the records of writeSealed and logN, so that a file of
// MinFileSize holds a few of them and the files rotate often.
var sealedPadding = strings.Repeat("p", 200)

func newKeyFile(t *testing.T) (path string, original []byte) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "audit.key")
	require.NoError(t, NewKey(path))
	original, err := ReadKey(path)
	require.NoError(t, err)
	return path, original
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), data, 0o640))
	}
	return dst
}

// plainBackups returns the uncompressed backups of module in dir, oldest
// first.
func plainBackups(t *testing.T, dir, module string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, module+".audit-*.log"))
	require.NoError(t, err)
	slices.Sort(paths)
	return paths
}

func editLines(t *testing.T, path string, edit func([]string) []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(edit(lines), "")), 0o640))
}

func TestVerifyDetectsTampering(t *testing.T) {
	for _, format := range []string{FormatBCM, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			keyFile, key := newKeyFile(t)
			orig := t.TempDir()
			writeSealed(t, orig, "AgentServer", format, keyFile, 60, nil)
			backups := plainBackups(t, orig, "AgentServer")
			require.GreaterOrEqual(t, len(backups), 4, "the test needs several rotated files")
			evolved, err := os.ReadFile(keyFile)
			require.NoError(t, err)
			require.False(t, strings.HasPrefix(string(evolved), "0:"), "the key file holds an evolved key")

			other := t.TempDir()
			otherKey, _ := newKeyFile(t)
			writeSealed(t, other, "CEMServer", format, otherKey, 30, nil)

			tests := []struct {
				name   string
				tamper func(t *testing.T, dir string) (file string, line int)
				key    []byte
				want   ProblemKind
			}{
				{name: "untouched", want: 0},
				{name: "one byte changed", want: Modified, tamper: func(t *testing.T, dir string) (string, int) {
					p := plainBackups(t, dir, "AgentServer")[1]
					editLines(t, p, func(l []string) []string { l[2] = strings.Replace(l[2], "alice", "alicf", 1); return l })
					return p, 3
				}},
				{name: "line deleted", want: Removed, tamper: func(t *testing.T, dir string) (string, int) {
					p := plainBackups(t, dir, "AgentServer")[1]
					editLines(t, p, func(l []string) []string { return slices.Delete(l, 2, 3) })
					return p, 3
				}},
				{name: "lines swapped", want: Reordered, tamper: func(t *testing.T, dir string) (string, int) {
					p := plainBackups(t, dir, "AgentServer")[2]
					editLines(t, p, func(l []string) []string { l[2], l[3] = l[3], l[2]; return l })
					return p, 3
				}},
				{name: "line duplicated", want: Inserted, tamper: func(t *testing.T, dir string) (string, int) {
					p := plainBackups(t, dir, "AgentServer")[0]
					editLines(t, p, func(l []string) []string { return slices.Insert(l, 3, l[2]) })
					return p, 4
				}},
				{name: "truncated mid-record", want: Truncated, tamper: func(t *testing.T, dir string) (string, int) {
					p := filepath.Join(dir, "AgentServer.audit.log")
					data, err := os.ReadFile(p)
					require.NoError(t, err)
					require.NoError(t, os.WriteFile(p, data[:len(data)-20], 0o640))
					return p, bytes.Count(data, []byte("\n"))
				}},
				{name: "last records of a rotated file removed", want: Truncated, tamper: func(t *testing.T, dir string) (string, int) {
					p := plainBackups(t, dir, "AgentServer")[1]
					var n int
					editLines(t, p, func(l []string) []string { n = len(l) - 1; return l[:n] })
					return p, n
				}},
				{name: "middle file deleted", want: FileMissing, tamper: func(t *testing.T, dir string) (string, int) {
					bs := plainBackups(t, dir, "AgentServer")
					require.NoError(t, os.Remove(bs[1]))
					return bs[2], 0
				}},
				{name: "oldest file deleted", want: FileMissing, tamper: func(t *testing.T, dir string) (string, int) {
					bs := plainBackups(t, dir, "AgentServer")
					require.NoError(t, os.Remove(bs[0]))
					return bs[1], 0
				}},
				{name: "file from another module", want: Replaced, tamper: func(t *testing.T, dir string) (string, int) {
					bs := plainBackups(t, dir, "AgentServer")
					data, err := os.ReadFile(plainBackups(t, other, "CEMServer")[1])
					require.NoError(t, err)
					require.NoError(t, os.WriteFile(bs[1], data, 0o640))
					return bs[1], 1
				}},
				{name: "file from another day", want: Replaced, tamper: func(t *testing.T, dir string) (string, int) {
					bs := plainBackups(t, dir, "AgentServer")
					data, err := os.ReadFile(bs[0])
					require.NoError(t, err)
					require.NoError(t, os.WriteFile(bs[2], data, 0o640))
					return bs[2], 1
				}},
				{name: "wrong key", want: WrongKey, key: bytes.Repeat([]byte{7}, 32), tamper: func(t *testing.T, dir string) (string, int) {
					return plainBackups(t, dir, "AgentServer")[0], 1
				}},
				{name: "no key for a keyed chain", want: WrongKey, key: []byte{}, tamper: func(t *testing.T, dir string) (string, int) {
					return plainBackups(t, dir, "AgentServer")[0], 1
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					dir := copyDir(t, orig)
					var file string
					var line int
					if tt.tamper != nil {
						file, line = tt.tamper(t, dir)
					}
					k := key
					if tt.key != nil {
						k = tt.key
						if len(k) == 0 {
							k = nil
						}
					}
					rep, err := Verify(dir, "AgentServer", k)
					require.NoError(t, err)
					if tt.want == 0 {
						require.Nil(t, rep.Problem)
						require.True(t, rep.OK())
						require.Equal(t, len(backups)+1, rep.Files)
						require.Equal(t, 60+len(backups)+1, rep.Records, "every record and every file header")
						return
					}
					require.NotNil(t, rep.Problem, "tampering went unnoticed")
					require.Equal(t, tt.want, rep.Problem.Kind, "%v", rep.Problem)
					require.Equal(t, file, rep.Problem.File, "%v", rep.Problem)
					require.Equal(t, line, rep.Problem.Line, "%v", rep.Problem)
				})
			}
		})
	}
}

func TestVerifyCompressedAndPruned(t *testing.T) {
	keyFile, key := newKeyFile(t)
	dir := t.TempDir()
	writeSealed(t, dir, "AgentServer", FormatBCM, keyFile, 40, func(c *Config) { c.Compress = true })
	gz, err := filepath.Glob(filepath.Join(dir, "AgentServer.audit-*.log.gz"))
	require.NoError(t, err)
	require.NotEmpty(t, gz, "backups were compressed")
	rep, err := Verify(dir, "AgentServer", key)
	require.NoError(t, err)
	require.Nil(t, rep.Problem)
	files := rep.Files

	// Retention removes the older half; the live chain records the cut.
	backups, err := listBackups(osFS{}, dir, "AgentServer")
	require.NoError(t, err)
	cutoff := backups[len(backups)/2].time
	l, err := New(Config{Module: "AgentServer", AuditLogPath: dir, Integrity: true, IntegrityKeyFile: keyFile,
		Retention: time.Hour, Now: func() time.Time { return cutoff.Add(time.Hour) }})
	require.NoError(t, err)
	require.NoError(t, l.Close())
	require.Equal(t, uint64(len(backups)/2), l.Stats().Pruned)

	rep, err = Verify(dir, "AgentServer", key)
	require.NoError(t, err)
	require.Nil(t, rep.Problem, "%v", rep.Problem)
	require.Len(t, rep.Pruned, len(backups)/2)
	require.Equal(t, files-len(backups)/2, rep.Files)

	// Deleting one more old file by hand is not retention.
	remaining := plainOrGz(t, dir)
	require.NoError(t, os.Remove(remaining[0]))
	rep, err = Verify(dir, "AgentServer", key)
	require.NoError(t, err)
	require.NotNil(t, rep.Problem)
	require.Equal(t, FileMissing, rep.Problem.Kind)
}

func plainOrGz(t *testing.T, dir string) []string {
	t.Helper()
	backups, err := listBackups(osFS{}, dir, "AgentServer")
	require.NoError(t, err)
	var out []string
	for _, b := range backups {
		out = append(out, filepath.Join(dir, b.name))
	}
	return out
}

func TestIntegrityReopenAndUnkeyed(t *testing.T) {
	dir := t.TempDir()
	clock := fixedClock(day1, time.Minute)
	for range 3 {
		writeSealed(t, dir, "AgentServer", FormatJSON, "", 10, func(c *Config) { c.Now = clock })
	}
	rep, err := Verify(dir, "AgentServer", nil)
	require.NoError(t, err)
	require.Nil(t, rep.Problem, "%v", rep.Problem)
	require.Equal(t, 30+rep.Files, rep.Records)

	// A file changed by accident is found even without a key.
	p := plainBackups(t, dir, "AgentServer")[0]
	editLines(t, p, func(l []string) []string { l[1] = strings.Replace(l[1], "history", "hIstory", 1); return l })
	rep, err = Verify(dir, "AgentServer", nil)
	require.NoError(t, err)
	require.NotNil(t, rep.Problem)
	require.Equal(t, Modified, rep.Problem.Kind)
}

func TestIntegrityKeyEvolves(t *testing.T) {
	keyFile, key := newKeyFile(t)
	dir := t.TempDir()
	writeSealed(t, dir, "AgentServer", FormatBCM, keyFile, 30, nil)
	// The evolved key in the key file cannot re-seal or verify old files.
	_, err := ReadKey(keyFile)
	require.ErrorIs(t, err, ErrBadKey)
	k, err := readKeyFile(keyFile)
	require.NoError(t, err)
	require.Positive(t, k.index)
	require.NotEqual(t, key, k.key)
	rep, err := Verify(dir, "AgentServer", k.key)
	require.NoError(t, err)
	require.NotNil(t, rep.Problem)
	require.Equal(t, WrongKey, rep.Problem.Kind)
	// Evolving the original key as many times gives the key in the file.
	ck := newChainKey(0, slices.Clone(key))
	for ck.index < k.index {
		ck = ck.evolve()
	}
	require.Equal(t, k.key, ck.key)
}

func TestIntegrityConfigErrors(t *testing.T) {
	_, err := New(Config{Module: "A", AuditLogPath: t.TempDir(), Integrity: true, IntegrityKeyFile: filepath.Join(t.TempDir(), "missing")})
	require.ErrorIs(t, err, ErrBadKey)
	bad := filepath.Join(t.TempDir(), "bad.key")
	require.NoError(t, os.WriteFile(bad, []byte("not hex"), 0o600))
	_, err = New(Config{Module: "A", AuditLogPath: t.TempDir(), Integrity: true, IntegrityKeyFile: bad})
	require.ErrorIs(t, err, ErrBadKey)
	require.NoError(t, registerPipeFormatter())
	_, err = New(Config{Module: "A", AuditLogPath: t.TempDir(), Integrity: true, Formatter: "pipe-test"})
	require.ErrorIs(t, err, ErrBadConfig)
	require.Error(t, NewKey(bad), "NewKey does not overwrite")

	// A key file without integrity protection would leave the files
	// unsealed while the operator believes them sealed; from the
	// product's parameters too.
	key, _ := newKeyFile(t)
	_, err = New(Config{Module: "A", AuditLogPath: t.TempDir(), IntegrityKeyFile: key})
	require.ErrorIs(t, err, ErrBadConfig)
	require.ErrorContains(t, err, "AuditLogKeyFile")
	cfg, err := ConfigFromParams("A", map[string]string{"AuditLogPath": t.TempDir(), "AuditLogKeyFile": key})
	require.NoError(t, err)
	_, err = New(cfg)
	require.ErrorIs(t, err, ErrBadConfig)

	// A key file that another module's chain has moved on is refused.
	shared, _ := newKeyFile(t)
	dir := t.TempDir()
	writeSealed(t, dir, "AgentServer", FormatBCM, shared, 30, nil)
	_, err = New(Config{Module: "CEMServer", AuditLogPath: dir, Integrity: true, IntegrityKeyFile: shared})
	require.ErrorIs(t, err, ErrBadKey)
	require.ErrorContains(t, err, "key file of its own")
}

func TestIntegrityCheckpoints(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		l, err := New(Config{Module: "AgentServer", AuditLogPath: dir, Integrity: true,
			CheckpointInterval: time.Minute, Sync: SyncInterval, Retention: 24 * time.Hour})
		require.NoError(t, err)
		require.NoError(t, l.Log(context.Background(), Event{Type: ServerStart, Outcome: Succeeded}))
		time.Sleep(3*time.Minute + time.Second)
		synctest.Wait()
		require.NoError(t, l.Close())
		recs := readRecords(t, filepath.Join(dir, "AgentServer.audit.log"))
		var types []EventType
		for _, r := range recs {
			types = append(types, r.Event.Type)
		}
		require.Equal(t, []EventType{FileStart, ServerStart, Checkpoint, Checkpoint, Checkpoint}, types)
		rep, err := Verify(dir, "AgentServer", nil)
		require.NoError(t, err)
		require.Nil(t, rep.Problem)
		// The bubble fails the test if a goroutine the logger started is left.
	})
}

// TestIntegrityOversizeRecordAtRotation: a record too large for a new file
// is refused after the key has moved on; the chain must still verify.
func TestIntegrityOversizeRecordAtRotation(t *testing.T) {
	keyFile, key := newKeyFile(t)
	dir := t.TempDir()
	l, err := New(Config{Module: "AgentServer", AuditLogPath: dir, MaxSize: MinFileSize, Integrity: true,
		IntegrityKeyFile: keyFile, Now: fixedClock(day1, time.Second)})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, l.Log(ctx, Event{Type: ServerStart, Outcome: Succeeded}))
	err = l.Log(ctx, Event{Type: ServerStart, Outcome: Succeeded, Reason: strings.Repeat("x", MinFileSize-50)})
	require.ErrorIs(t, err, ErrRecordTooLarge)
	for i := range 5 {
		require.NoError(t, l.Log(ctx, Event{Type: Logon, Outcome: Succeeded, Actor: fmt.Sprint("u", i)}))
	}
	require.NoError(t, l.Close())
	rep, err := Verify(dir, "AgentServer", key)
	require.NoError(t, err)
	require.Nil(t, rep.Problem, "%v", rep.Problem)
}

// TestIntegrityKeyForms: a raw binary key file works, and Verify takes the
// key as bytes or as the text of the original key file.
func TestIntegrityKeyForms(t *testing.T) {
	raw := bytes.Repeat([]byte{0x00, 0xff, ':', '\n'}, 8) // 32 bytes that are not hex text
	rawFile := filepath.Join(t.TempDir(), "raw.key")
	require.NoError(t, os.WriteFile(rawFile, raw, 0o600))
	dir := t.TempDir()
	writeSealed(t, dir, "AgentServer", FormatBCM, rawFile, 30, nil)
	rep, err := Verify(dir, "AgentServer", raw)
	require.NoError(t, err)
	require.Nil(t, rep.Problem, "%v", rep.Problem)

	hexFile, key := newKeyFile(t)
	text, err := os.ReadFile(hexFile) // the original file's contents, newline and all
	require.NoError(t, err)
	dir2 := t.TempDir()
	writeSealed(t, dir2, "AgentServer", FormatJSON, hexFile, 30, nil)
	for _, k := range [][]byte{key, text} {
		rep, err := Verify(dir2, "AgentServer", k)
		require.NoError(t, err)
		require.Nil(t, rep.Problem, "key %q: %v", k, rep.Problem)
	}
	rep, err = Verify(dir2, "AgentServer", raw)
	require.NoError(t, err)
	require.Equal(t, WrongKey, rep.Problem.Kind)
}
