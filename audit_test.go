package audit

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// fixedClock returns a clock that starts at t and advances by step on each
// call.
func fixedClock(t time.Time, step time.Duration) func() time.Time {
	var mu sync.Mutex
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now := t
		t = t.Add(step)
		return now
	}
}

var day1 = time.Date(2026, 11, 25, 9, 14, 40, 123456000, time.UTC)

// readRecords parses every line of the file at path.
func readRecords(t *testing.T, path string) []Record {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return parseLines(t, data)
}

func parseLines(t *testing.T, data []byte) []Record {
	t.Helper()
	var recs []Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, MaxRecordSize+1)
	for sc.Scan() {
		r, err := ParseRecord(sc.Bytes())
		require.NoError(t, err, "line %q", sc.Text())
		recs = append(recs, r)
	}
	require.NoError(t, sc.Err())
	if len(data) > 0 {
		require.Equal(t, byte('\n'), data[len(data)-1], "file ends in a complete line")
	}
	return recs
}

func newTestLogger(t *testing.T, cfg Config) *Logger {
	t.Helper()
	if cfg.Module == "" {
		cfg.Module = "AgentServer"
	}
	if cfg.AuditLogPath == "" && cfg.LogPath == "" && cfg.Output == nil {
		cfg.AuditLogPath = t.TempDir()
	}
	l, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

func TestLoggerWritesRecords(t *testing.T) {
	for _, format := range []string{"", "bcm", "JSON"} {
		t.Run("format="+format, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "audit")
			l := newTestLogger(t, Config{AuditLogPath: dir, Formatter: format, Now: fixedClock(day1, time.Second)})
			ctx := context.Background()
			events := []Event{
				{Type: ServerStart, Actor: "AgentServer"},
				{Type: Logon, Actor: "alice", Client: "10.1.2.3:5060", Session: "S-1"},
				{Type: Logon, Outcome: Failed, Actor: "mallory", Client: "10.9.9.9", Reason: "bad password"},
				{Type: ChannelReject, Client: "10.9.9.9:5061", Reason: "too many channels"},
				{Type: SystemConfigChange, Actor: "admin", Object: "max-agents", OldValue: "10", NewValue: "20"},
			}
			for _, e := range events {
				require.NoError(t, l.Log(ctx, e))
			}
			path := l.Path()
			require.Equal(t, filepath.Join(dir, "AgentServer.audit.log"), path)
			require.NoError(t, l.Close())

			recs := readRecords(t, path)
			require.Len(t, recs, len(events))
			for i, r := range recs {
				want := events[i]
				want.Time = day1.Add(time.Duration(i) * time.Second).Truncate(time.Microsecond)
				if want.Type == ChannelReject {
					want.Outcome = Failed
				}
				require.Equal(t, uint64(i+1), r.Seq)
				require.Equal(t, "AgentServer", r.Module)
				require.Equal(t, want, r.Event)
			}
			fi, err := os.Stat(path)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
			di, err := os.Stat(dir)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o750), di.Mode().Perm())
		})
	}
}

func TestLoggerDirectory(t *testing.T) {
	trace := t.TempDir()
	l := newTestLogger(t, Config{LogPath: trace})
	require.Equal(t, filepath.Join(trace, "AgentServer.audit.log"), l.Path(), "LogPath is used when AuditLogPath is unset")

	auditDir := t.TempDir()
	l2 := newTestLogger(t, Config{Module: "CEMServer", LogPath: trace, AuditLogPath: auditDir})
	require.Equal(t, filepath.Join(auditDir, "CEMServer.audit.log"), l2.Path(), "AuditLogPath wins")
}

func TestNewErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain-file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	tests := []struct {
		name    string
		cfg     Config
		is      error
		wantErr string
	}{
		{"no path", Config{Module: "AgentServer"}, ErrBadConfig, "neither AuditLogPath nor LogPath"},
		{"no module", Config{LogPath: "x"}, ErrBadConfig, "module"},
		{"module with space", Config{Module: "Agent Server", LogPath: "x"}, ErrBadConfig, `"Agent Server"`},
		{"module with slash", Config{Module: "../etc", LogPath: "x"}, ErrBadConfig, "module"},
		{"unknown formatter", Config{Module: "A", LogPath: "x", Formatter: "xml"}, ErrUnknownFormatter, `"xml"`},
		{"bad mask bits", Config{Module: "A", LogPath: "x", EventMask: 0x80}, ErrBadMask, "unknown bits"},
		{"negative size", Config{Module: "A", LogPath: "x", MaxSize: -1}, ErrBadConfig, "Config.MaxSize"},
		{"negative retention", Config{Module: "A", LogPath: "x", Retention: -time.Hour}, ErrBadConfig, "Config.Retention"},
		{"bad sync policy", Config{Module: "A", LogPath: "x", Sync: 9}, ErrBadConfig, "sync"},
		{"path is a file", Config{Module: "A", AuditLogPath: file}, nil, "plain-file"},
		{"path under a file", Config{Module: "A", AuditLogPath: filepath.Join(file, "sub")}, nil, "plain-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := New(tt.cfg)
			require.Error(t, err)
			require.Nil(t, l)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.True(t, strings.HasPrefix(err.Error(), "audit: "), err.Error())
		})
	}
}

// TestLoggerMask checks the gate for every event type under several masks.
func TestLoggerMask(t *testing.T) {
	masks := []Mask{DefaultMask, PresenceEvents, FailureEvents, ReadEvents | ModifyEvents, SystemEvents, AllEvents}
	for _, m := range masks {
		t.Run(m.String(), func(t *testing.T) {
			var out bytes.Buffer
			l := newTestLogger(t, Config{Output: &out, EventMask: m})
			want := 0
			for _, typ := range EventTypes() {
				for _, o := range []Outcome{Succeeded, Failed} {
					e := Event{Type: typ, Outcome: o, Actor: "a", Subject: "s", Object: "o", Client: "c"}
					shouldWrite := m.Has(typ.Category()) || typ == AuditConfigChange ||
						(m.Has(FailureEvents) && (o == Failed || typ == ChannelReject))
					require.Equal(t, shouldWrite, l.Enabled(typ, o), "%v %v", typ, o)
					require.NoError(t, l.Log(context.Background(), e))
					if shouldWrite {
						want++
					}
				}
			}
			recs := parseLines(t, out.Bytes())
			require.Len(t, recs, want)
			st := l.Stats()
			require.Equal(t, uint64(want), st.Written)
			require.Equal(t, uint64(2*len(EventTypes())-want), st.Filtered)
		})
	}
}

func TestLoggerInvalidEvents(t *testing.T) {
	var out bytes.Buffer
	l := newTestLogger(t, Config{Output: &out, EventMask: AllEvents})
	ctx := context.Background()
	for _, e := range []Event{
		{},
		{Type: 42},
		{Type: Logon},
		{Type: ChannelReject, Actor: "x"},
		{Type: SystemConfigChange, Actor: "admin"},
		{Type: FileStart},
		{Type: TornRecord, Object: "x"},
	} {
		err := l.Log(ctx, e)
		require.ErrorIs(t, err, ErrInvalidEvent, "%+v", e)
	}
	// Filtered-out but invalid events are errors too, whatever the mask.
	l2 := newTestLogger(t, Config{Output: &out, EventMask: ConfigEvents})
	require.ErrorIs(t, l2.Log(ctx, Event{Type: EventType(77)}), ErrInvalidEvent)
	require.Zero(t, out.Len(), "nothing written")
	require.Equal(t, uint64(7), l.Stats().Invalid)
}

func TestLoggerContext(t *testing.T) {
	var out bytes.Buffer
	l := newTestLogger(t, Config{Output: &out})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, l.Log(ctx, Event{Type: Logon, Outcome: Failed, Actor: "alice", Client: "10.0.0.1"}))
	var nilCtx context.Context // a nil context must work too
	require.NoError(t, l.Log(nilCtx, Event{Type: Logon, Actor: "bob"}))
	require.Len(t, parseLines(t, out.Bytes()), 2)
}

func TestLoggerClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		l, err := New(Config{Module: "AgentServer", AuditLogPath: dir, Retention: 24 * time.Hour, Sync: SyncInterval, Compress: true})
		require.NoError(t, err)
		require.NoError(t, l.Log(context.Background(), Event{Type: ServerStart}))
		require.NoError(t, l.Close())
		require.NoError(t, l.Close(), "Close is idempotent")
		err = l.Log(context.Background(), Event{Type: ServerStop})
		require.ErrorIs(t, err, ErrClosed)
		require.ErrorIs(t, l.SetMask(AllEvents, "admin"), ErrClosed)
		require.ErrorIs(t, l.Sync(), ErrClosed)
		require.Len(t, readRecords(t, filepath.Join(dir, "AgentServer.audit.log")), 1)
		// synctest.Test fails if a goroutine started in the bubble is left.
	})
}

func TestLoggerSetMask(t *testing.T) {
	var out bytes.Buffer
	l := newTestLogger(t, Config{Output: &out})
	ctx := context.Background()
	require.False(t, l.Enabled(DataRead, Succeeded))
	require.NoError(t, l.SetMask(ConfigEvents|ReadEvents, "admin"))
	require.Equal(t, ConfigEvents|ReadEvents, l.Mask())
	require.True(t, l.Enabled(DataRead, Succeeded))
	require.False(t, l.Enabled(Logon, Failed))
	require.NoError(t, l.Log(ctx, Event{Type: DataRead, Actor: "agent1", Subject: "cust42"}))
	require.NoError(t, l.Log(ctx, Event{Type: Logon, Outcome: Failed, Actor: "x"}))
	// Switching auditing down still leaves a trace.
	require.NoError(t, l.SetMask(SystemEvents, "admin"))

	recs := parseLines(t, out.Bytes())
	require.Len(t, recs, 3)
	require.Equal(t, AuditConfigChange, recs[0].Event.Type)
	require.Equal(t, "admin", recs[0].Event.Actor)
	require.Equal(t, "AuditEventMask", recs[0].Event.Object)
	require.Equal(t, "presence+failure+system+config", recs[0].Event.OldValue)
	require.Equal(t, "config+read", recs[0].Event.NewValue)
	require.Equal(t, DataRead, recs[1].Event.Type)
	require.Equal(t, "config+read", recs[2].Event.OldValue)
	require.Equal(t, "system", recs[2].Event.NewValue)

	require.ErrorIs(t, l.SetMask(0, "admin"), ErrBadMask)
}

// failingWriter fails every write after the first n bytes' worth of calls.
type failingWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	fail  bool
	calls int
}

var errDisk = errors.New("injected write failure")

func (w *failingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	if w.fail {
		return 0, errDisk
	}
	return w.buf.Write(p)
}

func (w *failingWriter) setFail(v bool) {
	w.mu.Lock()
	w.fail = v
	w.mu.Unlock()
}

func TestLoggerFailurePolicy(t *testing.T) {
	ctx := context.Background()
	t.Run("closed", func(t *testing.T) {
		w := &failingWriter{}
		var reported []error
		var mu sync.Mutex
		l := newTestLogger(t, Config{Output: w, OnError: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }})
		require.NoError(t, l.Log(ctx, Event{Type: ServerStart}))
		w.setFail(true)
		err := l.Log(ctx, Event{Type: Logon, Actor: "alice"})
		require.ErrorIs(t, err, errDisk)
		w.setFail(false)
		require.NoError(t, l.Log(ctx, Event{Type: Logoff, Actor: "alice"}))
		st := l.Stats()
		require.Equal(t, uint64(2), st.Written)
		require.Equal(t, uint64(1), st.Dropped)
		require.Equal(t, uint64(1), st.WriteErrors)
		require.ErrorIs(t, st.LastError, errDisk)
		mu.Lock()
		require.Len(t, reported, 1)
		mu.Unlock()
		recs := parseLines(t, w.buf.Bytes())
		require.Len(t, recs, 2)
		require.Equal(t, []uint64{1, 2}, []uint64{recs[0].Seq, recs[1].Seq}, "a failed record leaves no gap")
	})
	t.Run("open", func(t *testing.T) {
		w := &failingWriter{}
		var reported []error
		var mu sync.Mutex
		l := newTestLogger(t, Config{Output: w, Failure: FailOpen, OnError: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }})
		w.setFail(true)
		require.NoError(t, l.Log(ctx, Event{Type: Logon, Actor: "alice"}))
		st := l.Stats()
		require.Equal(t, uint64(1), st.Dropped)
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, reported, 2, "the write error and the dropped event are both reported")
		require.ErrorIs(t, reported[1], errDisk)
		require.ErrorContains(t, reported[1], "LOGON event dropped")
	})
}

