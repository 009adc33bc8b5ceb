// Package benchmarks compares the cost of writing one audit record with
// github.com/auditkit/audit against general-purpose structured loggers:
// zerolog, zap and log/slog's JSONHandler. It is a separate module so that
// the core library never depends on the peers.
//
// Every library writes the same record into io.Discard: a fixed time, a
// sequence number, the module and the eight fields type, outcome, actor,
// subject, object, client, session and reason. TestPeersWriteRecord checks
// that each really writes all of them, so that no benchmark measures a
// logger that silently does nothing.
package benchmarks

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditkit/audit"
	"github.com/rs/zerolog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// The record every library writes.
const (
	module  = "AgentServer"
	actor   = "alice@example.com"
	subject = "alice"
	object  = "agent-desktop"
	client  = "10.1.2.3:5060"
	session = "S-1234567"
	reason  = "invalid password"

	// timeLayout is RFC 3339 in UTC with microseconds, as audit writes it.
	timeLayout = "2006-01-02T15:04:05.000000Z07:00"
	timeText   = "2026-11-25T09:14:40.123456Z"
)

var recordTime = time.Date(2026, 11, 25, 9, 14, 40, 123456000, time.UTC)

// kind is the type and outcome of a record, as audit values and as the
// strings the peers write.
type kind struct {
	typ        audit.EventType
	outcome    audit.Outcome
	typName    string
	outcomeStr string
}

var (
	// logon is written under audit's default mask.
	logon = kind{audit.Logon, audit.Failed, "LOGON", "FAILURE"}
	// dataRead is filtered out by audit's default mask (a successful
	// DATA_READ); the peers log it at a disabled level.
	dataRead = kind{audit.DataRead, audit.Succeeded, "DATA_READ", "SUCCESS"}
)

// The formats of audit that are measured.
var auditFormats = []string{audit.FormatBCM, audit.FormatJSON}

func TestMain(m *testing.M) {
	// zerolog's time format is a global: set it once, before any test or
	// benchmark runs.
	zerolog.TimeFieldFormat = timeLayout
	os.Exit(m.Run())
}

// ---- Loggers ------------------------------------------------------------

func newAudit(tb testing.TB, w io.Writer, format string) *audit.Logger {
	tb.Helper()
	l, err := audit.New(audit.Config{Module: module, Output: w, Formatter: format})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := l.Close(); err != nil {
			tb.Error(err)
		}
	})
	return l
}

// newZerolog returns a logger at Info level that adds no timestamp, level or
// message of its own: the record is written with Log (no level) and an
// empty message; Debug is disabled.
func newZerolog(w io.Writer) zerolog.Logger {
	return zerolog.New(w).Level(zerolog.InfoLevel)
}

// newZap returns a JSON logger at Info level whose encoder writes no time,
// level, caller, logger name, message or stack trace keys of its own: the
// record time is a field, encoded with timeLayout like zerolog's.
func newZap(w io.Writer) *zap.Logger {
	cfg := zapcore.EncoderConfig{
		// Empty keys omit the entry's own time (the clock's), level,
		// caller, name, message and stack trace. The record time is
		// written as a field instead, with the encoder's time encoder.
		EncodeTime:     zapcore.TimeEncoderOfLayout(timeLayout),
		EncodeDuration: zapcore.StringDurationEncoder,
		LineEnding:     zapcore.DefaultLineEnding,
	}
	return zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(cfg), zapcore.AddSync(w), zapcore.InfoLevel))
}

// newSlog returns a log/slog logger with a JSONHandler at its default level,
// Info. slog always writes its own time (the clock's), level and msg keys.
func newSlog(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, nil))
}

// ---- Writing one record -------------------------------------------------
//
// Each function builds the record's fields when it is called, as a caller
// would. The benchmarks and TestPeersWriteRecord call the same functions.

