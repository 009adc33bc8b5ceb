package main

import (
	"flag"
	"testing"
	"time"

	"github.com/auditkit/audit"
	"github.com/stretchr/testify/require"
)

func TestParseTimeArg(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	// Wednesday 2026-11-25 14:30 in Berlin.
	now := time.Date(2026, 11, 25, 14, 30, 0, 0, berlin)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2026-11-25T09:00:00Z", time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)},
		{"2026-11-25T10:00+01:00", time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)},
		{"2026-11-25 10:00:30.5+01:00", time.Date(2026, 11, 25, 9, 0, 30, 5e8, time.UTC)},
		{"2026-11-25", time.Date(2026, 11, 25, 0, 0, 0, 0, berlin)},
		{"2026-11-25T09:00", time.Date(2026, 11, 25, 9, 0, 0, 0, berlin)},
		{"2026-11-25 09:00:30", time.Date(2026, 11, 25, 9, 0, 30, 0, berlin)},
		{"2026-11-25T09:00:30.25", time.Date(2026, 11, 25, 9, 0, 30, 25e7, berlin)},
		{"today", time.Date(2026, 11, 25, 0, 0, 0, 0, berlin)},
		{"Yesterday", time.Date(2026, 11, 24, 0, 0, 0, 0, berlin)},
		{"this-week", time.Date(2026, 11, 23, 0, 0, 0, 0, berlin)},
		{"now", now},
		{"90m", now.Add(-90 * time.Minute)},
		{"12h", now.Add(-12 * time.Hour)},
		{"3d", now.Add(-72 * time.Hour)},
		{"1w", now.Add(-7 * 24 * time.Hour)},
		{"1w2d", now.Add(-9 * 24 * time.Hour)},
		{"1d12h", now.Add(-36 * time.Hour)},
	} {
		got, err := parseTimeArg(tc.in, now)
		require.NoError(t, err, tc.in)
		require.True(t, tc.want.Equal(got), "%s: got %v, want %v", tc.in, got, tc.want)
	}
	// this-week on a Monday and on a Sunday.
	monday := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	got, _ := parseTimeArg("this-week", monday)
	require.Equal(t, time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), got)
	got, _ = parseTimeArg("this-week", monday.AddDate(0, 0, 6))
	require.Equal(t, time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), got)

	for _, bad := range []string{"", "soon", "-5h", "2026-11-31", "2026-11-25T25:00", "1x", "w", "2026-11-25T09:00:00"[:13]} {
		_, err := parseTimeArg(bad, now)
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), "today, yesterday, this-week", bad)
		require.NotContains(t, err.Error(), "2006", bad)
	}
}

func TestFilterFlags(t *testing.T) {
	rec := func(typ audit.EventType, outcome audit.Outcome, actor string) *audit.Record {
		return &audit.Record{Module: "M", Event: audit.Event{Type: typ, Outcome: outcome, Actor: actor, Reason: "bad password"}}
	}
	for _, tc := range []struct {
		name string
		args []string
		rec  *audit.Record
		want bool
	}{
		{"type", []string{"--type", "logon"}, rec(audit.Logon, audit.Succeeded, "a"), true},
		{"not type", []string{"--type", "!LOGON"}, rec(audit.Logon, audit.Succeeded, "a"), false},
		{"not type other", []string{"--type", "!LOGON,!LOGOFF"}, rec(audit.DataRead, audit.Succeeded, "a"), true},
		{"type and not", []string{"--type", "LOGON,DATA_READ", "--type", "!DATA_READ"}, rec(audit.DataRead, audit.Succeeded, "a"), false},
		{"failed", []string{"--outcome", "failed"}, rec(audit.Logon, audit.Failed, "a"), true},
		{"succeeded", []string{"--outcome", "Succeeded"}, rec(audit.Logon, audit.Failed, "a"), false},
		{"not failure", []string{"--outcome", "!failure"}, rec(audit.Logon, audit.Succeeded, "a"), true},
		{"actor any", []string{"--actor", "a", "--actor", "b"}, rec(audit.Logon, audit.Succeeded, "b"), true},
		{"not actor", []string{"--actor", "!b"}, rec(audit.Logon, audit.Succeeded, "b"), false},
		{"literal bang", []string{"--actor", `\!b`}, rec(audit.Logon, audit.Succeeded, "!b"), true},
		{"grep", []string{"--grep", "password"}, rec(audit.Logon, audit.Succeeded, "a"), true},
		{"grep both", []string{"--grep", "password", "--grep", "nope"}, rec(audit.Logon, audit.Succeeded, "a"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{now: time.Now}
			f := &filter{}
			fs := newFlagSet(queryCommand)
			defineFilters(e, fs, f)
			require.NoError(t, fs.Parse(tc.args))
			require.Equal(t, tc.want, f.match(tc.rec))
		})
	}
}

// TestValueArgSelectsTheValue checks that the flag value that drill-downs
// and links make for a value selects exactly that value, including values
// that start with '!' or a backslash.
func TestValueArgSelectsTheValue(t *testing.T) {
	for _, s := range []string{"alice", "!svc", `\!bang`, `\\x`, `\x`, `\`, "!", `\!`, "a!b"} {
		var v valueFilter
		v.set(valueArg(s))
		require.Equal(t, []string{s}, v.is, "value %q as %q", s, valueArg(s))
		require.Empty(t, v.not)

		f := &filter{actor: valueFilter{is: []string{s}}, client: valueFilter{not: []string{s}}}
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		got := &filter{}
		defineFilters(&env{now: time.Now}, fs, got)
		require.NoError(t, fs.Parse(filterArgs(f)))
		require.Equal(t, f.actor, got.actor, "value %q", s)
		require.Equal(t, f.client, got.client, "value %q", s)
	}
}
