package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// gateWriter is an Output whose Write blocks until the test opens the gate,
// and then fails while fail is set. Its channels belong to the synctest
// bubble that made it, so a goroutine blocked in Write is durably blocked.
type gateWriter struct {
	entered chan struct{} // receives once per Write that reached the gate
	gate    chan struct{} // closed to let writes through

	mu   sync.Mutex
	buf  bytes.Buffer
	fail bool
}

func newGateWriter() *gateWriter {
	return &gateWriter{entered: make(chan struct{}, 64), gate: make(chan struct{})}
}

func (w *gateWriter) Write(p []byte) (int, error) {
	w.entered <- struct{}{}
	<-w.gate
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail {
		return 0, errDisk
	}
	return w.buf.Write(p)
}

func (w *gateWriter) open()             { close(w.gate) }
func (w *gateWriter) setFail(fail bool) { w.mu.Lock(); w.fail = fail; w.mu.Unlock() }
func (w *gateWriter) bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.buf.Bytes())
}

// errorLog collects the errors given to OnError.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (e *errorLog) add(err error) { e.mu.Lock(); e.errs = append(e.errs, err); e.mu.Unlock() }
func (e *errorLog) all() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.errs...)
}

// TestSetMaskRecordsFirst checks that the new mask takes effect only once
// its AUDIT_CONFIG_CHANGE record is written: while the record's write is
// blocked, the old mask filters; a failed record leaves the old mask.
func TestSetMaskRecordsFirst(t *testing.T) {
	ctx := context.Background()
	synctest.Test(t, func(t *testing.T) {
		w := newGateWriter()
		l := newTestLogger(t, Config{Output: w})
		done := make(chan error)
		go func() { done <- l.SetMask(DefaultMask|ReadEvents, "admin") }()
		<-w.entered // the record is being written
		require.Equal(t, DefaultMask, l.Mask(), "the mask changes only after its record is written")
		require.False(t, l.Enabled(DataRead, Succeeded))
		require.NoError(t, l.Log(ctx, Event{Type: DataRead, Actor: "agent7", Subject: "customer-42"}))
		require.Equal(t, uint64(1), l.Stats().Filtered, "filtered by the mask in force")
		w.open()
		require.NoError(t, <-done)
		require.Equal(t, DefaultMask|ReadEvents, l.Mask())
		recs := parseLines(t, w.bytes())
		require.Len(t, recs, 1)
		require.Equal(t, AuditConfigChange, recs[0].Event.Type)
	})
	for _, policy := range []FailurePolicy{FailClosed, FailOpen} {
		t.Run("failed record "+policy.String(), func(t *testing.T) {
			w := &failingWriter{}
			var errs errorLog
			l := newTestLogger(t, Config{Output: w, Failure: policy, OnError: errs.add})
			w.setFail(true)
			err := l.SetMask(AllEvents, "admin")
			require.ErrorIs(t, err, errDisk, "a mask change that is not recorded is refused under either policy")
			require.Equal(t, DefaultMask, l.Mask())
			require.False(t, l.Enabled(DataRead, Succeeded))
			require.Equal(t, uint64(1), l.Stats().Dropped)
			require.NotEmpty(t, errs.all())
			w.setFail(false)
			require.NoError(t, l.SetMask(AllEvents, "admin"))
			require.Equal(t, AllEvents, l.Mask())
		})
	}
}

// TestSyncRacingClose checks that a Sync that waits for the output while
// Close takes it returns ErrClosed instead of waiting for ever. Inside a synctest bubble a hang is a
// deadlock that fails the test at once. Every other iteration runs on one
// processor, where Close, woken last, runs first.
func TestSyncRacingClose(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	for i := range 300 {
		runtime.GOMAXPROCS(1 + i%2*(procs-1))
		synctest.Test(t, func(t *testing.T) {
			w := newGateWriter()
			l, err := New(Config{Module: "AgentServer", Output: w})
			require.NoError(t, err)
			logged := make(chan error, 1)
			go func() { logged <- l.Log(context.Background(), Event{Type: ServerStart}) }()
			<-w.entered // the Log owns the output
			synced := make(chan error, 1)
			go func() { synced <- l.Sync() }()
			synctest.Wait() // Sync waits for the output
			closed := make(chan error, 1)
			go func() { closed <- l.Close() }()
			synctest.Wait() // so does Close
			w.open()
			require.NoError(t, <-closed)
			require.NoError(t, <-logged)
			require.ErrorIs(t, <-synced, ErrClosed, "iteration %d: Close began while Sync waited", i)
			require.ErrorIs(t, l.Sync(), ErrClosed)
		})
	}
}

