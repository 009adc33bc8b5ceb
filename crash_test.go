//go:build linux

package audit

import (
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCrashKillSealed kills a logging child process with SIGKILL at random
// moments, with integrity protection, a small MaxSize, compression and
// retention all on, and after every kill verifies the files with the
// original key: a crash at any point (inside a rotation, a compression, a
// retention step, a head or key file update) must never look like
// tampering. It then restarts the child on the same directory. At the end,
// every acknowledged event that retention did not remove is in the files
// exactly once, in order.
func TestCrashKillSealed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 50 processes")
	}
	dir := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "live.key")
	require.NoError(t, NewKey(keyFile))
	original, err := ReadKey(keyFile)
	require.NoError(t, err)

	const kills = 50
	acked := map[string]int{} // "rRUN-gG" -> highest acknowledged I
	rng := rand.New(rand.NewPCG(2, uint64(time.Now().UnixNano())))
	torn := 0
	for run := range kills {
		killChild(t, run, rng, acked, envChildDir+"="+dir, envChildSync+"=write", envChildKey+"="+keyFile)

		r, err := Verify(dir, crashModule, original)
		require.NoError(t, err, "after kill %d", run)
		require.Nil(t, r.Problem, "after kill %d: %v", run, r.Problem)
		if r.Torn != "" {
			torn++
		}
	}

	l, err := New(Config{Module: crashModule, AuditLogPath: dir, Integrity: true, IntegrityKeyFile: keyFile, MaxSize: 8 << 10})
	require.NoError(t, err)
	require.NoError(t, l.Close())
	r, err := Verify(dir, crashModule, original)
	require.NoError(t, err)
	require.Nil(t, r.Problem, "%v", r.Problem)
	require.NotEmpty(t, r.Pruned, "retention ran")

	files, err := ListFiles(dir, crashModule)
	require.NoError(t, err)
	logged := map[string][]int{}
	for _, f := range files {
		lr, err := OpenFile(f)
		require.NoError(t, err)
		for {
			ln, err := lr.Next()
			if err != nil {
				break
			}
			rec, err := ParseRecord(ln.Text)
			require.NoError(t, err, "%s:%d", f.Path, ln.Number)
			require.Equal(t, uint64(ln.Number), rec.Seq, "%s", f.Path)
			if rec.Event.Type != DataRead {
				continue
			}
			i, err := strconv.Atoi(rec.Event.Subject)
			require.NoError(t, err)
			logged[rec.Event.Actor] = append(logged[rec.Event.Actor], i)
		}
		lr.Close()
	}
	for key, last := range acked {
		got := logged[key]
		if len(got) == 0 {
			continue // all in files that retention removed
		}
		for j := 1; j < len(got); j++ {
			require.Equal(t, got[j-1]+1, got[j], "%s: each event once, in order", key)
		}
		require.GreaterOrEqual(t, got[len(got)-1], last, "%s: every acknowledged event is in the files", key)
	}
	t.Logf("%d kills, %d files left, the last file is %s, the live retention records name %d files, %d verdicts saw a torn record", kills, len(files), filepath.Base(r.LastFile), len(r.Pruned), torn)
}

// TestCrashKillSealedReconfigured is TestCrashKillSealed with the
// configuration changed at every restart, as operators do: the format
// (BCM or JSON), compression on or off, MaxBackups from 2 to 6 (so that
// retention removes files at restarts) and MaxSize. A kill at any moment
// followed by a start with another configuration must never look like
// tampering.
func TestCrashKillSealedReconfigured(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 50 processes")
	}
	dir := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "live.key")
	require.NoError(t, NewKey(keyFile))
	original, err := ReadKey(keyFile)
	require.NoError(t, err)
	acked := map[string]int{}
	rng := rand.New(rand.NewPCG(3, uint64(time.Now().UnixNano())))
	for run := range 50 {
		killChild(t, run, rng, acked, envChildDir+"="+dir, envChildSync+"=write", envChildKey+"="+keyFile, envChildVary+"=1")
		r, err := Verify(dir, crashModule, original)
		require.NoError(t, err, "after kill %d", run)
		require.Nil(t, r.Problem, "after kill %d: %v", run, r.Problem)
	}
}
