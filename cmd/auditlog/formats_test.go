package main

import (
	"fmt"
	"path/filepath"
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
		// An IP address and port are written apart in CEF (src, spt) and
		// OCSF (src_endpoint.ip, .port).
		client := "10.0.0.1"
		switch i % 3 {
		case 1:
			client = "10.0.0.1:5060"
		case 2:
			client = "[2001:db8::1]:443"
		}
		events = append(events, audit.Event{Time: at(i), Type: audit.Logon, Outcome: audit.Outcome(1 + i%2),
			Actor: fmt.Sprint("agent", i%7), Client: client, Reason: "r"})
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
		{"--client", "10.0.0.1:5060"},
		{"--client", "[2001:db8::1]:443"},
		{"--grep", "0.1:50"},
		{"--grep", "[2001:db8::1]"},
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

// TestConvertToEveryFormat: a sealed BCM file converted to each built-in
// format and back to BCM is the file again, byte for byte, MACs included.
func TestConvertToEveryFormat(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(t.TempDir(), "k")
	require.NoError(t, audit.NewKey(key))
	cfg := config(dir, "AgentServer", "BCM")
	cfg.Integrity, cfg.IntegrityKeyFile = true, key
	logAll(t, cfg,
		audit.Event{Time: at(1), Type: audit.Logon, Outcome: audit.Failed, Actor: "mallory", Client: "203.0.113.9", Reason: "bad \"password\"|=\\"},
		audit.Event{Time: at(2), Type: audit.AccessChange, Outcome: audit.Succeeded, Actor: "admin", Subject: "bob", Object: "role", OldValue: "agent", NewValue: "supervisor"},
		audit.Event{Time: at(3), Type: audit.DataRead, Outcome: audit.Succeeded, Actor: "alice", Subject: "carol", Object: "recording-42", Session: "S-1"},
	)
	original := filepath.Join(dir, "AgentServer.audit.log")
	want := readFile(t, original)
	for _, format := range []string{"json", "cef", "ocsf"} {
		t.Run(format, func(t *testing.T) {
			there := auditlog(t, "convert", "--to", format, original)
			require.Equal(t, 0, there.code, there.stderr)
			for line := range strings.Lines(there.stdout) {
				r, err := audit.ParseRecord([]byte(line))
				require.NoError(t, err, "%q", line)
				require.NotEmpty(t, r.MAC, "%q", line)
			}
			back := auditlogIn(t, there.stdout, "convert", "--to", "bcm")
			require.Equal(t, 0, back.code, back.stderr)
			require.Equal(t, want, back.stdout)
		})
	}
	bad := auditlog(t, "convert", "--to", "xml", original)
	require.Equal(t, exitUsage, bad.code)
	require.Contains(t, bad.stderr, "want json, bcm, cef or ocsf")
}
