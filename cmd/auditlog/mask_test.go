package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMaskPresenceRead(t *testing.T) {
	r := auditlog(t, "mask", "presence+read")
	require.Equal(t, 0, r.code, r.stderr)
	require.Empty(t, r.stderr)
	t.Log("\n" + r.stdout)
	groups := maskGroups(t, r.stdout)
	require.Equal(t, "Mask presence+read", strings.SplitN(r.stdout, "\n", 2)[0])
	require.Equal(t, []string{"LOGON", "LOGOFF", "SESSION_START", "CHANNEL_OPEN", "CHANNEL_CLOSE", "CHANNEL_REJECT", "DATA_READ", "AUDIT_CONFIG_CHANGE"}, groups["Written"])
	require.Empty(t, groups["Written only when they fail"])
	require.Equal(t, []string{"SERVER_START", "SERVER_STOP", "USER_CHANGE", "ACCESS_CHANGE", "NO_CONSENT_OVERRIDE", "SYSTEM_CONFIG_CHANGE"}, groups["Left out"])
	require.Contains(t, r.stdout, "AUDIT_CONFIG_CHANGE   config    always written\n")
}

func TestMaskFailure(t *testing.T) {
	r := auditlog(t, "mask", " Read + FAILURE ")
	require.Equal(t, 0, r.code, r.stderr)
	require.True(t, strings.HasPrefix(r.stdout, `Mask failure+read (canonical form of " Read + FAILURE ")`+"\n"), r.stdout)
	groups := maskGroups(t, r.stdout)
	require.Equal(t, []string{"CHANNEL_REJECT", "DATA_READ", "AUDIT_CONFIG_CHANGE"}, groups["Written"])
	require.Contains(t, r.stdout, "CHANNEL_REJECT        presence  always a failure\n")
	require.Contains(t, groups["Written only when they fail"], "LOGON")
	require.Contains(t, groups["Written only when they fail"], "SERVER_STOP")
	require.Empty(t, groups["Left out"])
}

func TestMaskBad(t *testing.T) {
	for _, arg := range []string{"presence+bogus", "", "presence++read"} {
		r := auditlog(t, "mask", arg)
		require.Equal(t, 2, r.code)
		require.Empty(t, r.stdout)
		require.True(t, strings.HasPrefix(r.stderr, "auditlog: mask: audit: event mask "), r.stderr)
		require.Contains(t, r.stderr, "invalid event mask")
	}
	r := auditlog(t, "mask", "presence+bogus")
	require.Equal(t, `auditlog: mask: audit: event mask "presence+bogus": invalid event mask: unknown token "bogus" (valid tokens: presence, failure, system, config, read, modify, all)`+"\n", r.stderr)
}

// maskGroups returns the event types listed under each title of the
// output of auditlog mask.
func maskGroups(t *testing.T, out string) map[string][]string {
	t.Helper()
	groups := map[string][]string{}
	title := ""
	for line := range strings.Lines(out) {
		line = strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, "  ") && line != "  (none)":
			require.NotEmpty(t, title, line)
			groups[title] = append(groups[title], strings.Fields(line)[0])
		case strings.HasSuffix(line, ")") && strings.Contains(line, " ("):
			title = line[:strings.LastIndex(line, " (")]
		}
	}
	return groups
}