func logAudit(ctx context.Context, l *audit.Logger, k kind) error {
	return l.Log(ctx, audit.Event{
		Time:    recordTime,
		Type:    k.typ,
		Outcome: k.outcome,
		Actor:   actor,
		Subject: subject,
		Object:  object,
		Client:  client,
		Session: session,
		Reason:  reason,
	})
}

// logAuditBuilder logs the record through an EventBuilder, which stores
// nothing when the mask filters the event out.
func logAuditBuilder(ctx context.Context, l *audit.Logger, k kind) error {
	return l.Event(k.typ, k.outcome).
		Time(recordTime).
		Actor(actor).
		Subject(subject).
		Object(object).
		Client(client).
		Session(session).
		Reason(reason).
		Log(ctx)
}

// logAuditGuarded tests Enabled before building the event.
func logAuditGuarded(ctx context.Context, l *audit.Logger, k kind) error {
	if !l.Enabled(k.typ, k.outcome) {
		return nil
	}
	return logAudit(ctx, l, k)
}

// logZerolog writes the record on e, which is nil (and every call a no-op)
// when its level is disabled.
func logZerolog(e *zerolog.Event, seq uint64, k kind) {
	e.Time("time", recordTime).
		Uint64("seq", seq).
		Str("module", module).
		Str("type", k.typName).
		Str("outcome", k.outcomeStr).
		Str("actor", actor).
		Str("subject", subject).
		Str("object", object).
		Str("client", client).
		Str("session", session).
		Str("reason", reason).
		Msg("")
}

func logZap(lg *zap.Logger, lvl zapcore.Level, seq uint64, k kind) {
	lg.Log(lvl, "",
		zap.Time("time", recordTime),
		zap.Uint64("seq", seq),
		zap.String("module", module),
		zap.String("type", k.typName),
		zap.String("outcome", k.outcomeStr),
		zap.String("actor", actor),
		zap.String("subject", subject),
		zap.String("object", object),
		zap.String("client", client),
		zap.String("session", session),
		zap.String("reason", reason),
	)
}

// logSlog writes the record through Logger.LogAttrs, the fastest slog
// front end. slog takes the record time from its clock (there is no way to
// pass it to LogAttrs without writing a second "time" key), so the fixed
// time is not written; the work of formatting a time is the same.
func logSlog(ctx context.Context, lg *slog.Logger, lvl slog.Level, seq uint64, k kind) {
	lg.LogAttrs(ctx, lvl, "",
		slog.Uint64("seq", seq),
		slog.String("module", module),
		slog.String("type", k.typName),
		slog.String("outcome", k.outcomeStr),
		slog.String("actor", actor),
		slog.String("subject", subject),
		slog.String("object", object),
		slog.String("client", client),
		slog.String("session", session),
		slog.String("reason", reason),
	)
}

// ---- Checks ---------------------------------------------------------------

// wantFields is the record as JSON values decoded into any.
var wantFields = map[string]any{
	"time":    timeText,
	"seq":     float64(1),
	"module":  module,
	"type":    "LOGON",
	"outcome": "FAILURE",
	"actor":   actor,
	"subject": subject,
	"object":  object,
	"client":  client,
	"session": session,
	"reason":  reason,
}

