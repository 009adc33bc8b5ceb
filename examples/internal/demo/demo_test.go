package demo

import (
	"testing"
	"time"

	"github.com/auditkit/audit"
	"github.com/auditkit/audit/audittest"
	"github.com/stretchr/testify/require"
)

func TestDayTimes(t *testing.T) {
	now := time.Date(2026, 11, 25, 14, 30, 0, 0, time.UTC)
	clock := [][2]int{{7, 55}, {8, 2}, {8, 2}, {13, 5}, {18, 0}}
	for _, tc := range []struct {
		name   string
		newest time.Time
		first  time.Time // the time of 07:55
		last   time.Time // the time of 18:00
	}{
		{"first run", time.Time{}, now.Add(-(10*time.Hour + 5*time.Minute)), now},
		{"after an old day", now.AddDate(0, 0, -3), now.Add(-(10*time.Hour + 5*time.Minute)), now},
		{"a minute after a run", now.Add(-time.Minute), now.Add(-time.Minute + time.Microsecond), now},
		{"clock set back", now.Add(time.Hour), now.Add(time.Hour + time.Millisecond), now.Add(time.Hour + (10*60+5+1)*time.Millisecond)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := dayTimes(now, tc.newest)
			var prev time.Time
			for i, c := range clock {
				got := at(c[0], c[1])
				require.False(t, got.Before(prev), "time runs backwards at %v", c)
				require.True(t, got.After(tc.newest), "%v is not after the newest record", c)
				prev = got
				if i == 0 {
					require.Equal(t, tc.first, got)
				}
			}
			require.Equal(t, tc.last, prev)
		})
	}
}

// scripts are the scripts of the example servers, as their main functions
// set them.
var scripts = []Script{
	{Module: "AgentServer", Agent: "agent.smith", Channel: "voice", Setting: "max-agents"},
	{Module: "CEMServer", Agent: "agent.jones", Channel: "email", Setting: "mailbox-poll-seconds"},
	{Module: "BatchJobServer", Agent: "batch.operator", Channel: "sftp", Setting: "job-parallelism"},
}

// TestDay checks, through audittest, what a simulated day records: the
// failed logon of mallory, the agent's session, and nothing the mask leaves
// out.
func TestDay(t *testing.T) {
	for _, s := range scripts {
		t.Run(s.Module, func(t *testing.T) {
			l := audittest.New(t, audittest.WithModule(s.Module), audittest.WithMask(audit.DefaultMask|audit.ModifyEvents))
			n, err := day(l.Logger, s, dayTimes(time.Now(), time.Time{}))
			require.NoError(t, err)
			rs := l.Records()
			require.Len(t, rs, n)

			failed := rs.Type(audit.Logon).Outcome(audit.Failed)
			require.Len(t, failed, 1)
			require.Equal(t, "mallory", failed[0].Event.Actor)
			require.Equal(t, "203.0.113.9", failed[0].Event.Client)
			require.Equal(t, "invalid password", failed[0].Event.Reason)
			require.Equal(t, s.Module, failed[0].Module)

			agent := rs.Actor(s.Agent)
			require.Len(t, agent.Type(audit.Logon).Outcome(audit.Succeeded), 1)
			require.Len(t, agent.Type(audit.Logoff), 1)
			require.Len(t, rs.Type(audit.ChannelReject), 1)
			require.Equal(t, audit.Failed, rs.Type(audit.ChannelReject)[0].Event.Outcome)
			require.Len(t, rs.Type(audit.UserChange).Subject(s.Agent), 1)
			for i, r := range rs {
				require.Equal(t, uint64(i+1), r.Seq, "gapless sequence")
			}
		})
	}
}

// TestDayMask checks that the day's events outside the mask leave no
// record, while failures are still recorded under FailureEvents.
func TestDayMask(t *testing.T) {
	s := scripts[0]
	l := audittest.New(t, audittest.WithModule(s.Module), audittest.WithMask(audit.FailureEvents))
	n, err := day(l.Logger, s, dayTimes(time.Now(), time.Time{}))
	require.NoError(t, err)
	rs := l.Records()
	require.Len(t, rs, n)
	require.Len(t, rs, 2, "only the failed logon and the rejected channel: %q", l.Lines())
	require.Equal(t, []audit.EventType{audit.Logon, audit.ChannelReject}, []audit.EventType{rs[0].Event.Type, rs[1].Event.Type})
	require.Empty(t, rs.Outcome(audit.Succeeded))
}
