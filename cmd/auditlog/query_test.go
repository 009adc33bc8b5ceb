package main

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditkit/audit"
	"github.com/stretchr/testify/require"
)

// sampleDir writes two modules, AgentServer in BCM and WebServer in JSON,
// whose records alternate in time, and returns the directory.
func sampleDir(t *testing.T) string {
	dir := t.TempDir()
	logAll(t, config(dir, "AgentServer", "BCM"),
		audit.Event{Time: at(0), Type: audit.ServerStart, Outcome: audit.Succeeded, Actor: "a0"},
		audit.Event{Time: at(2), Type: audit.Logon, Outcome: audit.Failed, Actor: "mallory", Client: "203.0.113.9", Reason: "bad password"},
		audit.Event{Time: at(3), Type: audit.Logon, Outcome: audit.Failed, Actor: "mallory", Client: "203.0.113.9", Reason: "bad password"},
		audit.Event{Time: at(5), Type: audit.Logon, Outcome: audit.Succeeded, Actor: "alice", Client: "10.1.2.3"},
		audit.Event{Time: at(6), Type: audit.DataRead, Outcome: audit.Succeeded, Actor: "alice", Subject: "carol", Object: "recording-42"},
		audit.Event{Time: at(8), Type: audit.ChannelReject, Client: "203.0.113.9", Actor: "a8", Reason: "tls\thandshake\x1b[31m"},
	)
	logAll(t, config(dir, "WebServer", "JSON"),
		audit.Event{Time: at(1), Type: audit.ServerStart, Outcome: audit.Succeeded, Actor: "w1"},
		audit.Event{Time: at(4), Type: audit.Logon, Outcome: audit.Failed, Actor: "bob", Client: "198.51.100.7", Reason: "locked"},
		audit.Event{Time: at(7), Type: audit.AccessChange, Outcome: audit.Succeeded, Actor: "admin", Subject: "bob", Object: "role", OldValue: "agent", NewValue: "supervisor"},
		audit.Event{Time: at(10), Type: audit.Logoff, Outcome: audit.Succeeded, Actor: "bob"},
	)
	// Files that are not audit files are ignored.
	for _, name := range []string{"AgentServer.trace.log", "notes.txt", "WebServer.audit.log.torn-2026-11-25T09-00-00.000", "X.audit-2026-11-25T09-00-00.000.log.gz.tmp"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("not a record\n"), 0o600))
	}
	return dir
}

func TestQueryMergesModulesAndFormats(t *testing.T) {
	dir := sampleDir(t)
	r := auditlog(t, "query", dir)
	require.Equal(t, 0, r.code, r.stderr)
	require.Empty(t, r.stderr)
	recs := callerRecords(parseLines(t, r.stdout))
	require.Equal(t, []string{"a0", "w1", "mallory", "mallory", "bob", "alice", "alice", "admin", "a8", "bob"}, actors(recs))
	for i, rec := range recs {
		want := "AgentServer"
		if i == 1 || i == 4 || i == 7 || i == 9 {
			want = "WebServer"
		}
		require.Equal(t, want, rec.Module)
	}
	// The default output off a terminal is BCM.
	require.True(t, strings.HasPrefix(r.stdout, "2026-11-25T09:00:00.000000Z AgentServer "), r.stdout)
}

