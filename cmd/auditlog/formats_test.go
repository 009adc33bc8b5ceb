package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/auditkit/audit"
	"github.com/stretchr/testify/require"
)

// TestQueryEveryFormat: query selects the same records from files in each
// built-in format, on its fast path as with --strict, and prints them in
// the output format asked for, never as the lines of another format.
func TestQueryEveryFormat(t *testing.T) {
	var events []audit.Event
	for i := range 300 {
		events = append(events, audit.Event{Time: at(i), Type: audit.Logon, Outcome: audit.Outcome(1 + i%2),
			Actor: fmt.Sprint("agent", i%7), Client: "10.0.0.1", Reason: "r"})
		if i%10 == 0 {
			events = append(events, audit.Event{Time: at(i), Type: audit.DataRead, Outcome: audit.Succeeded,
				Actor: "alice", Subject: "carol", Object: "recording"})
		}
	}
	filters := [][]string{
		{"--type", "LOGON"},
		{"--outcome", "failure"},
		{"--type", "DATA_READ"},
		{"--type", "LOGON", "--outcome", "success"},
		{"--actor", "agent3"},
	}
	for _, format := range []string{"BCM", "JSON", "CEF", "OCSF"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			logAll(t, config(dir, "AgentServer", format), events...)
			for _, f := range filters {
				for _, out := range []string{"bcm", "json"} {
					args := append([]string{"query", dir, "--output", out}, f...)
					fast := auditlog(t, args...)
					require.Equal(t, 0, fast.code, fast.stderr)
					strict := auditlog(t, append(args, "--strict")...)
					require.Equal(t, 0, strict.code, strict.stderr)
					require.Equal(t, strict.stdout, fast.stdout, "%s %v: the fast path and --strict differ", format, f)
					require.NotEmpty(t, fast.stdout, "%s %v", format, f)
					for line := range strings.Lines(fast.stdout) {
						r, err := audit.ParseRecord([]byte(line))
						require.NoError(t, err)
						if out == "json" {
							require.True(t, strings.HasPrefix(line, `{"time":"`), "%s --output json printed %q", format, line)
						} else {
							require.True(t, line[0] >= '0' && line[0] <= '9', "%s --output bcm printed %q", format, line)
						}
						require.True(t, r.Event.Type == audit.Logon || r.Event.Type == audit.DataRead, "%s %v: %q", format, f, line)
					}
				}
			}
		})
	}
}
