//go:build linux

package audit

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Environment of the child processes that TestCrashKill and
// TestLoggerLockAcrossProcesses start from the test binary.
const (
	envChildDir  = "AUDIT_TEST_CHILD_DIR"
	envChildRun  = "AUDIT_TEST_CHILD_RUN"
	envChildSync = "AUDIT_TEST_CHILD_SYNC"
	envChildKey  = "AUDIT_TEST_CHILD_KEY"
	envChildVary = "AUDIT_TEST_CHILD_VARY"
)

const crashModule = "CrashTest"

// startChild runs the test binary's TestChildLogger with the given
// environment and returns the command and its standard output.
func startChild(t *testing.T, env ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildLogger$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	return cmd, bufio.NewScanner(out)
}

// killChild runs child run with env, kills it with SIGKILL after 5 to 85 ms
// of logging, and records its acknowledgements in acked ("rRUN-gG" -> the
// highest acknowledged I), checking that each goroutine's come in order.
func killChild(t *testing.T, run int, rng *rand.Rand, acked map[string]int, env ...string) {
	t.Helper()
	cmd, out := startChild(t, append(env, envChildRun+"="+strconv.Itoa(run))...)
	require.True(t, out.Scan())
	require.Equal(t, "ready", out.Text(), "run %d", run)
	timer := time.AfterFunc(time.Duration(5+rng.IntN(80))*time.Millisecond, func() { cmd.Process.Signal(syscall.SIGKILL) })
	defer timer.Stop()
	for out.Scan() {
		f := strings.Fields(out.Text())
		require.Len(t, f, 4, "run %d: %q", run, out.Text())
		require.Equal(t, "ack", f[0], "run %d: %q", run, out.Text())
		i, err := strconv.Atoi(f[3])
		require.NoError(t, err)
		key := "r" + f[1] + "-g" + f[2]
		prev, ok := acked[key]
		if !ok {
			prev = -1
		}
		require.Equal(t, prev+1, i, "acks of %s in order", key)
		acked[key] = i
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "run %d was killed", run)
	require.Equal(t, "signal: killed", exit.Error(), "run %d", run)
}

// TestChildLogger is not a test of its own: it is the child process of
// TestCrashKill and TestLoggerLockAcrossProcesses. It logs numbered events
// from several goroutines as fast as it can and prints "ack RUN G I" on
// standard output for each event for which Log returned nil, until killed.
func TestChildLogger(t *testing.T) {
	dir := os.Getenv(envChildDir)
	if dir == "" {
		t.Skip("runs only as a child process")
	}
	var policy SyncPolicy
	if err := policy.UnmarshalText([]byte(os.Getenv(envChildSync))); err != nil {
		policy = SyncWriteThrough
	}
	cfg := Config{Module: crashModule, AuditLogPath: dir, MaxSize: 32 << 10, Sync: policy, EventMask: AllEvents}
	if key := os.Getenv(envChildKey); key != "" {
		// Integrity, compression and retention all on (TestCrashKillSealed).
		cfg.Integrity, cfg.IntegrityKeyFile, cfg.Compress, cfg.MaxBackups = true, key, true, 6
		cfg.MaxSize = 2 << 10
		if os.Getenv(envChildVary) != "" {
			// The configuration changes from run to run
			// (TestCrashKillSealedReconfigured).
			n, _ := strconv.Atoi(os.Getenv(envChildRun))
			cfg.Formatter = []string{FormatBCM, FormatJSON}[n%2]
			cfg.Compress = n%3 != 0
			cfg.MaxBackups = 2 + n%5
			cfg.MaxSize = []int64{2 << 10, 4 << 10, MinFileSize}[n%3]
		}
	}
	l, err := New(cfg)
	if err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(3)
	}
	run := os.Getenv(envChildRun)
	var mu sync.Mutex
	ack := func(line string) {
		mu.Lock()
		os.Stdout.WriteString(line) // unbuffered: the parent sees each ack at once
		mu.Unlock()
	}
	ack("ready\n")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				e := Event{Type: DataRead, Outcome: Succeeded, Actor: "r" + run + "-g" + strconv.Itoa(g), Subject: strconv.Itoa(i), Object: strings.Repeat("o", 100)}
				if err := l.Log(context.Background(), e); err != nil {
					ack(fmt.Sprintf("error %v\n", err))
					return
				}
				ack(fmt.Sprintf("ack %s %d %d\n", run, g, i))
			}
		})
	}
	wg.Wait()
	os.Exit(4)
}