// TestLogAfterClose checks that every Log after Close returns ErrClosed,
// whether the mask would write the event or not.
func TestLogAfterClose(t *testing.T) {
	var out bytes.Buffer
	l, err := New(Config{Module: "AgentServer", Output: &out})
	require.NoError(t, err)
	require.NoError(t, l.Close())
	ctx := context.Background()
	for _, e := range []Event{
		{Type: ServerStop}, // written by the default mask
		{Type: DataRead, Actor: "agent7", Subject: "customer-42"},  // filtered out
		{Type: UserChange, Actor: "admin", Subject: "agent.smith"}, // filtered out
	} {
		err := l.Log(ctx, e)
		require.ErrorIs(t, err, ErrClosed, "%v", e.Type)
		require.ErrorContains(t, err, e.Type.String())
	}
	require.Zero(t, l.Stats().Filtered)
	require.False(t, l.Enabled(DataRead, Succeeded))
	require.True(t, l.Enabled(ServerStop, Succeeded), "Enabled still reports the mask")
}

// TestLogContextBoundsWaiting checks what ctx means: a Log that must wait
// for another goroutine's write returns when ctx ends, with an error that
// wraps ctx.Err(), and its record is still written.
func TestLogContextBoundsWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newGateWriter()
		l, err := New(Config{Module: "AgentServer", Output: w})
		require.NoError(t, err)
		first := make(chan error)
		go func() { first <- l.Log(context.Background(), Event{Type: ServerStart}) }()
		<-w.entered // the first Log writes, blocked

		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		err = l.Log(ctx, Event{Type: Logon, Outcome: Failed, Actor: "mallory"})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorContains(t, err, "not known yet")
		require.ErrorContains(t, err, "LOGON")
		require.Equal(t, 100*time.Millisecond, time.Since(start), "Log returned at the deadline (the bubble's clock)")
		require.Zero(t, l.Stats().Written)

		// The record is not cancelled: the first Log's goroutine writes it
		// when it releases the output.
		w.open()
		require.NoError(t, <-first)
		recs := parseLines(t, w.bytes())
		require.Len(t, recs, 2)
		require.Equal(t, Logon, recs[1].Event.Type)
		require.Equal(t, "mallory", recs[1].Event.Actor)
		require.Equal(t, uint64(2), l.Stats().Written)
		require.NoError(t, l.Close())
	})
}

// TestLogContextAbandonedFailure checks that a record whose Log stopped
// waiting is counted as dropped and reported through OnError when its
// write fails, and that under FailOpen Log returns nil when ctx ends.
func TestLogContextAbandonedFailure(t *testing.T) {
	for _, policy := range []FailurePolicy{FailClosed, FailOpen} {
		t.Run(policy.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newGateWriter()
				var errs errorLog
				l, err := New(Config{Module: "AgentServer", Output: w, Failure: policy, OnError: errs.add})
				require.NoError(t, err)
				first := make(chan error)
				go func() { first <- l.Log(context.Background(), Event{Type: ServerStart}) }()
				<-w.entered

				ctx, cancel := context.WithCancel(context.Background())
				second := make(chan error)
				go func() { second <- l.Log(ctx, Event{Type: Logoff, Actor: "alice"}) }()
				synctest.Wait() // the second Log waits
				cancel()
				err = <-second
				if policy == FailOpen {
					require.NoError(t, err)
				} else {
					require.ErrorIs(t, err, context.Canceled)
				}

				w.setFail(true)
				w.open()
				firstErr := <-first
				if policy == FailOpen {
					require.NoError(t, firstErr)
				} else {
					require.ErrorIs(t, firstErr, errDisk)
				}
				st := l.Stats()
				require.Equal(t, uint64(2), st.Dropped, "both records are counted")
				require.Zero(t, st.Written)
				var reported bool
				for _, err := range errs.all() {
					if errors.Is(err, errDisk) && bytes.Contains([]byte(err.Error()), []byte("LOGOFF event dropped")) {
						reported = true
					}
				}
				require.True(t, reported, "the abandoned record's failure is reported: %v", errs.all())
				require.NoError(t, l.Close())
			})
		})
	}
}

