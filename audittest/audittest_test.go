package audittest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/auditkit/audit"
	"github.com/stretchr/testify/require"
)

var testTime = time.Date(2026, 11, 25, 9, 14, 40, 123456000, time.UTC)

func fixedClock() time.Time { return testTime }

// fakeTB records what a Logger reports to its test, and runs the clean-ups
// when told.
type fakeTB struct {
	testing.TB
	errs     []string
	fatal    bool
	cleanups []func()
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	f.fatal = true
}

func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

// end runs the clean-ups as the end of a test does, last first.
func (f *fakeTB) end() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func TestLoggerRecords(t *testing.T) {
	ctx := context.Background()
	for _, format := range []string{audit.FormatBCM, audit.FormatJSON, audit.FormatCEF, audit.FormatOCSF} {
		t.Run(format, func(t *testing.T) {
			l := New(t, WithFormat(format), WithClock(fixedClock), WithModule("AgentServer"), WithMask(audit.AllEvents))
			require.NoError(t, l.Log(ctx, audit.Event{Type: audit.Logon, Outcome: audit.Failed, Actor: "mallory",
				Client: "203.0.113.9", Reason: "invalid password"}))
			require.NoError(t, l.Log(ctx, audit.Event{Type: audit.Logon, Outcome: audit.Succeeded, Actor: "alice", Client: "10.0.0.1"}))
			require.NoError(t, l.Log(ctx, audit.Event{Type: audit.AccessChange, Outcome: audit.Succeeded, Actor: "root", Subject: "alice",
				Object: "role", OldValue: "agent", NewValue: "supervisor"}))

			require.Equal(t, 3, l.Len())
			require.Len(t, l.Lines(), 3)
			rs := l.Records()
			require.Len(t, rs, 3)
			want := audit.Record{Seq: 1, Module: "AgentServer", Event: audit.Event{Time: testTime, Type: audit.Logon,
				Outcome: audit.Failed, Actor: "mallory", Client: "203.0.113.9", Reason: "invalid password"}}
			require.Equal(t, []audit.Record{want}, []audit.Record(rs.Type(audit.Logon).Outcome(audit.Failed).Actor("mallory")))
			require.Len(t, rs.Type(audit.Logon), 2)
			require.Len(t, rs.Outcome(audit.Succeeded), 2)
			require.Len(t, rs.Subject("alice"), 1)
			require.Empty(t, rs.Actor("bob"))
			require.Equal(t, []uint64{1, 2, 3}, []uint64{rs[0].Seq, rs[1].Seq, rs[2].Seq})
			require.Equal(t, want.Event, rs.Events()[0])
			require.Len(t, rs.Filter(func(r audit.Record) bool { return r.Event.OldValue != "" }), 1)
		})
	}
}

// TestLoggerMask checks that a filtered event leaves no record and an
// invalid one is refused, as by a real Logger.
func TestLoggerMask(t *testing.T) {
	ctx := context.Background()
	l := New(t, WithMask(audit.PresenceEvents))
	require.NoError(t, l.Log(ctx, audit.Event{Type: audit.DataRead, Outcome: audit.Succeeded, Actor: "a", Subject: "s"}))
	require.Zero(t, l.Len(), "a filtered event leaves no record")
	require.NoError(t, l.Log(ctx, audit.Event{Type: audit.DataRead, Outcome: audit.Failed, Actor: "a", Subject: "s"}),
		"a failure is written only under FailureEvents")
	require.Zero(t, l.Len())

	err := l.Log(ctx, audit.Event{Type: audit.Logon, Outcome: audit.Succeeded})
	require.ErrorIs(t, err, audit.ErrInvalidEvent)
	require.Zero(t, l.Len(), "an invalid event leaves no record")

	require.NoError(t, l.SetMask(audit.PresenceEvents|audit.ReadEvents, "admin"))
	require.NoError(t, l.Log(ctx, audit.Event{Type: audit.DataRead, Outcome: audit.Succeeded, Actor: "a", Subject: "s"}))
	rs := l.Records()
	require.Len(t, rs, 2)
	require.Equal(t, audit.AuditConfigChange, rs[0].Event.Type)
	require.Equal(t, audit.DataRead, rs[1].Event.Type)
	require.Equal(t, Module, rs[1].Module)
}

func TestLoggerConcurrent(t *testing.T) {
	l := New(t, WithFormat(audit.FormatJSON))
	const goroutines, each = 8, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				e := audit.Event{Type: audit.Logon, Outcome: audit.Succeeded, Actor: "user" + strconv.Itoa(g), Session: strconv.Itoa(i)}
				if err := l.Log(context.Background(), e); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	rs := l.Records()
	require.Len(t, rs, goroutines*each)
	for i, r := range rs {
		require.Equal(t, uint64(i+1), r.Seq)
	}
	require.Len(t, rs.Actor("user3"), each)
}