// TestCrashKill kills a logging child process with SIGKILL at random
// moments, restarts it on the same directory each time, and checks that
// every acknowledged event is in the files exactly once and in order, and
// that every file parses with unbroken sequence numbers.
func TestCrashKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 50 processes")
	}
	dir := t.TempDir()
	const kills = 50
	acked := map[string]int{} // "rRUN-gG" -> highest acknowledged I
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	for run := range kills {
		killChild(t, run, rng, acked, envChildDir+"="+dir, envChildSync+"=write")
	}

	// A last open repairs a torn tail left by the final kill, if any.
	l, err := New(Config{Module: crashModule, AuditLogPath: dir})
	require.NoError(t, err)
	require.NoError(t, l.Close())

	recs, files := readModuleFiles(t, dir, crashModule)
	require.Greater(t, files, kills/2, "the runs rotated files")
	logged := map[string][]int{}
	torn := 0
	for _, r := range recs {
		if r.Event.Type == TornRecord {
			torn++
			continue
		}
		i, err := strconv.Atoi(r.Event.Subject)
		require.NoError(t, err)
		logged[r.Event.Actor] = append(logged[r.Event.Actor], i)
	}
	for key, last := range acked {
		got := logged[key]
		require.GreaterOrEqual(t, len(got), last+1, "%s: every acknowledged event is in the files", key)
		for i, v := range got {
			require.Equal(t, i, v, "%s: each event once, in order", key)
		}
	}
	t.Logf("%d kills, %d files, %d records, %d acknowledged streams, %d torn records quarantined", kills, files, len(recs), len(acked), torn)
}

// readModuleFiles parses every audit file of module in dir, backups in
// rotation order and then the active file, and checks that sequence numbers
// run unbroken from 1 in each file.
func readModuleFiles(t *testing.T, dir, module string) ([]Record, int) {
	t.Helper()
	backups, err := filepath.Glob(filepath.Join(dir, module+".audit-*.log"))
	require.NoError(t, err)
	slices.Sort(backups) // names hold the UTC rotation time
	var all []Record
	for _, path := range append(backups, filepath.Join(dir, module+".audit.log")) {
		recs := readRecords(t, path)
		for i, r := range recs {
			require.Equal(t, uint64(i+1), r.Seq, "%s record %d", filepath.Base(path), i)
		}
		all = append(all, recs...)
	}
	return all, len(backups) + 1
}

// TestLoggerLockAcrossProcesses checks that a second process cannot open the
// audit file that a running process writes.
func TestLoggerLockAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	cmd, out := startChild(t, envChildDir+"="+dir, envChildRun+"=0")
	require.True(t, out.Scan())
	require.Equal(t, "ready", out.Text())
	_, err := New(Config{Module: crashModule, AuditLogPath: dir})
	require.ErrorIs(t, err, ErrLocked)
	require.ErrorContains(t, err, filepath.Join(dir, crashModule+".audit.log"))
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	go func() {
		for out.Scan() {
		}
	}()
	_ = cmd.Wait()
	l, err := New(Config{Module: crashModule, AuditLogPath: dir})
	require.NoError(t, err, "the lock dies with its process")
	require.NoError(t, l.Close())
}

// syncTracker is an Output that records how much of what was written had
// been synced when.
type syncTracker struct {
	mu     sync.Mutex
	data   []byte
	synced int // bytes of data covered by the last Sync
	writes int
	syncs  int
}

func (s *syncTracker) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data = append(s.data, p...)
	s.writes++
	return len(p), nil
}

func (s *syncTracker) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.synced = len(s.data)
	s.syncs++
	return nil
}

// durable reports whether the record with the given subject is in the
// synced part of the output.
func (s *syncTracker) durable(subject string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Contains(s.data[:s.synced], []byte(" subject="+subject+" "))
}