// TestLogContextDoneWritesItself checks that a Log whose ctx is already done
// still writes its record when nobody else is writing, and returns the real
// outcome.
func TestLogContextDoneWritesItself(t *testing.T) {
	w := &failingWriter{}
	l := newTestLogger(t, Config{Output: w})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, l.Log(ctx, Event{Type: Logon, Actor: "alice"}))
	w.setFail(true)
	require.ErrorIs(t, l.Log(ctx, Event{Type: Logon, Actor: "bob"}), errDisk, "the real outcome, not ctx's error")
	require.Equal(t, uint64(1), l.Stats().Written)
}

// TestLogContextAllocs checks that a ctx without a Done channel costs no
// allocation, for records written and filtered out.
func TestLogContextAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	l := newTestLogger(t, Config{Output: io.Discard})
	ctx := context.Background()
	for _, e := range []Event{benchEvent(), {Type: DataRead, Actor: "agent7", Subject: "customer-42"}} {
		allocs := testing.AllocsPerRun(100, func() {
			if err := l.Log(ctx, e); err != nil {
				t.Fatal(err)
			}
		})
		require.Zero(t, allocs, "%v", e.Type)
	}
}

// TestLogValidatesFilteredEvents checks that an invalid event is refused
// whatever the mask, so that raising the mask never starts refusing events
// that were accepted before, and that it is counted as invalid, not
// filtered.
func TestLogValidatesFilteredEvents(t *testing.T) {
	ctx := context.Background()
	withField := Event{Type: DataRead, Actor: "agent7", Subject: "customer-42"}
	withField.AddField("seq", "1") // a standard key
	invalid := []Event{
		{Type: DataRead, Actor: "agent7"},                                     // no Subject
		{Type: UserChange, Subject: "agent.smith"},                            // no Actor
		{Type: NoConsentOverride, Actor: "agent.smith"},                       // no Object
		{Type: ChannelOpen},                                                   // no Client
		{Type: SystemConfigChange},                                            // no Object
		{Type: DataRead, Outcome: 7, Actor: "agent7", Subject: "customer-42"}, // bad outcome
		withField,
		{Type: Checkpoint}, // the library's own
	}
	for _, m := range []Mask{PresenceEvents, SystemEvents, DefaultMask, AllEvents} {
		var out bytes.Buffer
		l := newTestLogger(t, Config{Output: &out, EventMask: m})
		for _, e := range invalid {
			require.ErrorIs(t, l.Log(ctx, e), ErrInvalidEvent, "mask %v, %+v", m, e)
		}
		st := l.Stats()
		require.Equal(t, uint64(len(invalid)), st.Invalid, "mask %v", m)
		require.Zero(t, st.Filtered, "mask %v", m)
		require.Zero(t, out.Len())
	}
	// A valid event with extra fields is filtered or written as usual.
	good := Event{Type: DataRead, Actor: "agent7", Subject: "customer-42"}
	good.AddField("ticket", "T-1")
	var out bytes.Buffer
	l := newTestLogger(t, Config{Output: &out})
	require.NoError(t, l.Log(ctx, good))
	require.Equal(t, uint64(1), l.Stats().Filtered)
	require.NoError(t, l.SetMask(AllEvents, "admin"))
	require.NoError(t, l.Log(ctx, good))
	require.Equal(t, uint64(2), l.Stats().Written)
}

