package audit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// builderCase is one event given both ways: as an Event for Log and as the
// calls of an EventBuilder.
type builderCase struct {
	name  string
	event Event
	build func(b EventBuilder) EventBuilder
}

// builderCases returns events of every type and outcome that callers log,
// with every standard field, with none, and with each required field
// missing in turn, plus extra fields and times good and bad.
func builderCases() []builderCase {
	var cases []builderCase
	at := time.Date(2026, 11, 30, 8, 0, 0, 1500, time.UTC)
	for t := EventType(0); t <= numEventTypes; t++ {
		for _, o := range []Outcome{0, Succeeded, Failed, 7} {
			full := Event{Type: t, Outcome: o, Actor: "alice", Subject: "bob", Object: "agent-desktop",
				OldValue: "old", NewValue: "new", Client: "10.1.2.3", Session: "S-1", Reason: "why"}
			cases = append(cases,
				builderCase{t.String() + "/" + o.String() + "/full", full, func(b EventBuilder) EventBuilder {
					return b.Actor("alice").Subject("bob").Object("agent-desktop").Change("old", "new").
						Client("10.1.2.3").Session("S-1").Reason("why")
				}},
				builderCase{t.String() + "/" + o.String() + "/bare", Event{Type: t, Outcome: o},
					func(b EventBuilder) EventBuilder { return b }})
			for _, missing := range []string{"actor", "subject", "object", "client"} {
				e := full
				switch missing {
				case "actor":
					e.Actor = ""
				case "subject":
					e.Subject = ""
				case "object":
					e.Object = ""
				case "client":
					e.Client = ""
				}
				cases = append(cases, builderCase{t.String() + "/" + o.String() + "/no " + missing, e,
					func(b EventBuilder) EventBuilder {
						return b.Actor(e.Actor).Subject(e.Subject).Object(e.Object).Change(e.OldValue, e.NewValue).
							Client(e.Client).Session(e.Session).Reason(e.Reason)
					}})
			}
		}
	}
	withFields := func(name string, keys ...string) builderCase {
		e := Event{Type: DataRead, Outcome: Succeeded, Actor: "agent7", Subject: "customer-42"}
		for _, k := range keys {
			e.AddField(k, "v-"+k)
		}
		return builderCase{name, e, func(b EventBuilder) EventBuilder {
			b = b.Actor("agent7").Subject("customer-42")
			for _, k := range keys {
				b = b.Field(k, "v-"+k)
			}
			return b
		}}
	}
	withTime := func(name string, t time.Time) builderCase {
		return builderCase{name, Event{Type: DataRead, Outcome: Succeeded, Actor: "agent7", Subject: "customer-42", Time: t},
			func(b EventBuilder) EventBuilder { return b.Time(t).Actor("agent7").Subject("customer-42") }}
	}
	return append(cases,
		withFields("fields", "tenant", "queue"),
		withFields("six fields", "a", "b", "c", "d", "e", "f"),
		withFields("bad key", "tenant", "bad key"),
		withFields("standard key", "Actor"),
		withFields("repeated key", "tenant", "queue", "tenant"),
		withFields("repeated key past four", "a", "b", "c", "d", "e", "a"),
		withTime("time", at),
		withTime("time before year 0", time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)),
		withTime("time after 9999", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)),
	)
}

// TestEventBuilderMatchesLog checks that an EventBuilder writes the same
// records and returns the same errors as Log given the same event, under
// masks that let each event through or filter it out.
func TestEventBuilderMatchesLog(t *testing.T) {
	clock := func() time.Time { return benchTime }
	masks := []Mask{DefaultMask, AllEvents, PresenceEvents, ReadEvents, SystemEvents}
	for _, format := range []string{FormatBCM, FormatJSON} {
		for _, m := range masks {
			var viaLog, viaBuilder bytes.Buffer
			ll, err := New(Config{Module: "AgentServer", Formatter: format, EventMask: m, Output: &viaLog, Now: clock})
			require.NoError(t, err)
			lb, err := New(Config{Module: "AgentServer", Formatter: format, EventMask: m, Output: &viaBuilder, Now: clock})
			require.NoError(t, err)
			ctx := context.Background()
			for _, c := range builderCases() {
				errLog := ll.Log(ctx, c.event)
				errBuilder := c.build(lb.Event(c.event.Type, c.event.Outcome)).Log(ctx)
				if errLog == nil {
					require.NoError(t, errBuilder, "%s %s %s", format, m, c.name)
				} else {
					require.EqualError(t, errBuilder, errLog.Error(), "%s %s %s", format, m, c.name)
					require.ErrorIs(t, errBuilder, ErrInvalidEvent)
				}
				require.Equal(t, viaLog.String(), viaBuilder.String(), "%s %s %s", format, m, c.name)
			}
			require.Equal(t, ll.Stats().Invalid, lb.Stats().Invalid)
			require.NoError(t, ll.Close())
			require.NoError(t, lb.Close())
			require.NotEmpty(t, viaBuilder.String())
		}
	}
}