func TestQueryFilters(t *testing.T) {
	dir := sampleDir(t)
	for _, tc := range []struct {
		args []string
		want []string // actors
	}{
		{[]string{"--type", "LOGON"}, []string{"mallory", "mallory", "bob", "alice"}},
		{[]string{"--type", "logon,Data_Read"}, []string{"mallory", "mallory", "bob", "alice", "alice"}},
		{[]string{"--outcome", "failure"}, []string{"mallory", "mallory", "bob", "a8"}},
		{[]string{"--outcome", "SUCCESS", "--type", "logon"}, []string{"alice"}},
		{[]string{"--actor", "bob"}, []string{"bob", "bob"}},
		{[]string{"--actor", "Bob"}, nil},
		{[]string{"--subject", "bob"}, []string{"admin"}},
		{[]string{"--client", "203.0.113.9"}, []string{"mallory", "mallory", "a8"}},
		{[]string{"--client", "203.0.113"}, nil},
		{[]string{"--module", "WebServer"}, []string{"w1", "bob", "admin", "bob"}},
		{[]string{"--since", "2026-11-25T09:05:00Z"}, []string{"alice", "alice", "admin", "a8", "bob"}},
		{[]string{"--until", "2026-11-25T09:02:00Z"}, []string{"a0", "w1"}},
		{[]string{"--since", "2026-11-25T10:03:00+01:00", "--until", "2026-11-25T09:05:00Z"}, []string{"mallory", "bob"}},
		{[]string{"--since", "2026-11-26"}, nil},
		{[]string{"--module", "AgentServer", "--outcome", "failure", "--type", "LOGON"}, []string{"mallory", "mallory"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			// Flags go after DIR here, and before it in the next run.
			r := auditlog(t, append([]string{"query", dir, "--output", "bcm"}, tc.args...)...)
			require.Equal(t, 0, r.code, r.stderr)
			require.Equal(t, tc.want, actors(callerRecords(parseLines(t, r.stdout))))
			r2 := auditlog(t, append(append([]string{"query"}, tc.args...), "-o=bcm", dir)...)
			require.Equal(t, r, r2)
		})
	}
}

func TestQueryJSONOutput(t *testing.T) {
	dir := sampleDir(t)
	r := auditlog(t, "query", "--output", "json", dir, "--type", "ACCESS_CHANGE,CHANNEL_REJECT")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Len(t, lines, 2)
	for _, line := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		require.Contains(t, m, "seq")
	}
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &m))
	require.Equal(t, "WebServer", m["module"])
	require.Equal(t, "ACCESS_CHANGE", m["type"])
	require.Equal(t, "supervisor", m["new"])
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &m))
	require.Equal(t, "CHANNEL_REJECT", m["type"])
	require.Equal(t, "FAILURE", m["outcome"])
	require.Equal(t, "tls\thandshake\x1b[31m", m["reason"])
	// And they read back as the records written.
	recs := parseLines(t, r.stdout)
	require.Equal(t, at(7), recs[0].Event.Time)
	require.Equal(t, "agent", recs[0].Event.OldValue)
}

func TestQueryTableOutput(t *testing.T) {
	dir := sampleDir(t)
	r := auditlog(t, "query", dir, "--output", "table", "--module", "AgentServer", "--type", "logon,channel_reject")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Len(t, lines, 5)
	require.Equal(t, []string{"TIME", "MODULE", "TYPE", "OUTCOME", "ACTOR", "SUBJECT", "OBJECT", "OLD", "NEW", "CLIENT", "SESSION", "REASON"}, strings.Fields(lines[0]))
	require.Equal(t, []string{"2026-11-25T09:02:00.000000Z", "AgentServer", "LOGON", "FAILURE", "mallory", "-", "-", "-", "-", "203.0.113.9", "-", "bad", "password"}, strings.Fields(lines[1]))
	require.Equal(t, []string{"2026-11-25T09:05:00.000000Z", "AgentServer", "LOGON", "SUCCESS", "alice", "-", "-", "-", "-", "10.1.2.3", "-", "-"}, strings.Fields(lines[3]))
	// The control characters of the reason are escaped: the row stays one
	// line, and the columns stay aligned.
	require.True(t, strings.HasSuffix(lines[4], `203.0.113.9            -             tls\thandshake\u001b[31m`), lines[4])
	col := strings.Index(lines[0], "CLIENT")
	for _, line := range lines[1:] {
		require.Equal(t, "  ", line[col-2:col], line)
		require.NotEqual(t, " ", line[col:col+1], line)
	}
	require.NotContains(t, r.stdout, "\t")
	require.NotContains(t, r.stdout, "\x1b")

	// No match: nothing on stdout, a note on stderr.
	r = auditlog(t, "query", dir, "-o", "table", "--actor", "nobody")
	require.Equal(t, 0, r.code)
	require.Empty(t, r.stdout)
	require.Contains(t, r.stderr, "no matching records")
}