// TestEventValid checks that the fast check never accepts an event that
// Validate refuses.
func TestEventValid(t *testing.T) {
	times := []time.Time{{}, day1, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}
	for typ := EventType(0); typ <= numEventTypes; typ++ {
		for _, o := range []Outcome{Succeeded, Failed, 2} {
			for fields := range 16 {
				for _, tm := range times {
					e := Event{Type: typ, Outcome: o, Time: tm}
					if fields&1 != 0 {
						e.Actor = "a"
					}
					if fields&2 != 0 {
						e.Subject = "s"
					}
					if fields&4 != 0 {
						e.Object = "o"
					}
					if fields&8 != 0 {
						e.Client = "c"
					}
					err := e.Validate()
					require.Equal(t, err == nil, e.valid(), "%+v: %v", e, err)
				}
			}
		}
	}
}

// TestLogContextSharedBatch checks a record abandoned in a batch that
// another waiter writes: that writer accounts for it.
func TestLogContextSharedBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newGateWriter()
		l, err := New(Config{Module: "AgentServer", Output: w})
		require.NoError(t, err)
		first := make(chan error)
		go func() { first <- l.Log(context.Background(), Event{Type: ServerStart}) }()
		<-w.entered // the first batch is being written

		// Two records gather into the next batch; one caller gives up.
		second := make(chan error)
		go func() { second <- l.Log(context.Background(), Event{Type: Logon, Actor: "alice"}) }()
		synctest.Wait()
		ctx, cancel := context.WithCancel(context.Background())
		third := make(chan error)
		go func() { third <- l.Log(ctx, Event{Type: Logon, Actor: "bob"}) }()
		synctest.Wait()
		cancel()
		require.ErrorIs(t, <-third, context.Canceled)

		w.open()
		require.NoError(t, <-first)
		require.NoError(t, <-second)
		require.NoError(t, l.Close())
		recs := parseLines(t, w.bytes())
		require.Len(t, recs, 3)
		require.Equal(t, []string{"", "alice", "bob"}, []string{recs[0].Event.Actor, recs[1].Event.Actor, recs[2].Event.Actor})
		st := l.Stats()
		require.Equal(t, uint64(3), st.Written)
		require.Zero(t, st.Dropped)
	})
}

// bufSyncer is an Output that keeps what is written and can be synced.
type bufSyncer struct {
	buf   bytes.Buffer
	syncs int
}

func (b *bufSyncer) Write(p []byte) (int, error) { return b.buf.Write(p) }
func (b *bufSyncer) Sync() error                 { b.syncs++; return nil }

// TestLogContextConcurrent has many goroutines log with deadlines short
// enough that some give up waiting: every record is still written exactly
// once, and counted once.
func TestLogContextConcurrent(t *testing.T) {
	const goroutines, perG = 16, 300
	for _, policy := range []SyncPolicy{SyncWriteThrough, SyncEveryEvent} {
		t.Run(policy.String(), func(t *testing.T) {
			w := &bufSyncer{}
			l, err := New(Config{Module: "AgentServer", Output: w, Sync: policy})
			require.NoError(t, err)
			var wg sync.WaitGroup
			var mu sync.Mutex
			gaveUp := 0
			for g := range goroutines {
				wg.Go(func() {
					for i := range perG {
						ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%7)*time.Microsecond)
						err := l.Log(ctx, Event{Type: Logon, Actor: fmt.Sprintf("user-%d-%d", g, i)})
						cancel()
						if err != nil {
							require.ErrorIs(t, err, context.DeadlineExceeded)
							mu.Lock()
							gaveUp++
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			require.NoError(t, l.Close())
			recs := parseLines(t, w.buf.Bytes())
			seen := make(map[string]int)
			for _, r := range recs {
				seen[r.Event.Actor]++
			}
			require.Len(t, seen, goroutines*perG, "every record written (%d callers gave up waiting)", gaveUp)
			for actor, n := range seen {
				require.Equal(t, 1, n, actor)
			}
			st := l.Stats()
			require.Equal(t, uint64(goroutines*perG), st.Written)
			require.Zero(t, st.Dropped)
			t.Logf("%d of %d callers gave up waiting", gaveUp, goroutines*perG)
		})
	}
}
