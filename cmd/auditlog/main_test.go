package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditkit/audit"
	"github.com/stretchr/testify/require"
)

// binary is the auditlog command built by TestMain.
var binary string

func TestMain(m *testing.M) {
	if os.Getenv(writerEnv) != "" {
		os.Exit(writerMain())
	}
	dir, err := os.MkdirTemp("", "auditlog-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "auditlog")
	cmd := exec.Command("go", "build", "-o", binary, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building auditlog:", err)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is the outcome of one run of the command.
type result struct {
	stdout, stderr string
	code           int
}

// auditlog runs the command with args and returns what it printed and its
// exit status.
func auditlog(t *testing.T, args ...string) result {
	t.Helper()
	return auditlogIn(t, "", args...)
}

// auditlogIn is auditlog with stdin.
func auditlogIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return result{stdout.String(), stderr.String(), code}
}

// base is the time of the test records.
var base = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// at returns base plus min minutes.
func at(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }

// fakeClock returns a clock that starts at start and advances a
// millisecond at each call, so that backup names are distinct and ordered.
func fakeClock(start time.Time) func() time.Time {
	var mu sync.Mutex
	t := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

// config returns the Config of a test logger of module writing dir in
// format, with every event category enabled.
func config(dir, module, format string) audit.Config {
	return audit.Config{Module: module, AuditLogPath: dir, Formatter: format,
		EventMask: audit.AllEvents, Now: fakeClock(base)}
}

// logAll writes events with a logger of cfg and closes it.
func logAll(t *testing.T, cfg audit.Config, events ...audit.Event) {
	t.Helper()
	l, err := audit.New(cfg)
	require.NoError(t, err)
	for _, e := range events {
		require.NoError(t, l.Log(context.Background(), e))
	}
	require.NoError(t, l.Close())
}

// parseLines parses every line of out with audit.ParseRecord.
func parseLines(t *testing.T, out string) []audit.Record {
	t.Helper()
	var recs []audit.Record
	for line := range strings.Lines(out) {
		r, err := audit.ParseRecord([]byte(line))
		require.NoError(t, err, "line %q", line)
		recs = append(recs, r)
	}
	return recs
}

// callerRecords drops the records that the library writes about its own
// files, which the tests do not count on.
func callerRecords(recs []audit.Record) []audit.Record {
	return slices.DeleteFunc(slices.Clone(recs), func(r audit.Record) bool {
		return !slices.Contains(audit.EventTypes(), r.Event.Type)
	})
}

// actors returns the actors of recs.
func actors(recs []audit.Record) []string {
	var s []string
	for _, r := range recs {
		s = append(s, r.Event.Actor)
	}
	return s
}

// waitCompressed waits until the backups of module in dir are all
// compressed and at least one is.
func waitCompressed(t *testing.T, dir, module string) {
	t.Helper()
	require.Eventually(t, func() bool {
		plain, _ := filepath.Glob(filepath.Join(dir, module+".audit-*.log"))
		gz, _ := filepath.Glob(filepath.Join(dir, module+".audit-*.log.gz"))
		return len(plain) == 0 && len(gz) > 0
	}, 10*time.Second, 5*time.Millisecond)
}

// readAll returns the lines of every audit file of module in dir, backups
// first in name order (which is time order) then the active file, read
// directly without the command.
func readAll(t *testing.T, dir, module string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, module+".audit-*.log*"))
	require.NoError(t, err)
	slices.Sort(names)
	names = append(names, filepath.Join(dir, module+".audit.log"))
	var lines []string
	for _, name := range names {
		data, err := os.ReadFile(name)
		require.NoError(t, err)
		if strings.HasSuffix(name, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			require.NoError(t, err)
			data, err = io.ReadAll(zr)
			require.NoError(t, err)
		}
		for line := range strings.Lines(string(data)) {
			lines = append(lines, strings.TrimSuffix(line, "\n"))
		}
	}
	return lines
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		r := auditlog(t, args...)
		require.Equal(t, 0, r.code, r.stderr)
		for _, name := range []string{"query", "tail", "convert", "stats", "mask", "verify"} {
			require.Contains(t, r.stdout, "auditlog "+name+" ")
		}
	}
	r := auditlog(t, "help", "query")
	require.Equal(t, 0, r.code)
	require.Contains(t, r.stdout, "-since time")
	r = auditlog(t, "tail", "-h")
	require.Equal(t, 0, r.code)
	require.Contains(t, r.stdout, "-poll interval")

	r = auditlog(t)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "Usage:")
	r = auditlog(t, "frobnicate")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, `auditlog: unknown command "frobnicate"`)
}