func TestLoggerConcurrent(t *testing.T) {
	const goroutines, perG = 16, 200
	for _, out := range []string{"file", "writer"} {
		t.Run(out, func(t *testing.T) {
			var buf bytes.Buffer
			cfg := Config{EventMask: AllEvents}
			if out == "writer" {
				cfg.Output = &buf
			}
			l := newTestLogger(t, cfg)
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range perG {
						e := Event{Type: DataRead, Actor: fmt.Sprintf("g%d", g), Subject: fmt.Sprint(i)}
						if err := l.Log(context.Background(), e); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			path := l.Path()
			require.NoError(t, l.Close())
			data := buf.Bytes()
			if out == "file" {
				var err error
				data, err = os.ReadFile(path)
				require.NoError(t, err)
			}
			recs := parseLines(t, data)
			require.Len(t, recs, goroutines*perG)
			next := map[string]int{}
			for i, r := range recs {
				require.Equal(t, uint64(i+1), r.Seq)
				require.Equal(t, fmt.Sprint(next[r.Event.Actor]), r.Event.Subject, "order per goroutine")
				next[r.Event.Actor]++
			}
		})
	}
}

func TestLoggerRotatesBySize(t *testing.T) {
	dir := t.TempDir()
	const maxSize = 1000
	l := newTestLogger(t, Config{AuditLogPath: dir, MaxSize: maxSize, Now: fixedClock(day1, time.Millisecond)})
	const n = 100
	for i := range n {
		require.NoError(t, l.Log(context.Background(), Event{Type: Logon, Actor: fmt.Sprintf("user%03d", i), Client: "10.0.0.1"}))
	}
	require.NoError(t, l.Close())
	require.Greater(t, l.Stats().Rotations, uint64(5))

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var all []Record
	files := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".log") {
			continue
		}
		files++
		fi, err := e.Info()
		require.NoError(t, err)
		require.LessOrEqual(t, fi.Size(), int64(maxSize), e.Name())
		require.Equal(t, os.FileMode(0o640), fi.Mode().Perm(), e.Name())
		recs := readRecords(t, filepath.Join(dir, e.Name()))
		for i, r := range recs {
			require.Equal(t, uint64(i+1), r.Seq, "sequence numbers restart in each file")
		}
		all = append(all, recs...)
	}
	require.Greater(t, files, 5)
	require.Len(t, all, n)
	seen := map[string]bool{}
	for _, r := range all {
		require.False(t, seen[r.Event.Actor], "duplicate %s", r.Event.Actor)
		seen[r.Event.Actor] = true
	}
}