// TestLoggerCloseError checks that an error of Close fails the test.
func TestLoggerCloseError(t *testing.T) {
	tb := &fakeTB{}
	l := New(tb)
	require.NotNil(t, l)
	l.out.syncErr = errors.New("disk gone")
	tb.end()
	require.Len(t, tb.errs, 1)
	require.Contains(t, tb.errs[0], "audittest: close: ")
	require.Contains(t, tb.errs[0], "disk gone")
	require.False(t, tb.fatal)
}

// TestLoggerCloseTwice checks that a test may close the Logger itself.
func TestLoggerCloseTwice(t *testing.T) {
	tb := &fakeTB{}
	l := New(tb)
	require.NoError(t, l.Close())
	tb.end()
	require.Empty(t, tb.errs)
}

func TestLoggerBadConfig(t *testing.T) {
	tb := &fakeTB{}
	l := New(tb, WithModule("bad module"))
	require.Nil(t, l)
	require.True(t, tb.fatal)
	require.Contains(t, tb.errs[0], "audittest: audit: module")

	tb = &fakeTB{}
	require.Nil(t, New(tb, WithFormat("XML")))
	require.True(t, tb.fatal)
	require.Contains(t, tb.errs[0], "unknown formatter")
}

// TestLoggerUnreadableLine checks that a line that does not read back fails
// the test, from Records and at the end of the test.
func TestLoggerUnreadableLine(t *testing.T) {
	tb := &fakeTB{}
	l := New(tb, WithConfig(func(c *audit.Config) { c.Failure = audit.FailClosed }))
	require.NoError(t, l.Log(context.Background(), audit.Event{Type: audit.ServerStart, Outcome: audit.Succeeded}))
	l.out.buf.WriteString("not a record\n")
	rs := l.Records()
	require.Len(t, rs, 1)
	require.Len(t, tb.errs, 1)
	require.Contains(t, tb.errs[0], "audittest: line 2 does not read back")
	tb.end()
	require.Len(t, tb.errs, 2)
}

// prefixed is a format of the module's own: BCM after "AUDIT ", with a
// parser.
type prefixed struct{}

func (prefixed) Append(dst []byte, r *audit.Record) ([]byte, error) {
	bcm, _ := audit.LookupFormatter(audit.FormatBCM)
	return bcm.Append(append(dst, "AUDIT "...), r)
}

func (prefixed) Parse(line []byte) (audit.Record, error) {
	rest, ok := bytes.CutPrefix(line, []byte("AUDIT "))
	if !ok {
		return audit.Record{}, fmt.Errorf("want AUDIT: %w", audit.ErrBadRecord)
	}
	return audit.ParseBCM(rest)
}

// unreadable is a format without a parser.
type unreadable struct{}

func (unreadable) Append(dst []byte, r *audit.Record) ([]byte, error) {
	return append(dst, r.Event.Type.String()...), nil
}

var registerOnce sync.Once

func registerTestFormats(t *testing.T) {
	registerOnce.Do(func() {
		require.NoError(t, audit.RegisterFormatter("audittest-prefixed", prefixed{}))
		require.NoError(t, audit.RegisterFormatter("audittest-unreadable", unreadable{}))
	})
}

// TestLoggerOwnFormat checks that the records of a registered format are
// read back with its own parser.
func TestLoggerOwnFormat(t *testing.T) {
	registerTestFormats(t)
	tb := &fakeTB{}
	l := New(tb, WithFormat("Audittest-Prefixed"), WithClock(fixedClock))
	require.NoError(t, l.Log(context.Background(), audit.Event{Type: audit.Logon, Outcome: audit.Failed, Actor: "mallory"}))
	require.Equal(t, []string{"AUDIT 2026-11-25T09:14:40.123456Z Test LOGON FAILURE seq=1 actor=mallory"}, l.Lines())
	rs := l.Records()
	require.Empty(t, tb.errs)
	require.Len(t, rs.Type(audit.Logon).Actor("mallory"), 1)
	tb.end()
	require.Empty(t, tb.errs)
}

// TestLoggerUnreadableFormat checks that Records of a format without a
// parser fails the test saying so, once, and that the end of the test
// does not.
func TestLoggerUnreadableFormat(t *testing.T) {
	registerTestFormats(t)
	tb := &fakeTB{}
	l := New(tb, WithFormat("audittest-unreadable"))
	require.NoError(t, l.Log(context.Background(), audit.Event{Type: audit.ServerStart, Outcome: audit.Succeeded}))
	require.NoError(t, l.Log(context.Background(), audit.Event{Type: audit.ServerStop, Outcome: audit.Succeeded}))
	require.Equal(t, []string{"SERVER_START", "SERVER_STOP"}, l.Lines())
	require.Empty(t, l.Records())
	require.Len(t, tb.errs, 1)
	require.Contains(t, tb.errs[0], `audittest: format "audittest-unreadable" cannot be read back`)
	tb.end()
	require.Len(t, tb.errs, 1)
}
