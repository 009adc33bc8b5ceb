package main

import (
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/auditkit/audit"
	"github.com/stretchr/testify/require"
)

// reportRows runs a report with JSON output and returns its rows.
func reportRows(t *testing.T, args ...string) []map[string]string {
	t.Helper()
	r := auditlog(t, append(append([]string{"report"}, args...), "-o", "json")...)
	require.Equal(t, 0, r.code, r.stderr)
	var rows []map[string]string
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rows), r.stdout)
	return rows
}

// drill runs the drill-down command of a report row with bash and
// returns the records it prints.
func drill(t *testing.T, row map[string]string) []audit.Record {
	t.Helper()
	q := row["query"]
	require.True(t, strings.HasPrefix(q, "auditlog query "), q)
	cmd := exec.Command("bash", "-c", binary+strings.TrimPrefix(q, "auditlog")+" -o json")
	out, err := cmd.Output()
	require.NoError(t, err, q)
	return parseLines(t, string(out))
}

func TestReportLogons(t *testing.T) {
	dir := sampleDir(t)
	rows := reportRows(t, "logons", dir)
	require.Len(t, rows, 3)
	require.Equal(t, map[string]string{"actor": "mallory", "client": "203.0.113.9", "failed": "2", "succeeded": "0",
		"first_failure": "2026-11-25T09:02:00.000000Z", "last_failure": "2026-11-25T09:03:00.000000Z",
		"query": "auditlog query " + dir + " --type LOGON --actor mallory --client 203.0.113.9 --outcome failure"}, rows[0])
	require.Equal(t, "bob", rows[1]["actor"])
	require.Equal(t, "alice", rows[2]["actor"])
	require.Equal(t, "0", rows[2]["failed"])
	require.Equal(t, "1", rows[2]["succeeded"])
	for _, row := range rows[:2] {
		recs := drill(t, row)
		require.Len(t, recs, mustAtoi(t, row["failed"]))
		for _, r := range recs {
			require.Equal(t, row["actor"], r.Event.Actor)
			require.Equal(t, audit.Failed, r.Event.Outcome)
		}
	}

	// The table and the filters of the report.
	r := auditlog(t, "report", "logons", dir, "--since", "2026-11-25T09:03:00Z")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Equal(t, []string{"ACTOR", "CLIENT", "FAILED", "SUCCEEDED", "FIRST_FAILURE", "LAST_FAILURE", "QUERY"}, strings.Fields(lines[0]))
	require.Len(t, lines, 4)
	// Ties in failures go by actor.
	require.Contains(t, lines[1], "auditlog query "+dir+" --since 2026-11-25T09:03:00Z --type LOGON --actor bob --client 198.51.100.7 --outcome failure")
	require.Contains(t, lines[2], "auditlog query "+dir+" --since 2026-11-25T09:03:00Z --type LOGON --actor mallory")
}

func TestReportChangesFailuresSessionsDaily(t *testing.T) {
	dir := hostileDir(t)
	changes := reportRows(t, "changes", dir)
	require.NotEmpty(t, changes)
	types := map[string]int{}
	for i, row := range changes {
		types[row["type"]]++
		if i%7 == 0 {
			recs := drill(t, row)
			require.Len(t, recs, 1, row["query"])
			require.Equal(t, row["old"], recs[0].Event.OldValue)
			require.Equal(t, row["new"], recs[0].Event.NewValue)
			require.Equal(t, row["seq"], strconv.FormatUint(recs[0].Seq, 10))
		}
	}
	require.Equal(t, map[string]int{"USER_CHANGE": 40, "ACCESS_CHANGE": 40, "SYSTEM_CONFIG_CHANGE": 40}, types)

	failures := reportRows(t, "failures", dir, "--module", "WebServer")
	require.NotEmpty(t, failures)
	total := 0
	for _, row := range failures {
		n := mustAtoi(t, row["count"])
		total += n
		recs := drill(t, row)
		require.Len(t, recs, n, row["query"])
		for _, r := range recs {
			require.Equal(t, row["actor"], r.Event.Actor)
		}
	}
	require.Equal(t, 20, total)

	sessions := reportRows(t, "sessions", dir)
	require.Len(t, sessions, 7)
	total = 0
	for _, row := range sessions {
		total += mustAtoi(t, row["records"])
		require.Len(t, drill(t, row), mustAtoi(t, row["records"]))
	}
	require.Equal(t, 240, total)

	daily := reportRows(t, "daily", dir, "--type", "LOGON")
	require.Len(t, daily, 1)
	require.Equal(t, "2026-11-25", daily[0]["day"])
	require.Equal(t, "80", daily[0]["records"])
	require.Equal(t, "40", daily[0]["success"])
	require.Equal(t, "40", daily[0]["failure"])
	require.Len(t, drill(t, daily[0]), 80)

	r := auditlog(t, "report", "nosuch", dir)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, `unknown report "nosuch"; want one of logons, failures, changes, sessions, daily`)
	r = auditlog(t, "report", "logons", dir, "--module", "Nobody")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "no module Nobody in "+dir+"; its modules are AgentServer, WebServer")
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

func TestShellQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"alice", "alice"},
		{"10.1.2.3:5060", "10.1.2.3:5060"},
		{"", "''"},
		{"a b", "'a b'"},
		{`quo"te`, `'quo"te'`},
		{"it's", `'it'\''s'`},
		{"日本語", "'日本語'"},
		{"tab\there", `$'tab\x09here'`},
		{"x'\\\x1b[31m", `$'x\'\\\x1b[31m'`},
		{"bad\xffutf8", `$'bad\xffutf8'`},
	} {
		require.Equal(t, tc.want, shellQuote(tc.in), "%q", tc.in)
	}
	// bash reads each back as it was.
	for _, s := range []string{"a b", `quo"te`, "it's", "tab\there", "x'\\\x1b[31m", "bad\xffutf8", "!bang"} {
		out, err := exec.Command("bash", "-c", "printf %s "+shellQuote(s)).Output()
		require.NoError(t, err)
		require.Equal(t, s, string(out))
	}
}