func TestLoggerRotatesAtMidnight(t *testing.T) {
	for _, daily := range []Daily{DailyUTC, DailyOff} {
		t.Run(daily.String(), func(t *testing.T) {
			dir := t.TempDir()
			now := time.Date(2026, 11, 25, 23, 59, 58, 0, time.UTC)
			l := newTestLogger(t, Config{AuditLogPath: dir, Daily: daily, Now: fixedClock(now, time.Second)})
			for i := range 4 {
				require.NoError(t, l.Log(context.Background(), Event{Type: Logon, Actor: fmt.Sprint("u", i)}))
			}
			require.NoError(t, l.Close())
			active := readRecords(t, filepath.Join(dir, "AgentServer.audit.log"))
			if daily == DailyOff {
				require.Len(t, active, 4)
				require.Zero(t, l.Stats().Rotations)
				return
			}
			require.Equal(t, uint64(1), l.Stats().Rotations)
			backups, err := filepath.Glob(filepath.Join(dir, "AgentServer.audit-*.log"))
			require.NoError(t, err)
			require.Len(t, backups, 1)
			old := readRecords(t, backups[0])
			for _, r := range old {
				require.Equal(t, 25, r.Event.Time.Day())
			}
			for _, r := range active {
				require.Equal(t, 26, r.Event.Time.Day())
			}
			require.Len(t, append(old, active...), 4)
		})
	}
}

func TestLoggerReopenContinues(t *testing.T) {
	dir := t.TempDir()
	clock := fixedClock(day1, time.Second)
	for run := range 3 {
		l, err := New(Config{Module: "AgentServer", AuditLogPath: dir, Now: clock})
		require.NoError(t, err)
		require.NoError(t, l.Log(context.Background(), Event{Type: ServerStart, Reason: fmt.Sprint("run ", run)}))
		require.NoError(t, l.Close())
	}
	recs := readRecords(t, filepath.Join(dir, "AgentServer.audit.log"))
	require.Len(t, recs, 3)
	for i, r := range recs {
		require.Equal(t, uint64(i+1), r.Seq)
	}

	// Switching the format starts a new file rather than mixing formats.
	l, err := New(Config{Module: "AgentServer", AuditLogPath: dir, Formatter: "json", Now: clock})
	require.NoError(t, err)
	require.NoError(t, l.Log(context.Background(), Event{Type: ServerStart}))
	require.NoError(t, l.Close())
	data, err := os.ReadFile(filepath.Join(dir, "AgentServer.audit.log"))
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(data, []byte(`{"time":`)), "%s", data)
	require.Len(t, parseLines(t, data), 1)
}

func TestLoggerTornTail(t *testing.T) {
	dir := t.TempDir()
	l := newTestLogger(t, Config{AuditLogPath: dir, Now: fixedClock(day1, time.Second)})
	require.NoError(t, l.Log(context.Background(), Event{Type: ServerStart}))
	require.NoError(t, l.Close())
	path := filepath.Join(dir, "AgentServer.audit.log")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("2026-11-25T09:14:41.000000Z AgentServer LOGON SUCC")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	l2 := newTestLogger(t, Config{AuditLogPath: dir, Now: fixedClock(day1.Add(time.Minute), time.Second)})
	require.NoError(t, l2.Log(context.Background(), Event{Type: Logon, Actor: "alice"}))
	require.NoError(t, l2.Close())
	recs := readRecords(t, path)
	require.Len(t, recs, 3)
	require.Equal(t, ServerStart, recs[0].Event.Type)
	require.Equal(t, TornRecord, recs[1].Event.Type)
	require.Equal(t, Failed, recs[1].Event.Outcome)
	require.Contains(t, recs[1].Event.Reason, "50 bytes")
	require.Equal(t, Logon, recs[2].Event.Type)
	require.Equal(t, []uint64{1, 2, 3}, []uint64{recs[0].Seq, recs[1].Seq, recs[2].Seq})
	q, err := os.ReadFile(filepath.Join(dir, recs[1].Event.Object))
	require.NoError(t, err)
	require.Equal(t, "2026-11-25T09:14:41.000000Z AgentServer LOGON SUCC", string(q))
}

func TestLoggerRecordTooLarge(t *testing.T) {
	var out bytes.Buffer
	l := newTestLogger(t, Config{Output: &out})
	err := l.Log(context.Background(), Event{Type: ServerStart, Reason: strings.Repeat("x", MaxRecordSize)})
	require.ErrorIs(t, err, ErrRecordTooLarge)
	require.NoError(t, l.Log(context.Background(), Event{Type: ServerStart}))
	recs := parseLines(t, out.Bytes())
	require.Len(t, recs, 1)
	require.Equal(t, uint64(1), recs[0].Seq)

	dir := t.TempDir()
	lf := newTestLogger(t, Config{AuditLogPath: dir, MaxSize: 100})
	err = lf.Log(context.Background(), Event{Type: ServerStart, Reason: strings.Repeat("y", 200)})
	require.ErrorIs(t, err, ErrRecordTooLarge)
}

