package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/auditkit/audit"
	"github.com/stretchr/testify/require"
)

func TestStats(t *testing.T) {
	dir := t.TempDir()
	var agent, web []audit.Event
	minute := 0
	next := func() int { minute++; return minute }
	// Failed logons: attacker-i fails 12-i times from 192.0.2.i, for
	// twelve attackers, so that the top ten leaves two out.
	for i := range 12 {
		for range 12 - i {
			agent = append(agent, audit.Event{Time: at(next()), Type: audit.Logon, Outcome: audit.Failed,
				Actor: fmt.Sprintf("attacker-%02d", i), Client: fmt.Sprintf("192.0.2.%d", i)})
		}
	}
	// Successful logons and other failures do not count as failed logons.
	for range 5 {
		agent = append(agent, audit.Event{Time: at(next()), Type: audit.Logon, Outcome: audit.Succeeded, Actor: "alice", Client: "10.0.0.1"})
		web = append(web, audit.Event{Time: at(next()), Type: audit.DataRead, Outcome: audit.Failed, Actor: "eve", Subject: "carol", Client: "10.0.0.66"})
	}
	web = append(web, audit.Event{Time: at(next()), Type: audit.Logon, Outcome: audit.Failed, Actor: "attacker-00", Client: "192.0.2.200"})
	late := next()
	web = append(web, audit.Event{Time: at(late), Type: audit.Logoff, Outcome: audit.Succeeded, Actor: "alice"})
	logAll(t, config(dir, "AgentServer", "BCM"), agent...)
	logAll(t, config(dir, "WebServer", "JSON"), web...)

	r := auditlog(t, "stats", dir)
	require.Equal(t, 0, r.code, r.stderr)
	out := r.stdout
	t.Log("\n" + out)
	nAgent, nWeb := len(agent), len(web)
	nLib := countLibraryRecords(t, dir)
	require.Contains(t, out, fmt.Sprintf("Records  %d  from 2026-11-25T09:", nAgent+nWeb+nLib))
	section := func(title string) []string {
		_, rest, ok := strings.Cut(out, "\n"+title+"\n")
		require.True(t, ok, title)
		body, _, _ := strings.Cut(rest, "\n\n")
		return strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	}
	fields := func(lines []string) [][]string {
		var f [][]string
		for _, l := range lines {
			f = append(f, strings.Fields(l))
		}
		return f
	}
	mods := fields(section("By module"))
	require.Contains(t, mods, []string{"AgentServer", fmt.Sprint(nAgent + countModuleLibraryRecords(t, dir, "AgentServer"))})
	require.Contains(t, mods, []string{"WebServer", fmt.Sprint(nWeb + countModuleLibraryRecords(t, dir, "WebServer"))})
	types := fields(section("By event type"))
	require.Equal(t, []string{"LOGON", fmt.Sprint(78 + 5 + 1)}, types[0])
	require.Contains(t, types, []string{"DATA_READ", "5"})
	require.Contains(t, types, []string{"LOGOFF", "1"})
	outcomes := fields(section("By outcome"))
	require.Equal(t, []string{"FAILURE", fmt.Sprint(78 + 5 + 1)}, outcomes[1])

	actorsTop := fields(section("Top actors with failed LOGON"))
	require.Len(t, actorsTop, 10)
	require.Equal(t, []string{"attacker-00", "13"}, actorsTop[0]) // 12 in AgentServer, 1 in WebServer
	require.Equal(t, []string{"attacker-01", "11"}, actorsTop[1])
	require.Equal(t, []string{"attacker-09", "3"}, actorsTop[9])
	clientsTop := fields(section("Top clients with failed LOGON"))
	require.Len(t, clientsTop, 10)
	require.Equal(t, []string{"192.0.2.0", "12"}, clientsTop[0])
	require.Equal(t, []string{"192.0.2.8", "4"}, clientsTop[8])
	require.Equal(t, []string{"192.0.2.9", "3"}, clientsTop[9])
	require.NotContains(t, out, "192.0.2.10 ")
	require.NotContains(t, out, "192.0.2.200")

	// The same as JSON.
	r = auditlog(t, "stats", dir, "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	var j tallyJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &j), r.stdout)
	require.Equal(t, nAgent+nWeb+nLib, j.Records)
	require.Equal(t, nAgent+countModuleLibraryRecords(t, dir, "AgentServer"), j.Modules["AgentServer"])
	require.Equal(t, 78+5+1, j.Types["LOGON"])
	require.Equal(t, 5, j.Types["DATA_READ"])
	require.Equal(t, 78+5+1, j.Outcomes["FAILURE"])
	require.Len(t, j.FailedLogonActors, 10)
	require.Equal(t, keyCount{"attacker-00", 13}, j.FailedLogonActors[0])
	require.Equal(t, keyCount{"192.0.2.9", 3}, j.FailedLogonClients[9])
	require.Equal(t, at(1), *j.First)
	require.Equal(t, at(late), *j.Last)
}

// countLibraryRecords counts the records the library wrote about its own
// files in dir.
func countLibraryRecords(t *testing.T, dir string) int {
	return countModuleLibraryRecords(t, dir, "AgentServer") + countModuleLibraryRecords(t, dir, "WebServer")
}

func countModuleLibraryRecords(t *testing.T, dir, module string) int {
	t.Helper()
	n := 0
	for _, line := range readAll(t, dir, module) {
		r, err := audit.ParseRecord([]byte(line))
		require.NoError(t, err)
		if len(callerRecords([]audit.Record{r})) == 0 {
			n++
		}
	}
	return n
}

func TestStatsPeriodAndModule(t *testing.T) {
	dir := sampleDir(t)
	r := auditlog(t, "stats", dir, "--module", "AgentServer", "--since", "2026-11-25T09:03:00Z", "--until", "2026-11-25T09:08:00Z")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, `Records  3  from 2026-11-25T09:03:00.000000Z to 2026-11-25T09:06:00.000000Z

By module
  AgentServer  3

By event type
  LOGON      2
  DATA_READ  1

By outcome
  SUCCESS  2
  FAILURE  1

Top actors with failed LOGON
  mallory  1

Top clients with failed LOGON
  203.0.113.9  1
`, r.stdout)

	r = auditlog(t, "stats", dir, "--since", "2027-01-01")
	require.Equal(t, 0, r.code, r.stderr)
	require.True(t, strings.HasPrefix(r.stdout, "Records  0\n"), r.stdout)
	require.Contains(t, r.stdout, "Top actors with failed LOGON\n  (none)\n")
}