func TestQueryRotatedAndCompressedInOrder(t *testing.T) {
	dir := t.TempDir()
	var want []string
	event := func(i int) audit.Event {
		actor := "user-" + string(rune('a'+i/10)) + string(rune('0'+i%10))
		want = append(want, actor)
		return audit.Event{Time: at(i), Type: audit.Logon, Outcome: audit.Succeeded, Actor: actor, Client: "10.0.0.1",
			Reason: padding} // a few records per file
	}
	// First run: BCM, rotating every few records, backups compressed.
	cfg := config(dir, "AgentServer", "BCM")
	cfg.MaxSize = audit.MinFileSize
	cfg.Compress = true
	l, err := audit.New(cfg)
	require.NoError(t, err)
	for i := range 12 {
		require.NoError(t, l.Log(t.Context(), event(i)))
	}
	waitCompressed(t, dir, "AgentServer")
	require.NoError(t, l.Close())
	// Second run: JSON, backups left plain. The change of format rotates
	// the BCM file away at once.
	cfg = config(dir, "AgentServer", "JSON")
	cfg.Now = fakeClock(base.Add(time.Hour))
	cfg.MaxSize = audit.MinFileSize
	events := make([]audit.Event, 0, 12)
	for i := 12; i < 24; i++ {
		events = append(events, event(i))
	}
	logAll(t, cfg, events...)

	gz, _ := filepath.Glob(filepath.Join(dir, "AgentServer.audit-*.log.gz"))
	plain, _ := filepath.Glob(filepath.Join(dir, "AgentServer.audit-*.log"))
	require.GreaterOrEqual(t, len(gz), 2)
	require.GreaterOrEqual(t, len(plain), 2)

	r := auditlog(t, "query", dir)
	require.Equal(t, 0, r.code, r.stderr)
	recs := callerRecords(parseLines(t, r.stdout))
	require.Equal(t, want, actors(recs))
}

func TestQuerySinceRelative(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC()
	cfg := config(dir, "AgentServer", "BCM")
	cfg.Now = fakeClock(now.Add(-time.Minute))
	logAll(t, cfg,
		audit.Event{Time: now.Add(-8 * 24 * time.Hour), Type: audit.Logon, Outcome: audit.Succeeded, Actor: "8d"},
		audit.Event{Time: now.Add(-72 * time.Hour), Type: audit.Logon, Outcome: audit.Succeeded, Actor: "72h"},
		audit.Event{Time: now.Add(-30 * time.Hour), Type: audit.Logon, Outcome: audit.Succeeded, Actor: "30h"},
		audit.Event{Time: now.Add(-2 * time.Hour), Type: audit.Logon, Outcome: audit.Succeeded, Actor: "2h"},
		audit.Event{Time: now.Add(-10 * time.Minute), Type: audit.Logon, Outcome: audit.Succeeded, Actor: "10m"},
	)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--since", "24h"}, []string{"2h", "10m"}},
		{[]string{"--since", "1d"}, []string{"2h", "10m"}},
		{[]string{"--since", "90m"}, []string{"10m"}},
		{[]string{"--since", "7d"}, []string{"72h", "30h", "2h", "10m"}},
		{[]string{"--since", "1d12h"}, []string{"30h", "2h", "10m"}},
		{[]string{"--since", "4d", "--until", "48h"}, []string{"72h"}},
		{[]string{"--until", "1h"}, []string{"8d", "72h", "30h", "2h"}},
	} {
		r := auditlog(t, append([]string{"query", dir}, tc.args...)...)
		require.Equal(t, 0, r.code, r.stderr)
		require.Equal(t, tc.want, actors(callerRecords(parseLines(t, r.stdout))), "%v", tc.args)
	}
}

