package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/auditkit/audit"
	"github.com/stretchr/testify/require"
)

func TestTailN(t *testing.T) {
	dir := sampleDir(t)
	r := auditlog(t, "tail", dir, "--module", "AgentServer", "-n", "3")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, []string{"alice", "alice", "a8"}, actors(parseLines(t, r.stdout)))

	r = auditlog(t, "tail", "-n", "2", "--output", "json", "--module", "WebServer", dir)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, []string{"admin", "bob"}, actors(parseLines(t, r.stdout)))
	require.True(t, strings.HasPrefix(r.stdout, `{"time":"2026-11-25T09:07:00.000000Z"`), r.stdout)

	// The default is 10; -n larger than the file prints all of it.
	r = auditlog(t, "tail", dir, "--module", "AgentServer")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, readFile(t, filepath.Join(dir, "AgentServer.audit.log")), r.stdout)
	r = auditlog(t, "tail", dir, "--module", "AgentServer", "-n", "0")
	require.Equal(t, 0, r.code, r.stderr)
	require.Empty(t, r.stdout)

	// Several modules need --module.
	r = auditlog(t, "tail", dir)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "holds the files of several modules (AgentServer, WebServer): choose one with --module")

	// A line that is not a record is reported and not counted.
	path := filepath.Join(dir, "WebServer.audit.log")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("not a record\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	r = auditlog(t, "tail", dir, "--module", "WebServer", "-n", "2")
	require.Equal(t, 1, r.code)
	require.Equal(t, []string{"admin", "bob"}, actors(parseLines(t, r.stdout)))
	n := strings.Count(readFile(t, path), "\n")
	require.True(t, strings.HasPrefix(r.stderr, fmt.Sprintf("auditlog: %s:%d: audit: malformed record", path, n)), r.stderr)

	// One module needs none.
	one := t.TempDir()
	logAll(t, config(one, "Solo", "BCM"), audit.Event{Time: at(1), Type: audit.Logon, Outcome: audit.Succeeded, Actor: "x"})
	r = auditlog(t, "tail", one, "-n", "1")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, []string{"x"}, actors(parseLines(t, r.stdout)))
}

func TestTailFollowFor(t *testing.T) {
	dir := sampleDir(t)
	start := time.Now()
	r := auditlog(t, "tail", "-f", dir, "--module", "WebServer", "-n", "1", "--poll", "10ms", "--for", "150ms")
	require.Equal(t, 0, r.code, r.stderr)
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	require.Equal(t, []string{"bob"}, actors(parseLines(t, r.stdout)))
}

// TestTailFollowRotation follows a module while a logger writes it with a
// tiny MaxSize, so that the file is rotated (and backups compressed) many
// times, sometimes several times between two polls. Every record must be
// printed once, in order.
func TestTailFollowRotation(t *testing.T) {
	dir := t.TempDir()
	cfg := audit.Config{Module: "AgentServer", AuditLogPath: dir, MaxSize: audit.MinFileSize, Compress: true, EventMask: audit.AllEvents}
	l, err := audit.New(cfg)
	require.NoError(t, err)
	defer l.Close()
	event := func(i int) audit.Event {
		return audit.Event{Type: audit.Logon, Outcome: audit.Succeeded, Actor: fmt.Sprintf("user-%03d", i), Client: "10.0.0.1", Reason: padding + strings.Repeat("x", i%7)}
	}
	require.NoError(t, l.Log(t.Context(), event(0)))

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "tail", "-f", dir, "--module", "AgentServer", "-n", "1000", "--poll", "10ms", "--for", "25s")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var got []string
	waitFor := func(actor string) {
		t.Helper()
		for {
			select {
			case line, ok := <-lines:
				require.True(t, ok, "tail ended early: %s", stderr.String())
				got = append(got, line)
				if strings.Contains(line, " actor="+actor+" ") {
					return
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no record of %s after 10s; got %q; stderr %s", actor, got, stderr.String())
			}
		}
	}
	waitFor("user-000")

	const n = 90
	for i := 1; i < n; i++ {
		require.NoError(t, l.Log(t.Context(), event(i)))
		if i%10 == 0 {
			// Let some rotations be seen one at a time, while others
			// pile up between two polls.
			time.Sleep(15 * time.Millisecond)
		}
	}
	waitFor(fmt.Sprintf("user-%03d", n-1))
	// Give tail a few more polls to print a duplicate, then stop it.
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	for line := range lines {
		got = append(got, line)
	}
	require.NoError(t, cmd.Wait(), stderr.String())
	require.Empty(t, stderr.String())
	require.NoError(t, l.Close())

	backups, _ := filepath.Glob(filepath.Join(dir, "AgentServer.audit-*"))
	require.Greater(t, len(backups), 10, "the file rotated")
	// Every record of every file, exactly once and in order.
	require.Equal(t, readAll(t, dir, "AgentServer"), got)
	recs := callerRecords(parseLines(t, strings.Join(got, "\n")+"\n"))
	require.Len(t, recs, n)
	for i, r := range recs {
		require.Equal(t, fmt.Sprintf("user-%03d", i), r.Event.Actor)
	}
}

// TestTailFollowWaitsForFile starts tail -f before the module's file
// exists.
func TestTailFollowWaitsForFile(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "tail", "-f", dir, "--module", "Late", "--poll", "10ms", "--for", "20s")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	// The file is written once tail waits for it.
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "waiting for") }, 10*time.Second, time.Millisecond)
	logAll(t, audit.Config{Module: "Late", AuditLogPath: dir}, audit.Event{Type: audit.Logon, Outcome: audit.Succeeded, Actor: "late"})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "actor=late") {
			break
		}
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait())
	require.Contains(t, stderr.String(), "auditlog: tail: waiting for "+filepath.Join(dir, "Late.audit.log"))
	_, err = os.Stat(filepath.Join(dir, "Late.audit.log"))
	require.NoError(t, err)
}

