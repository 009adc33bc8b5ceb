package audit

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestKeyNeverTwoFilesAhead gathers, while another goroutine owns the
// output, records that each start a new file. The key file may move one
// file past those on disk (a restart takes that up), never two: a process
// killed then could start no file again, every Log failing with "the key is
// for file N+2, after file N+1". The record that would start the second new
// file waits until the first is written.
func TestKeyNeverTwoFilesAhead(t *testing.T) {
	dir := t.TempDir()
	keyFile, key := newKeyFile(t)
	l, err := New(sealedConfig(dir, FormatBCM, keyFile, fixedClock(day1, time.Millisecond)))
	require.NoError(t, err)
	big := Event{Type: Logon, Outcome: Failed, Actor: "alice", Reason: strings.Repeat("r", 900)}
	require.NoError(t, l.Log(context.Background(), big)) // file 0: FileStart and one record

	// Own the output, as a goroutine writing a batch does.
	l.mu.Lock()
	require.NoError(t, l.acquire())
	l.mu.Unlock()

	var wg sync.WaitGroup
	logged := func(cond func() bool) {
		wg.Go(func() {
			if err := l.Log(context.Background(), big); err != nil {
				t.Error(err)
			}
		})
		require.Eventually(t, func() bool {
			l.mu.Lock()
			defer l.mu.Unlock()
			return cond()
		}, 10*time.Second, time.Millisecond)
	}
	records := func(n int) func() bool {
		return func() bool { return l.batches.pending != nil && l.batches.pending.records == n }
	}
	logged(records(1))   // starts file 1
	logged(func() bool { // would start file 2
		return records(2)() || l.batches.idleWaiters == 1
	})

	onDisk, err := readKeyFile(keyFile)
	require.NoError(t, err)
	l.mu.Lock()
	phys := l.file.phys.index
	l.release()
	l.mu.Unlock()
	require.LessOrEqual(t, onDisk.index, phys+1, "key file %d files ahead of the files on disk (file %d)", onDisk.index-phys, phys)

	wg.Wait()
	require.NoError(t, l.Close())
	r := requireVerified(t, dir, key)
	require.Equal(t, 6, r.Records, "the FileStart records of files 0 to 2 and three records")
	l, err = New(sealedConfig(dir, FormatBCM, keyFile, fixedClock(day1.Add(time.Hour), time.Millisecond)))
	require.NoError(t, err)
	require.NoError(t, l.Log(context.Background(), big))
	require.NoError(t, l.Close())
	requireVerified(t, dir, key)
}
