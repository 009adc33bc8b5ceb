package audit

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLogAllocatesNothing pins the allocations of Log at zero: a
// filtered-out event, an event written to a stream, and an event written
// to a real file under each sync policy, SyncEveryEvent's fdatasync and
// its check that the file is still in place included.
func TestLogAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are not counted under -race")
	}
	ctx := context.Background()
	cases := []struct {
		name string
		cfg  Config
		e    Event
	}{
		{"filtered", Config{Output: io.Discard}, Event{Type: DataRead, Outcome: Succeeded, Actor: "a", Subject: "b"}},
		{"stream", Config{Output: io.Discard}, benchEvent()},
		{"file write", Config{AuditLogPath: t.TempDir()}, benchEvent()},
		{"file every", Config{AuditLogPath: t.TempDir(), Sync: SyncEveryEvent}, benchEvent()},
		{"file sealed", Config{AuditLogPath: t.TempDir(), Integrity: true}, benchEvent()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Module = "AgentServer"
			l, err := New(c.cfg)
			require.NoError(t, err)
			defer l.Close()
			allocs := testing.AllocsPerRun(200, func() {
				if err := l.Log(ctx, c.e); err != nil {
					t.Fatal(err)
				}
			})
			require.Zero(t, allocs)
		})
	}
}