// syncBuffer is a bytes.Buffer that a command writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail -f started before the module's directory exists prints every
// record of a writer process that then creates it and rotates fast, each
// once and in order, whatever -n says.
func TestTailFollowFromBeforeTheDirectory(t *testing.T) {
	const n = 30000
	dir := filepath.Join(t.TempDir(), "audit", "logs")
	for _, lines := range []string{"0", "10"} {
		t.Run("n="+lines, func(t *testing.T) {
			dir := filepath.Join(dir, lines)
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, "tail", "-f", dir, "--module", "Fast", "-n", lines, "--poll", "5ms")
			var stderr syncBuffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "waiting for") }, 10*time.Second, time.Millisecond)

			var mu sync.Mutex
			var got []string
			var bad []string
			done := make(chan struct{})
			go func() {
				defer close(done)
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					rec, err := audit.ParseRecord(sc.Bytes())
					mu.Lock()
					if err != nil {
						bad = append(bad, sc.Text())
					} else if rec.Event.Type == audit.Logon {
						got = append(got, rec.Event.Actor)
					}
					mu.Unlock()
				}
			}()
			count := func() int {
				mu.Lock()
				defer mu.Unlock()
				return len(got)
			}

			w := writerCommand(t, dir, "Fast", n, 16<<10)
			require.NoError(t, w.Run())
			// Every record reaches tail; the bound only ends a failing run.
			require.Eventually(t, func() bool { return count() >= n }, 30*time.Second, 5*time.Millisecond,
				"tail printed %d of %d records; stderr: %s", count(), n, stderr.String())
			require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			require.NoError(t, cmd.Wait(), stderr.String())
			<-done
			require.Empty(t, bad)
			require.Len(t, got, n, stderr.String())
			for i, a := range got {
				require.Equal(t, "user-"+strconv.Itoa(i), a)
			}
			backups, _ := filepath.Glob(filepath.Join(dir, "Fast.audit-*.log"))
			require.Greater(t, len(backups), 20, "the writer rotated fast")
		})
	}
}

// tail -f prints a table whose columns stay under the header, whatever
// the widths of the records of later batches.
func TestTailFollowTableAligned(t *testing.T) {
	dir := t.TempDir()
	cfg := config(dir, "M", "BCM")
	logAll(t, cfg, audit.Event{Outcome: audit.Succeeded, Time: at(0), Type: audit.Logon, Actor: "a", Client: "c"},
		audit.Event{Outcome: audit.Succeeded, Time: at(1), Type: audit.Logoff, Actor: "b"})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "tail", "-f", dir, "-o", "table", "--poll", "5ms")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(stdout)
	var rows []string
	read := func(n int) {
		for range n {
			require.True(t, sc.Scan())
			rows = append(rows, sc.Text())
		}
	}
	read(3) // the header and two rows
	logAll(t, cfg, audit.Event{Outcome: audit.Succeeded, Time: at(2), Type: audit.UserChange, Actor: "administrator-of-everything", Subject: "山田太郎",
		Object: "phone", OldValue: "+49 30 1234567", NewValue: "+49 30 7654321", Client: "[2001:db8::1]:5060"},
		audit.Event{Time: at(3), Type: audit.Logon, Outcome: audit.Failed, Actor: "🎉🎉🎉", Reason: "bad password"})
	read(2)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait())

	for _, name := range []string{"MODULE", "TYPE", "OUTCOME", "ACTOR", "SUBJECT", "OBJECT", "OLD", "NEW", "CLIENT", "SESSION", "REASON"} {
		i := strings.Index(rows[0], name)
		require.GreaterOrEqual(t, i, 0)
		col := displayWidth([]byte(rows[0][:i]))
		for _, row := range rows[1:] {
			prefix := cutColumns(row, col)
			require.Equal(t, col, displayWidth([]byte(prefix)), "%q", row)
			require.True(t, strings.HasSuffix(prefix, columnGap), "%s in %q", name, row)
			require.NotEqual(t, ' ', []rune(row[len(prefix):])[0], "%s in %q", name, row)
		}
	}
}

// tail -f stops with an error when a file it has yet to read to its end
// is removed: the records that follow it cannot be told.
func TestTailFollowFileRemoved(t *testing.T) {
	dir := t.TempDir()
	l, err := audit.New(audit.Config{Module: "M", AuditLogPath: dir, MaxSize: audit.MinFileSize, EventMask: audit.AllEvents})
	require.NoError(t, err)
	for i := range 200 {
		require.NoError(t, l.Log(t.Context(), audit.Event{Type: audit.Logon, Outcome: audit.Succeeded, Actor: fmt.Sprintf("user-%03d", i), Reason: padding}))
	}
	require.NoError(t, l.Close())
	// Backups only: tail waits for the active file after the last backup.
	require.NoError(t, os.Remove(filepath.Join(dir, "M.audit.log")))
	backups, err := filepath.Glob(filepath.Join(dir, "M.audit-*.log"))
	require.NoError(t, err)
	require.Greater(t, len(backups), 2)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "tail", "-f", dir, "--module", "M", "--poll", "5ms")
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "waiting for") }, 10*time.Second, time.Millisecond)
	require.NoError(t, os.Remove(backups[len(backups)-1]))
	err = cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, stderr.String())
	require.Equal(t, 2, exit.ExitCode())
	require.Empty(t, stdout.String())
	require.Contains(t, stderr.String(), "auditlog: tail: audit: cursor lost: file ")
}
