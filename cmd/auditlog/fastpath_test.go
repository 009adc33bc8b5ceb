package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditkit/audit"
	"github.com/stretchr/testify/require"
)

// hostileDir writes two modules, one in each format, with values that
// need quoting and escapes, rotated into compressed and plain backups,
// and returns the directory.
func hostileDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	values := []string{"alice", `quo"te`, `back\slash`, "tab\there", "日本語", "🎉party", "=cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "bob", "!bang", "a b"}
	for mi, m := range []string{"AgentServer", "WebServer"} {
		format := []string{"BCM", "JSON"}[mi]
		cfg := config(dir, m, format)
		cfg.MaxSize = audit.MinFileSize
		if mi == 0 {
			cfg.Compress = true
		}
		var events []audit.Event
		for i := range 120 {
			v := values[i%len(values)]
			e := audit.Event{Outcome: audit.Succeeded, Time: at(2*i + mi), Actor: v, Client: "10.0.0." + strconv.Itoa(i%5), Session: "S-" + strconv.Itoa(i%7)}
			switch i % 6 {
			case 0:
				e.Type, e.Outcome, e.Reason = audit.Logon, audit.Failed, "bad "+values[(i+3)%len(values)]
			case 1:
				e.Type = audit.Logon
			case 2:
				e.Type, e.Subject, e.Object, e.OldValue, e.NewValue = audit.UserChange, values[(i+1)%len(values)], "phone", "+49 1", values[(i+2)%len(values)]
			case 3:
				e.Type, e.Subject, e.Object = audit.AccessChange, "bob", "role"
				e.OldValue, e.NewValue = "agent", "supervisor"
			case 4:
				e.Type, e.Subject, e.Object = audit.DataRead, values[(i+5)%len(values)], "recording-"+strconv.Itoa(i)
				e.AddField("note", values[(i+4)%len(values)])
			default:
				e.Type, e.Object, e.OldValue, e.NewValue = audit.SystemConfigChange, "MaxSessions", "100", "200"
			}
			events = append(events, e)
		}
		logAll(t, cfg, events...)
	}
	return dir
}

// The fast path (deciding on lines before parsing them, printing lines as
// they are) selects and prints exactly what parsing every line selects.
func TestQueryFastPathMatchesStrict(t *testing.T) {
	dir := hostileDir(t)
	for _, args := range [][]string{
		nil,
		{"--type", "LOGON", "--outcome", "failed"},
		{"--type", "!LOGON"},
		{"--outcome", "success"},
		{"--actor", `quo"te`},
		{"--actor", `back\slash`},
		{"--actor", "!alice", "--actor", "!bob"},
		{"--actor", "日本語", "--type", "DATA_READ,ACCESS_CHANGE"},
		{"--grep", "party"},
		{"--grep", `"`},
		{"--grep", "日本"},
		{"--subject", "bob", "--object", "role"},
		{"--session", "S-3", "--client", "10.0.0.2"},
		{"--since", "2026-11-25T10:00:00Z", "--until", "2026-11-25T11:00:00.0000005Z"},
		{"--since", "2026-11-25T09:30:00Z", "--module", "WebServer"},
		{"--until", "2026-11-25T09:17:00Z", "--outcome", "!failure"},
	} {
		for _, out := range []string{"bcm", "json", "csv"} {
			a := append([]string{"query", dir, "-o", out}, args...)
			fast := auditlog(t, a...)
			strict := auditlog(t, append(a, "--strict")...)
			require.Equal(t, 0, fast.code, "%v: %s", a, fast.stderr)
			require.Equal(t, strict, fast, "%v", a)
			if out == "bcm" && args != nil {
				require.NotEmpty(t, fast.stdout, "%v", a)
			}
		}
	}
	// The filters select what they say.
	r := auditlog(t, "query", dir, "--actor", `back\slash`, "--type", "USER_CHANGE")
	recs := parseLines(t, r.stdout)
	require.NotEmpty(t, recs)
	for _, rec := range recs {
		require.Equal(t, `back\slash`, rec.Event.Actor)
		require.Equal(t, audit.UserChange, rec.Event.Type)
	}
	r = auditlog(t, "query", dir, "--grep", "party", "-o", "json")
	recs = parseLines(t, r.stdout)
	require.NotEmpty(t, recs)
	for _, rec := range recs {
		require.True(t, recordContains(&rec, "party"))
	}
}