// lineFormatter is a custom formatter that does not escape anything.
type lineFormatter struct{}

func (lineFormatter) Append(dst []byte, r *Record) ([]byte, error) {
	return fmt.Appendf(dst, "%d|%s|%s|%s", r.Seq, r.Module, r.Event.Type, r.Event.Reason), nil
}

// registerPipeFormatter registers lineFormatter as "pipe-test" once per
// test binary, since the registry outlives a test (and -count runs tests
// again).
var registerPipeFormatter = sync.OnceValue(func() error { return RegisterFormatter("pipe-test", lineFormatter{}) })

func TestCustomFormatter(t *testing.T) {
	require.NoError(t, registerPipeFormatter())
	require.Error(t, RegisterFormatter("PIPE-TEST", lineFormatter{}), "names are case-insensitive")
	require.Error(t, RegisterFormatter("", lineFormatter{}))
	require.Contains(t, FormatterNames(), "PIPE-TEST")

	var out bytes.Buffer
	l := newTestLogger(t, Config{Output: &out, Formatter: "Pipe-Test"})
	require.NoError(t, l.Log(context.Background(), Event{Type: ServerStart, Reason: "boot"}))
	err := l.Log(context.Background(), Event{Type: ServerStop, Reason: "x\n2|AgentServer|SERVER_START|forged"})
	require.ErrorIs(t, err, ErrInvalidEvent)
	require.ErrorContains(t, err, "line break")
	require.Equal(t, "1|AgentServer|SERVER_START|boot\n", out.String())
}

func TestLoggerRetentionAtNew(t *testing.T) {
	dir := t.TempDir()
	now := day1
	old := now.Add(-40 * 24 * time.Hour)
	recent := now.Add(-2 * 24 * time.Hour)
	keep := []string{
		"AgentServer.log", "AgentServer.20261001.log", "CEMServer.audit.log",
		backupName("CEMServer", old), backupName("Agent", old),
		backupName("AgentServer", recent), backupName("AgentServer", recent.Add(time.Hour)) + ".gz",
		"AgentServer.audit-notatime.log", backupName("AgentServer", old) + ".bak",
	}
	remove := []string{backupName("AgentServer", old), backupName("AgentServer", old.Add(time.Hour)) + ".gz"}
	for _, name := range append(append([]string{}, keep...), remove...) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(name), 0o640))
	}
	l := newTestLogger(t, Config{AuditLogPath: dir, Retention: 30 * 24 * time.Hour, Now: func() time.Time { return now }})
	require.NoError(t, l.Log(context.Background(), Event{Type: ServerStart}))
	for _, name := range keep {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, name)
		require.Equal(t, name, string(data))
	}
	for _, name := range remove {
		require.NoFileExists(t, filepath.Join(dir, name))
	}
	require.Equal(t, uint64(2), l.Stats().Pruned)
}

func TestLoggerLockedByAnother(t *testing.T) {
	dir := t.TempDir()
	l := newTestLogger(t, Config{AuditLogPath: dir})
	_, err := New(Config{Module: "AgentServer", AuditLogPath: dir})
	require.ErrorIs(t, err, ErrLocked)
	require.ErrorContains(t, err, "AgentServer.audit.log")
	require.NoError(t, l.Close())
	l2, err := New(Config{Module: "AgentServer", AuditLogPath: dir})
	require.NoError(t, err)
	require.NoError(t, l2.Close())
}

func TestLoggerStreamSync(t *testing.T) {
	w := &syncCounter{}
	l := newTestLogger(t, Config{Output: w, Sync: SyncEveryEvent})
	require.NoError(t, l.Log(context.Background(), Event{Type: ServerStart}))
	require.Equal(t, 1, w.syncs)
	require.Equal(t, uint64(1), l.Stats().Syncs)
}

