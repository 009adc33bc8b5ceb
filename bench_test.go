package audit

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"
)

var benchTime = time.Date(2026, 11, 25, 9, 14, 40, 123456000, time.UTC)

// benchEvent is the 8-field record used by every benchmark here and in the
// benchmarks module: type, outcome, actor, subject, object, client, session,
// reason.
func benchEvent() Event {
	return Event{
		Time:    benchTime,
		Type:    Logon,
		Outcome: Failed,
		Actor:   "alice@example.com",
		Subject: "alice",
		Object:  "agent-desktop",
		Client:  "10.1.2.3:5060",
		Session: "S-1234567",
		Reason:  "invalid password",
	}
}

func BenchmarkEnabledFiltered(b *testing.B) {
	l := newBenchLogger(b, Config{Output: io.Discard})
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if l.Enabled(DataRead, Succeeded) {
			n++
		}
	}
	if n != 0 {
		b.Fatal("DATA_READ is not in the default mask")
	}
}

func BenchmarkLogFiltered(b *testing.B) {
	l := newBenchLogger(b, Config{Output: io.Discard})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Log(ctx, Event{Type: DataRead, Outcome: Succeeded, Actor: "agent7", Subject: "customer-42"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEventFiltered is BenchmarkLogFiltered with an EventBuilder,
// which stores nothing for a filtered-out event.
func BenchmarkEventFiltered(b *testing.B) {
	l := newBenchLogger(b, Config{Output: io.Discard})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Event(DataRead, Succeeded).Actor("agent7").Subject("customer-42").Log(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// callsPerNext is how many filtered-out calls the parallel benchmarks
// make per iteration of testing.PB. Each PB.Next costs a write to the PB,
// and PBs of different goroutines can share a cache line: with one call per
// iteration the benchmark measures that, which made even Enabled several
// times slower from 2 goroutines than from one on the shared machine.
const callsPerNext = 100

// benchFilteredParallel runs call callsPerNext times per iteration from
// GOMAXPROCS goroutines and reports ns/call. The filtered-out paths write no
// shared memory, so ns/call falls as goroutines are added (compare -cpu 1,2).
func benchFilteredParallel(b *testing.B, call func() bool) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			for range callsPerNext {
				if !call() {
					b.Error("the event was not filtered out")
					return
				}
			}
		}
	})
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/callsPerNext, "ns/call")
}

// BenchmarkEventFilteredParallel is BenchmarkEventFiltered from GOMAXPROCS
// goroutines, callsPerNext events per op.
func BenchmarkEventFilteredParallel(b *testing.B) {
	l := newBenchLogger(b, Config{Output: io.Discard})
	ctx := context.Background()
	benchFilteredParallel(b, func() bool {
		return l.Event(DataRead, Succeeded).Actor("agent7").Subject("customer-42").Log(ctx) == nil
	})
}

// BenchmarkLogFilteredParallel is BenchmarkLogFiltered from GOMAXPROCS
// goroutines, callsPerNext events per op.
func BenchmarkLogFilteredParallel(b *testing.B) {
	l := newBenchLogger(b, Config{Output: io.Discard})
	ctx := context.Background()
	benchFilteredParallel(b, func() bool {
		return l.Log(ctx, Event{Type: DataRead, Outcome: Succeeded, Actor: "agent7", Subject: "customer-42"}) == nil
	})
}

// BenchmarkEnabledFilteredParallel is BenchmarkEnabledFiltered from
// GOMAXPROCS goroutines, callsPerNext tests per op.
func BenchmarkEnabledFilteredParallel(b *testing.B) {
	l := newBenchLogger(b, Config{Output: io.Discard})
	benchFilteredParallel(b, func() bool { return !l.Enabled(DataRead, Succeeded) })
}

// newBenchLogger returns a logger of module AgentServer with cfg, closed
// when the benchmark ends.
func newBenchLogger(b *testing.B, cfg Config) *Logger {
	b.Helper()
	cfg.Module = "AgentServer"
	l, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return l
}

// benchLog logs benchEvent with a new logger of cfg until the benchmark
// ends.
func benchLog(b *testing.B, cfg Config) {
	b.Helper()
	l := newBenchLogger(b, cfg)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Log(ctx, benchEvent()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLog(b *testing.B) {
	for _, format := range []string{FormatBCM, FormatJSON} {
		b.Run(format, func(b *testing.B) { benchLog(b, Config{Formatter: format, Output: io.Discard}) })
	}
}

func BenchmarkLogParallel(b *testing.B) {
	l := newBenchLogger(b, Config{Output: io.Discard})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Log(ctx, benchEvent()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkLogFile(b *testing.B) {
	for _, format := range []string{FormatBCM, FormatJSON} {
		b.Run(format, func(b *testing.B) { benchLog(b, Config{Formatter: format, AuditLogPath: b.TempDir()}) })
	}
}

// BenchmarkIntegrity compares the cost of an event written to a file
// without integrity protection, with the plain SHA-256 chain and with the
// HMAC-SHA256 chain, in one run.
func BenchmarkIntegrity(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  Config
		key  bool
	}{
		{"off", Config{}, false},
		{"sha256", Config{Integrity: true}, false},
		{"hmac-sha256", Config{Integrity: true}, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			cfg := c.cfg
			cfg.AuditLogPath = b.TempDir()
			if c.key { // a key file per chain
				cfg.IntegrityKeyFile = filepath.Join(b.TempDir(), "audit.key")
				if err := NewKey(cfg.IntegrityKeyFile); err != nil {
					b.Fatal(err)
				}
			}
			benchLog(b, cfg)
		})
	}
}