// checkJSON checks that out is one JSON line holding every field of
// wantFields with its value, except those in skip, and no other key than
// those in extra.
func checkJSON(t *testing.T, name, out string, skip, extra []string) {
	t.Helper()
	t.Logf("%s (%d bytes): %s", name, len(out), strings.TrimSuffix(out, "\n"))
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Errorf("%s: want exactly one line, got %q", name, out)
		return
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Errorf("%s: %v in %q", name, err, out)
		return
	}
	for key, want := range wantFields {
		if contains(skip, key) {
			if _, ok := got[key]; !ok {
				t.Errorf("%s: no %q key in %s", name, key, out)
			}
			continue
		}
		if got[key] != want {
			t.Errorf("%s: %q is %v (%T), want %v", name, key, got[key], got[key], want)
		}
	}
	for key := range got {
		if _, ok := wantFields[key]; !ok && !contains(extra, key) {
			t.Errorf("%s: unexpected key %q in %s", name, key, out)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestPeersWriteRecord logs the benchmarked record once with every library
// and checks that every field is written with its value, and that the
// records of BenchmarkEnabled are really filtered out.
func TestPeersWriteRecord(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer

	for _, format := range auditFormats {
		buf.Reset()
		l := newAudit(t, &buf, format)
		if err := logAudit(ctx, l, logon); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		name := "audit-" + format
		switch format {
		case audit.FormatJSON:
			checkJSON(t, name, out, nil, nil)
		default:
			t.Logf("%s (%d bytes): %s", name, len(out), strings.TrimSuffix(out, "\n"))
		}
		// The format's parser gives back the record.
		rec, err := audit.ParseRecord([]byte(out))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		e := rec.Event
		if rec.Seq != 1 || rec.Module != module || !e.Time.Equal(recordTime) || e.Type != audit.Logon ||
			e.Outcome != audit.Failed || e.Actor != actor || e.Subject != subject || e.Object != object ||
			e.Client != client || e.Session != session || e.Reason != reason {
			t.Errorf("%s: parsed %+v", name, rec)
		}
		for _, v := range []string{timeText, module, "LOGON", "FAILURE", actor, subject, object, client, session, reason} {
			if !strings.Contains(out, v) {
				t.Errorf("%s: %q missing from %q", name, v, out)
			}
		}

		// The record of BenchmarkEnabled is filtered out.
		buf.Reset()
		if l.Enabled(dataRead.typ, dataRead.outcome) {
			t.Errorf("%s: %s/%s is enabled by the default mask", name, dataRead.typName, dataRead.outcomeStr)
		}
		if err := logAudit(ctx, l, dataRead); err != nil {
			t.Fatal(err)
		}
		if err := logAuditGuarded(ctx, l, dataRead); err != nil {
			t.Fatal(err)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: filtered event written: %q", name, buf.String())
		}
	}

	buf.Reset()
	zl := newZerolog(&buf)
	logZerolog(zl.Log(), 1, logon)
	checkJSON(t, "zerolog", buf.String(), nil, nil)
	buf.Reset()
	logZerolog(zl.Debug(), 1, dataRead)
	if buf.Len() != 0 {
		t.Errorf("zerolog: disabled event written: %q", buf.String())
	}

	buf.Reset()
	zp := newZap(&buf)
	logZap(zp, zapcore.InfoLevel, 1, logon)
	checkJSON(t, "zap", buf.String(), nil, nil)
	buf.Reset()
	logZap(zp, zapcore.DebugLevel, 1, dataRead)
	if buf.Len() != 0 {
		t.Errorf("zap: disabled event written: %q", buf.String())
	}

	buf.Reset()
	sl := newSlog(&buf)
	logSlog(ctx, sl, slog.LevelInfo, 1, logon)
	checkJSON(t, "slog", buf.String(), []string{"time"}, []string{"level", "msg"})
	buf.Reset()
	logSlog(ctx, sl, slog.LevelDebug, 1, dataRead)
	if buf.Len() != 0 {
		t.Errorf("slog: disabled event written: %q", buf.String())
	}
}

// ---- Benchmarks -------------------------------------------------------------

// contender is one library's way of logging the record: log writes it with
// sequence number seq (audit numbers its records itself).
type contender struct {
	name string
	log  func(seq uint64) error
}

// contenders returns audit (with each format) and the peers, writing the
// record of kind k into io.Discard; with enabled false, the peers log below
// their loggers' level. Every benchmark calls them through the same
// indirection, so that none pays a call the others do not.
func contenders(tb testing.TB, ctx context.Context, k kind, enabled bool) []contender {
	return contendersTo(tb, ctx, k, enabled, nil)
}

// contendersTo is contenders writing to files in dir: audit through its own
// file writer (Config.AuditLogPath), the peers to a file each opened for
// appending. A dir of "" means io.Discard.
func contendersTo(tb testing.TB, ctx context.Context, k kind, enabled bool, dir func() string) []contender {
	out := func(name string) io.Writer {
		if dir == nil {
			return io.Discard
		}
		f, err := os.OpenFile(dir()+"/"+name+".log", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { f.Close() })
		return f
	}
	var cs []contender
	for _, format := range auditFormats {
		l := newAudit(tb, io.Discard, format)
		if dir != nil {
			var err error
			if l, err = audit.New(audit.Config{Module: module, AuditLogPath: dir(), Formatter: format}); err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { l.Close() })
		}
		name := "audit-" + format
		if !enabled {
			if format != audit.FormatBCM {
				continue // a filtered-out event is never formatted
			}
			name = "audit"
		}
		cs = append(cs, contender{name, func(uint64) error { return logAudit(ctx, l, k) }})
		if format == audit.FormatBCM {
			cs = append(cs, contender{name + "-Event", func(uint64) error { return logAuditBuilder(ctx, l, k) }})
		}
	}
	if !enabled {
		l := newAudit(tb, io.Discard, audit.FormatBCM)
		cs = append(cs, contender{"audit-Enabled", func(uint64) error { return logAuditGuarded(ctx, l, k) }})
	}
	zl, zp, sl := newZerolog(out("zerolog")), newZap(out("zap")), newSlog(out("slog"))
	zlEvent, zpLevel, slLevel := zl.Log, zapcore.InfoLevel, slog.LevelInfo
	if !enabled {
		zlEvent, zpLevel, slLevel = zl.Debug, zapcore.DebugLevel, slog.LevelDebug
	}
	return append(cs,
		contender{"zerolog", func(seq uint64) error { logZerolog(zlEvent(), seq, k); return nil }},
		contender{"zap", func(seq uint64) error { logZap(zp, zpLevel, seq, k); return nil }},
		contender{"slog", func(seq uint64) error { logSlog(ctx, sl, slLevel, seq, k); return nil }},
	)
}

// runEach runs one sub-benchmark per contender from one goroutine.
func runEach(b *testing.B, cs []contender) {
	for _, c := range cs {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var seq uint64
			for b.Loop() {
				seq++
				if err := c.log(seq); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEnabled measures an event that is not written: a successful
// DATA_READ, outside audit's default mask, and a Debug record for the peers
// at Info level. The fields are still built, as a caller would build them.
// audit-Enabled tests Logger.Enabled first and builds nothing; audit-Event
// logs through an EventBuilder.
func BenchmarkEnabled(b *testing.B) {
	runEach(b, contenders(b, context.Background(), dataRead, false))
}

// BenchmarkLog measures writing the record from one goroutine.
func BenchmarkLog(b *testing.B) {
	runEach(b, contenders(b, context.Background(), logon, true))
}

// BenchmarkLogParallelFile is BenchmarkLogParallel writing to real files:
// audit through its own rotating file writer, each peer to a file it
// appends to.
func BenchmarkLogParallelFile(b *testing.B) {
	benchParallel(b, contendersTo(b, context.Background(), logon, true, b.TempDir))
}

// BenchmarkLogParallel measures writing the record from GOMAXPROCS
// goroutines at once. The peers take their sequence numbers from one atomic
// counter, which (unlike audit's) does not order the records in the output.
func BenchmarkLogParallel(b *testing.B) {
	benchParallel(b, contenders(b, context.Background(), logon, true))
}

// benchParallel runs one parallel sub-benchmark per contender.
func benchParallel(b *testing.B, cs []contender) {
	for _, c := range cs {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var seq atomic.Uint64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := c.log(seq.Add(1)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