func TestQueryBadFlags(t *testing.T) {
	dir := sampleDir(t)
	for _, tc := range []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"query", dir, "--type", "LOGON,BOGUS"}, `invalid value "LOGON,BOGUS" for flag -type: unknown event type "BOGUS"; want one of LOGON, LOGOFF, SESSION_START,`},
		{[]string{"query", dir, "--type", "!BOGUS"}, `unknown event type "BOGUS"; want one of LOGON,`},
		{[]string{"query", dir, "--outcome", "maybe"}, `invalid value "maybe" for flag -outcome: unknown outcome "maybe"; want success or failure`},
		{[]string{"query", dir, "--since", "the day before"}, `invalid value "the day before" for flag -since: want a time such as 2026-11-25T09:00:00Z`},
		{[]string{"query", dir, "--since", "2026-11-25T25:00"}, `today, yesterday, this-week (since Monday), or a duration before now (90m, 12h, 3d, 1w, 1d12h)`},
		{[]string{"query", dir, "--columns", "time,colour"}, `invalid value "time,colour" for flag -columns: unknown column "colour"; want any of time, module, seq,`},
		{[]string{"query", dir, "--tz", "Mars/Olympus"}, `unknown time zone "Mars/Olympus"`},
		{[]string{"query", dir, "--grep", ""}, `want a non-empty text`},
		{[]string{"query", dir, "--until", "-5h"}, `invalid value "-5h" for flag -until`},
		{[]string{"query", dir, "--since", "1h", "--until", "2h"}, "is not before --until"},
		{[]string{"query", dir, "--output", "xml"}, `invalid value "xml" for flag -output: want table, csv, json, bcm, cef or ocsf`},
		{[]string{"query", dir, "--module", "../etc"}, `invalid value "../etc" for flag -module`},
		{[]string{"query", dir, "--color"}, "flag provided but not defined: -color"},
		{[]string{"query"}, "want one directory, got 0 arguments"},
		{[]string{"query", dir, dir}, "want one directory, got 2 arguments"},
		{[]string{"stats", dir, "--since", "soon"}, `invalid value "soon" for flag -since`},
		{[]string{"tail", dir, "--module", "AgentServer", "-n", "-1"}, "invalid value -1 for flag -n"},
		{[]string{"tail", dir, "--module", "AgentServer", "-n", "ten"}, `invalid value "ten" for flag -n`},
		{[]string{"tail", dir, "-f", "--module", "AgentServer", "--poll", "0s"}, "flag -poll"},
		{[]string{"convert", "x.log"}, "--to is required"},
		{[]string{"convert", "--to", "xml", "x.log"}, `invalid value "xml" for flag -to: want json, bcm, cef or ocsf`},
		{[]string{"mask"}, "want one mask"},
	} {
		r := auditlog(t, tc.args...)
		require.Equal(t, 2, r.code, "%v: %s", tc.args, r.stderr)
		require.Empty(t, r.stdout, "%v", tc.args)
		require.Contains(t, r.stderr, tc.want, "%v", tc.args)
		require.True(t, strings.HasPrefix(r.stderr, "auditlog: "+tc.args[0]+": "), r.stderr)
	}
}

func TestQueryMissingAndEmptyDir(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-dir")
	for _, cmd := range []string{"query", "stats", "tail"} {
		r := auditlog(t, cmd, missing)
		require.Equal(t, 2, r.code, cmd)
		require.Empty(t, r.stdout)
		require.Equal(t, "auditlog: "+cmd+": directory "+missing+": no such file or directory\n", r.stderr)
	}

	empty := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(empty, "server.trace.log"), []byte("x\n"), 0o600))
	r := auditlog(t, "query", empty)
	require.Equal(t, 0, r.code)
	require.Empty(t, r.stdout)
	require.Equal(t, "auditlog: query: no audit files in "+empty+"\n", r.stderr)

	// A module that is not there is an error that lists those that are,
	// the same way for every command that takes --module.
	dir := sampleDir(t)
	for _, cmd := range []string{"query", "stats", "tail"} {
		r = auditlog(t, cmd, dir, "--module", "Nobody")
		require.Equal(t, 2, r.code, cmd)
		require.Empty(t, r.stdout)
		require.Equal(t, "auditlog: "+cmd+": no module Nobody in "+dir+"; its modules are AgentServer, WebServer\n", r.stderr)
	}
	r = auditlog(t, "query", empty, "--module", "Nobody")
	require.Equal(t, 2, r.code)
	require.Equal(t, "auditlog: query: no module Nobody in "+empty+": it holds no audit files\n", r.stderr)
}