type syncCounter struct {
	io.Writer
	syncs int
}

func (s *syncCounter) Write(p []byte) (int, error) { return len(p), nil }
func (s *syncCounter) Sync() error                 { s.syncs++; return nil }

func TestLoggerMaxBackups(t *testing.T) {
	dir := t.TempDir()
	clock := fixedClock(day1, time.Second)
	l := newTestLogger(t, Config{AuditLogPath: dir, MaxSize: 600, MaxBackups: 2, Now: clock})
	for i := range 40 {
		require.NoError(t, l.Log(context.Background(), Event{Type: Logon, Actor: fmt.Sprint("user", i)}))
	}
	require.NoError(t, l.Close())
	require.Greater(t, l.Stats().Rotations, uint64(3))
	// Retention runs in the background after each rotation and at New.
	l2 := newTestLogger(t, Config{AuditLogPath: dir, MaxBackups: 2, Now: clock})
	require.NoError(t, l2.Close())
	backups, err := filepath.Glob(filepath.Join(dir, "AgentServer.audit-*"))
	require.NoError(t, err)
	require.Len(t, backups, 2)
	recs := readRecords(t, backups[1])
	require.NotEmpty(t, recs)
	last := readRecords(t, filepath.Join(dir, "AgentServer.audit.log"))
	require.Equal(t, "user39", last[len(last)-1].Event.Actor, "the newest records are kept")
}

func TestLoggerFileReplaced(t *testing.T) {
	dir := t.TempDir()
	var errs []error
	var mu sync.Mutex
	l := newTestLogger(t, Config{AuditLogPath: dir, Sync: SyncEveryEvent, OnError: func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }})
	ctx := context.Background()
	require.NoError(t, l.Log(ctx, Event{Type: ServerStart}))
	require.NoError(t, os.Remove(l.Path()))
	err := l.Log(ctx, Event{Type: Logon, Actor: "alice"})
	require.Error(t, err, "a record written to a removed file is not acknowledged")
	require.NoError(t, l.Log(ctx, Event{Type: Logon, Actor: "bob"}))
	require.NoError(t, l.Close())
	recs := readRecords(t, l.Path())
	require.Len(t, recs, 2)
	require.Equal(t, FileReplaced, recs[0].Event.Type, "the new file says what happened")
	require.Equal(t, "bob", recs[1].Event.Actor)
	require.Equal(t, []uint64{1, 2}, []uint64{recs[0].Seq, recs[1].Seq})
	mu.Lock()
	require.NotEmpty(t, errs)
	mu.Unlock()
}

// TestLoggerFileReplacedCheck: under write-through, the periodic check
// notices a removed active file without any sync.
func TestLoggerFileReplacedCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		var errs []error
		var mu sync.Mutex
		l, err := New(Config{Module: "AgentServer", AuditLogPath: dir, OnError: func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }})
		require.NoError(t, err)
		ctx := context.Background()
		require.NoError(t, l.Log(ctx, Event{Type: ServerStart}))
		require.NoError(t, os.Rename(l.Path(), filepath.Join(dir, "moved-away.log")))
		time.Sleep(inPlaceInterval + time.Second)
		synctest.Wait()
		mu.Lock()
		require.Len(t, errs, 1)
		require.ErrorIs(t, errs[0], errFileReplaced)
		mu.Unlock()
		require.NoError(t, l.Log(ctx, Event{Type: Logon, Actor: "alice"}))
		require.ErrorIs(t, l.Close(), errFileReplaced, "Close returns the background errors")
		recs := readRecords(t, filepath.Join(dir, "AgentServer.audit.log"))
		require.Len(t, recs, 2)
		require.Equal(t, FileReplaced, recs[0].Event.Type)
		require.Equal(t, "alice", recs[1].Event.Actor)
		require.Len(t, readRecords(t, filepath.Join(dir, "moved-away.log")), 1, "the moved file is left alone")
	})
}