// TestSyncEveryAcknowledgesAfterSync checks, through the Output seam, that
// under SyncEveryEvent every record is synced before Log returns, and that
// concurrent records share writes and syncs.
func TestSyncEveryAcknowledgesAfterSync(t *testing.T) {
	s := &syncTracker{}
	l := newTestLogger(t, Config{Output: s, Sync: SyncEveryEvent, EventMask: AllEvents})
	const goroutines, perG = 32, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				subject := fmt.Sprintf("g%d-%d", g, i)
				if err := l.Log(context.Background(), Event{Type: DataRead, Outcome: Succeeded, Actor: "a", Subject: subject, Object: "x"}); err != nil {
					t.Error(err)
					return
				}
				if !s.durable(subject) {
					t.Errorf("%s acknowledged before it was synced", subject)
					return
				}
			}
		})
	}
	wg.Wait()
	require.Len(t, parseLines(t, s.data), goroutines*perG)
	require.Less(t, s.syncs, goroutines*perG, "concurrent records share syncs")
	require.Equal(t, s.writes, s.syncs, "one sync per written batch")
	t.Logf("%d records in %d batches", goroutines*perG, s.writes)
}

// TestLoggerDiskFull fills a small tmpfs: Log returns ENOSPC, nothing
// written is damaged, no partial record stays, and logging resumes by itself
// once space is freed.
func TestLoggerDiskFull(t *testing.T) {
	dir := mountTmpfs(t, "256k")
	filler := filepath.Join(dir, "filler")
	require.NoError(t, os.WriteFile(filler, make([]byte, 128<<10), 0o600))
	var reported int
	var mu sync.Mutex
	l := newTestLogger(t, Config{AuditLogPath: dir, OnError: func(error) { mu.Lock(); reported++; mu.Unlock() }})
	ctx := context.Background()
	written := 0
	var err error
	for i := 0; i < 100000; i++ {
		err = l.Log(ctx, Event{Type: Logon, Outcome: Succeeded, Actor: fmt.Sprint("user", i), Reason: strings.Repeat("r", 200)})
		if err != nil {
			break
		}
		written++
	}
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.Greater(t, written, 10)
	require.ErrorIs(t, l.Log(ctx, Event{Type: Logon, Outcome: Succeeded, Actor: "again", Reason: strings.Repeat("r", 200)}), syscall.ENOSPC, "still full")
	recs := readRecords(t, l.Path()) // every record parses: no partial one
	require.Len(t, recs, written)

	require.NoError(t, os.Remove(filler))
	require.NoError(t, l.Log(ctx, Event{Type: Logon, Outcome: Succeeded, Actor: "after"}), "logging resumes once space is freed")
	require.NoError(t, l.Close())
	recs = readRecords(t, l.Path())
	require.Len(t, recs, written+1)
	require.Equal(t, "after", recs[written].Event.Actor)
	require.Equal(t, uint64(written+1), recs[written].Seq, "no gap for the failed records")
	st := l.Stats()
	require.Equal(t, uint64(2), st.Dropped)
	require.GreaterOrEqual(t, st.WriteErrors, uint64(2))
	mu.Lock()
	require.GreaterOrEqual(t, reported, 2)
	mu.Unlock()
}

// TestCloseDuringLog closes the logger while goroutines log: no panic, and
// every record acknowledged with nil is in the file.
func TestCloseDuringLog(t *testing.T) {
	dir := t.TempDir()
	l, err := New(Config{Module: "AgentServer", AuditLogPath: dir, EventMask: AllEvents})
	require.NoError(t, err)
	var acked sync.Map
	var count atomic.Int64
	started := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				subject := fmt.Sprintf("g%d-%d", g, i)
				err := l.Log(context.Background(), Event{Type: DataRead, Outcome: Succeeded, Actor: "a", Subject: subject})
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Error(err)
					}
					return
				}
				acked.Store(subject, true)
				if count.Add(1) == 100 {
					close(started)
				}
			}
		})
	}
	<-started // close while the writers are busy
	require.NoError(t, l.Close())
	wg.Wait()
	inFile := map[string]bool{}
	for _, r := range readRecords(t, filepath.Join(dir, "AgentServer.audit.log")) {
		inFile[r.Event.Subject] = true
	}
	n := 0
	acked.Range(func(k, _ any) bool {
		n++
		require.True(t, inFile[k.(string)], "%s acknowledged but not in the file", k)
		return true
	})
	require.Positive(t, n)
}
