package audit

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRequestFields(t *testing.T) {
	var out bytes.Buffer
	l, err := New(Config{Module: "AgentServer", Output: &out, Now: fixedClock(day1, 0), EventMask: AllEvents})
	require.NoError(t, err)
	defer l.Close()
	ctx := WithRequest(context.Background(), Request{Actor: "alice", Client: "10.1.2.3"})
	ctx = WithRequest(ctx, Request{Session: "S-1"}) // adds to the fields already there

	// A DATA_READ needs an actor: the context's makes it valid.
	require.NoError(t, l.Log(ctx, Event{Type: DataRead, Outcome: Succeeded, Subject: "c-1"}))
	// The event's own fields win.
	require.NoError(t, l.Log(ctx, Event{Type: Logon, Outcome: Failed, Actor: "bob"}))
	// Without the context's fields the same event is invalid, filtered out or not.
	require.ErrorIs(t, l.Log(context.Background(), Event{Type: DataRead, Outcome: Succeeded, Subject: "c-1"}), ErrInvalidEvent)
	require.Equal(t,
		"2026-11-25T09:14:40.123456Z AgentServer DATA_READ SUCCESS seq=1 actor=alice subject=c-1 client=10.1.2.3 session=S-1\n"+
			"2026-11-25T09:14:40.123456Z AgentServer LOGON FAILURE seq=2 actor=bob client=10.1.2.3 session=S-1\n", out.String())

	r, ok := RequestFrom(ctx)
	require.True(t, ok)
	require.Equal(t, Request{Actor: "alice", Client: "10.1.2.3", Session: "S-1"}, r)
	_, ok = RequestFrom(context.Background())
	require.False(t, ok)
}

func TestRequestFieldsAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are not counted under -race")
	}
	l, err := New(Config{Module: "AgentServer", Output: &bytes.Buffer{}, EventMask: AllEvents})
	require.NoError(t, err)
	defer l.Close()
	plain := context.Background()
	withReq := WithRequest(plain, Request{Actor: "alice", Client: "10.1.2.3", Session: "S-1"})
	for name, ctx := range map[string]context.Context{"none": plain, "request": withReq} {
		allocs := testing.AllocsPerRun(100, func() {
			if err := l.Log(ctx, Event{Type: DataRead, Outcome: Succeeded, Actor: "a", Subject: "c-1"}); err != nil {
				t.Fatal(err)
			}
		})
		require.Zero(t, allocs, name)
	}
}