// TestEventBuilderFilteredChecks checks the cases of a filtered-out event
// that a builder cannot simply accept: it is checked whatever the mask.
func TestEventBuilderFilteredChecks(t *testing.T) {
	var out bytes.Buffer
	l, err := New(Config{Module: "AgentServer", Output: &out})
	require.NoError(t, err)
	defer l.Close()
	ctx := context.Background()
	require.False(t, l.Enabled(DataRead, Succeeded))

	err = l.Event(DataRead, Succeeded).Subject("customer-42").Log(ctx)
	require.ErrorIs(t, err, ErrInvalidEvent)
	require.ErrorContains(t, err, "field actor is required")

	err = l.Event(DataRead, Succeeded).Actor("agent7").Subject("").Log(ctx)
	require.ErrorContains(t, err, "field subject is required")

	// The request in the context gives the actor, as it would to Log.
	rctx := WithRequest(ctx, Request{Actor: "agent7"})
	require.NoError(t, l.Event(DataRead, Succeeded).Subject("customer-42").Log(rctx))

	err = l.Event(DataRead, Succeeded).Actor("agent7").Subject("customer-42").Field("x", "1").Field("x", "2").Log(ctx)
	require.ErrorContains(t, err, `extra field "x" is repeated`)

	// A failed event that the mask filters out (no failure category) is
	// checked too.
	require.NoError(t, l.SetMask(PresenceEvents, "test"))
	require.False(t, l.Enabled(DataRead, Failed))
	err = l.Event(DataRead, Failed).Actor("agent7").Log(ctx)
	require.ErrorContains(t, err, "field subject is required")
	require.NoError(t, l.Event(DataRead, Failed).Actor("agent7").Subject("customer-42").Log(ctx))

	require.Equal(t, uint64(4), l.Stats().Invalid)
	require.NotContains(t, out.String(), "DATA_READ")
}

// TestEventBuilderUsedOnce checks that a copy of a builder that was logged
// neither writes a second record nor changes another builder's event.
func TestEventBuilderUsedOnce(t *testing.T) {
	var out bytes.Buffer
	l, err := New(Config{Module: "AgentServer", Output: &out, Now: func() time.Time { return benchTime }})
	require.NoError(t, err)
	defer l.Close()
	ctx := context.Background()

	b := l.Event(Logon, Failed).Actor("alice")
	require.NoError(t, b.Log(ctx))
	err = b.Log(ctx)
	require.ErrorIs(t, err, ErrInvalidEvent)
	require.ErrorContains(t, err, "builder used after its Log")

	// The pool hands b's event to the next builder: a setter on stale b
	// must not reach it.
	next := l.Event(Logon, Failed).Actor("bob")
	b.Actor("mallory").Reason("forged").Field("x", "y")
	require.NoError(t, next.Log(ctx))
	require.Equal(t, 2, bytes.Count(out.Bytes(), []byte("\n")))
	require.NotContains(t, out.String(), "mallory")
	require.NotContains(t, out.String(), "forged")
	require.Contains(t, out.String(), "actor=bob")

	var zero EventBuilder
	require.ErrorIs(t, zero.Actor("x").Log(ctx), ErrInvalidEvent)
}

// TestEventBuilderAfterClose checks that a builder made after Close
// returns ErrClosed, as Log does, for filtered-out events too.
func TestEventBuilderAfterClose(t *testing.T) {
	l, err := New(Config{Module: "AgentServer", Output: io.Discard})
	require.NoError(t, err)
	require.NoError(t, l.Close())
	ctx := context.Background()
	require.ErrorIs(t, l.Event(Logon, Failed).Actor("alice").Log(ctx), ErrClosed)
	require.ErrorIs(t, l.Event(DataRead, Succeeded).Actor("a").Subject("b").Log(ctx), ErrClosed)
	// An invalid event is reported as invalid first, as by Log.
	require.ErrorIs(t, l.Event(DataRead, Succeeded).Log(ctx), ErrInvalidEvent)
}

// TestEventBuilderAllocs checks that a builder allocates nothing, filtered
// out or written.
func TestEventBuilderAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are not counted under -race")
	}
	l, err := New(Config{Module: "AgentServer", Output: io.Discard})
	require.NoError(t, err)
	defer l.Close()
	ctx := context.Background()
	filtered := testing.AllocsPerRun(1000, func() {
		if err := l.Event(DataRead, Succeeded).Actor("agent7").Subject("customer-42").Session("S-1").Log(ctx); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, filtered)
	written := testing.AllocsPerRun(1000, func() {
		if err := l.Event(Logon, Failed).Actor("alice").Client("10.1.2.3").Field("tenant", "north").Log(ctx); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, written)
}

// TestEventBuilderConcurrent logs through builders from many goroutines:
// every record is written once, in sequence, with its own fields.
func TestEventBuilderConcurrent(t *testing.T) {
	var out bytes.Buffer
	l, err := New(Config{Module: "AgentServer", Output: &out})
	require.NoError(t, err)
	const goroutines, each = 8, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				actor := string(rune('a'+g)) + "-" + string(rune('A'+i%26))
				if err := l.Event(Logon, Failed).Actor(actor).Reason(actor).Log(context.Background()); err != nil {
					t.Error(err)
				}
				if err := l.Event(DataRead, Succeeded).Actor(actor).Subject("s").Log(context.Background()); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, l.Close())
	lines := bytes.Split(bytes.TrimSuffix(out.Bytes(), []byte("\n")), []byte("\n"))
	require.Len(t, lines, goroutines*each)
	for i, line := range lines {
		r, err := ParseBCM(line)
		require.NoError(t, err)
		require.Equal(t, uint64(i+1), r.Seq)
		require.Equal(t, r.Event.Actor, r.Event.Reason, "fields of two builders mixed")
	}
}

// TestEventBuilderErrors checks that errors from a builder are those of
// Log and can be told apart with errors.Is.
func TestEventBuilderErrors(t *testing.T) {
	l, err := New(Config{Module: "AgentServer", Output: io.Discard})
	require.NoError(t, err)
	defer l.Close()
	err = l.Event(EventType(200), Succeeded).Log(context.Background())
	require.ErrorIs(t, err, ErrUnknownEventType)
	require.True(t, errors.Is(err, ErrInvalidEvent))
	err = l.Event(Logon, 0).Actor("alice").Log(context.Background())
	require.ErrorContains(t, err, "field outcome is required")
}