// A backup whose last record was cut short is reported, as for the active
// file, and its cut line is not printed as a record.
func TestBackupCutShort(t *testing.T) {
	dir := t.TempDir()
	cfg := config(dir, "AgentServer", "BCM")
	cfg.MaxSize = audit.MinFileSize
	var events []audit.Event
	for i := range 60 { // enough for two backups at MinFileSize
		events = append(events, audit.Event{Outcome: audit.Succeeded, Time: at(i), Type: audit.Logon, Actor: "user-" + strconv.Itoa(i)})
	}
	logAll(t, cfg, events...)
	backups, _ := filepath.Glob(filepath.Join(dir, "AgentServer.audit-*.log"))
	require.GreaterOrEqual(t, len(backups), 2)
	data := readFile(t, backups[0])
	// Cut the last record after its actor's first byte: what is left
	// still parses, as user-... would not.
	cut := strings.LastIndex(data, "actor=user-") + len("actor=u")
	require.NoError(t, os.WriteFile(backups[0], []byte(data[:cut]), 0o600))
	lines := strings.Count(data[:cut], "\n") + 1

	for _, args := range [][]string{{"query", dir}, {"query", dir, "--strict"}, {"stats", dir}, {"convert", "--to", "json", backups[0]}} {
		r := auditlog(t, args...)
		require.Equal(t, 1, r.code, "%v: %s", args, r.stderr)
		require.Contains(t, r.stderr, backups[0]+":"+strconv.Itoa(lines)+": incomplete final line skipped (the file was cut short)", args)
		require.NotContains(t, r.stdout, "actor=u\n", args)
		require.NotContains(t, r.stdout, `"actor":"u"`, args)
	}
}

// --since and --until skip the files that cannot hold a record of the
// period, known from the first record of each file and of the next: a
// broken line in a skipped file is not read.
func TestQuerySkipsFilesOutsidePeriod(t *testing.T) {
	dir := t.TempDir()
	cfg := config(dir, "AgentServer", "BCM")
	cfg.MaxSize = audit.MinFileSize
	var events []audit.Event
	for i := range 200 { // enough for four backups at MinFileSize
		events = append(events, audit.Event{Outcome: audit.Succeeded, Time: at(i), Type: audit.Logon, Actor: "user-" + strconv.Itoa(i)})
	}
	logAll(t, cfg, events...)
	backups, _ := filepath.Glob(filepath.Join(dir, "AgentServer.audit-*.log"))
	require.GreaterOrEqual(t, len(backups), 4)
	// Just after the first record of the second backup: the first backup
	// holds only earlier records.
	first := parseLines(t, readFile(t, backups[1]))[0].Event.Time.Add(time.Second)
	last := parseLines(t, readFile(t, backups[len(backups)-2]))[0].Event.Time
	// Break a line in the middle of the first and the second-to-last backups.
	for _, b := range []string{backups[0], backups[len(backups)-2]} {
		data := readFile(t, b)
		require.NoError(t, os.WriteFile(b, []byte(strings.Replace(data, "\n", "\nbroken\n", 1)), 0o600))
	}
	period := []string{"--since", first.Format("2006-01-02T15:04:05.999999Z07:00"), "--until", last.Format("2006-01-02T15:04:05.999999Z07:00")}
	for _, args := range [][]string{{"query", dir}, {"stats", dir}} {
		r := auditlog(t, append(args, period...)...)
		require.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
		require.Empty(t, r.stderr)
		r = auditlog(t, args...)
		require.Equal(t, 1, r.code, "%v: %s", args, r.stderr)
		require.Equal(t, 2, strings.Count(r.stderr, `parsing time "broken"`), r.stderr)
	}
	// The period's records are all there.
	r := auditlog(t, append([]string{"query", dir}, period...)...)
	var want []string
	for _, e := range events {
		if !e.Time.Before(first) && e.Time.Before(last) {
			want = append(want, e.Actor)
		}
	}
	require.Equal(t, want, actors(callerRecords(parseLines(t, r.stdout))))
}

// A selective query passes over the lines without its type and outcome,
// and still reports a broken line that has them, by its right number.
func TestQueryPassesOverLinesByNumber(t *testing.T) {
	dir := t.TempDir()
	var events []audit.Event
	for i := range 3000 {
		e := audit.Event{Outcome: audit.Succeeded, Time: at(0).Add(time.Duration(i) * time.Second), Type: audit.DataRead, Actor: "user-" + strconv.Itoa(i), Subject: "s"}
		if i%100 == 7 {
			e = audit.Event{Time: e.Time, Type: audit.Logon, Outcome: audit.Failed, Actor: e.Actor}
		}
		events = append(events, e)
	}
	logAll(t, config(dir, "AgentServer", "BCM"), events...)
	path := filepath.Join(dir, "AgentServer.audit.log")
	lines := strings.SplitAfter(readFile(t, path), "\n")
	// Break the time of line 1508 (a failed logon: i = 1507) and of line
	// 2000 (a read).
	lines[1507] = "X" + lines[1507][1:]
	lines[1999] = "X" + lines[1999][1:]
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600))

	r := auditlog(t, "query", dir, "--type", "LOGON", "--outcome", "failure")
	require.Equal(t, 1, r.code)
	require.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
	require.Contains(t, r.stderr, path+":1508: ")
	require.Len(t, parseLines(t, r.stdout), 29)
	strict := auditlog(t, "query", dir, "--type", "LOGON", "--outcome", "failure", "--strict")
	require.Equal(t, r.stdout, strict.stdout)
	require.Contains(t, strict.stderr, path+":1508: ")
	require.Contains(t, strict.stderr, path+":2000: ")
}