func TestQueryCorruptLine(t *testing.T) {
	dir := sampleDir(t)
	// Break the second line of the BCM file and add a bad line to the
	// JSON file.
	path := filepath.Join(dir, "AgentServer.audit.log")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	bad := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "actor=mallory") })
	require.GreaterOrEqual(t, bad, 0)
	lines[bad] = "garbage " + lines[bad]
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600))
	jpath := filepath.Join(dir, "WebServer.audit.log")
	f, err := os.OpenFile(jpath, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"time":"2026-11-25T09:11:00Z","seq":9}` + "\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	nJSON := strings.Count(readFile(t, jpath), "\n")

	r := auditlog(t, "query", dir)
	require.Equal(t, 1, r.code, r.stderr)
	require.Contains(t, r.stderr, "auditlog: "+path+":"+strconv.Itoa(bad+1)+": audit: malformed record")
	require.Contains(t, r.stderr, "auditlog: "+jpath+":"+strconv.Itoa(nJSON)+": audit: malformed record")
	require.Equal(t, 2, strings.Count(r.stderr, "\n"), r.stderr)
	// Every other record is still printed.
	require.Equal(t, []string{"a0", "w1", "mallory", "bob", "alice", "alice", "admin", "a8", "bob"},
		actors(callerRecords(parseLines(t, r.stdout))))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

func TestQueryBackupEdgeCases(t *testing.T) {
	dir := t.TempDir()
	cfg := config(dir, "AgentServer", "BCM")
	cfg.MaxSize = audit.MinFileSize
	cfg.Compress = true
	l, err := audit.New(cfg)
	require.NoError(t, err)
	var want []string
	for i := range 10 {
		actor := "user-" + strconv.Itoa(i)
		want = append(want, actor)
		require.NoError(t, l.Log(t.Context(), audit.Event{Time: at(i), Type: audit.Logon, Outcome: audit.Succeeded, Actor: actor, Reason: padding}))
	}
	waitCompressed(t, dir, "AgentServer")
	require.NoError(t, l.Close())
	gz, _ := filepath.Glob(filepath.Join(dir, "AgentServer.audit-*.log.gz"))
	require.GreaterOrEqual(t, len(gz), 2)

	// A backup left both plain and compressed (a crash after compressing)
	// is read once.
	plain := strings.TrimSuffix(gz[0], ".gz")
	data := gunzip(t, gz[0])
	require.NoError(t, os.WriteFile(plain, data, 0o600))
	// An incomplete final line in the active file is a record being
	// written: it is skipped with a note, and is not a problem.
	active := filepath.Join(dir, "AgentServer.audit.log")
	f, err := os.OpenFile(active, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("2026-11-25T10:00:00.000000Z AgentServer LOGON SUCCESS seq=99 actor=half")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	r := auditlog(t, "query", dir)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, want, actors(callerRecords(parseLines(t, r.stdout))))
	n := strings.Count(readFile(t, active), "\n")
	require.Equal(t, "auditlog: "+active+":"+strconv.Itoa(n+1)+": incomplete final line skipped (a record being written?)\n", r.stderr)

	// A truncated compressed backup: its records are lost, which is
	// reported; the other files are read.
	require.NoError(t, os.Remove(plain))
	raw, err := os.ReadFile(gz[1])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(gz[1], raw[:len(raw)-12], 0o600))
	r = auditlog(t, "query", dir)
	require.Equal(t, 1, r.code, r.stderr)
	require.Contains(t, r.stderr, "auditlog: "+gz[1]+":")
	require.Contains(t, r.stderr, "read error: compressed file is damaged: unexpected EOF; skipped the rest of the file")
	got := actors(callerRecords(parseLines(t, r.stdout)))
	require.Subset(t, want, got)
	require.Equal(t, want[:2], got[:2])
	require.Equal(t, want[len(want)-1], got[len(got)-1])
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	data, err := io.ReadAll(zr)
	require.NoError(t, err)
	return data
}

// padding pads records so that a file of audit.MinFileSize holds a few of
// them and the tests rotate often.
var padding = strings.Repeat("p", 450)
