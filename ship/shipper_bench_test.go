package ship

import (
	"context"
	"testing"
	"time"

	"github.com/auditkit/audit"
)

// discardDestination acknowledges every message at once.
type discardDestination struct{}

func (discardDestination) Ship(_ context.Context, msgs []Message) (int, error) { return len(msgs), nil }
func (discardDestination) Close() error                                        { return nil }

func benchLogEvent() audit.Event {
	return audit.Event{Type: audit.Logon, Outcome: audit.Failed, Actor: "alice@example.com", Subject: "alice",
		Object: "agent-desktop", Client: "10.1.2.3:5060", Session: "S-1234567", Reason: "invalid password"}
}

// BenchmarkLogWithShipper measures Log to a file with a shipper following
// the same files in the same process, against Log alone. The shipper's
// destination acknowledges at once, so the shipper reads, parses, ships
// and writes its cursor as fast as it can: the most it can take from Log.
func BenchmarkLogWithShipper(b *testing.B) {
	for _, shipping := range []bool{false, true} {
		name := "alone"
		if shipping {
			name = "shipping"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			l, err := audit.New(audit.Config{Module: "AgentServer", AuditLogPath: dir})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			if shipping {
				s, err := NewShipper(ShipperConfig{Dir: dir, Module: "AgentServer", Host: "agent01",
					Destination: Config{URL: "relp://collector.test:2514"},
					Open:        func(Config) (Destination, error) { return discardDestination{}, nil }})
				if err != nil {
					b.Fatal(err)
				}
				s.Start()
				defer s.Close()
			}
			ctx := context.Background()
			e := benchLogEvent()
			b.ReportAllocs()
			for b.Loop() {
				if err := l.Log(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkShipperRsyslog measures records per second from the audit files
// to a real rsyslog, end to end: b.N records are logged first, then a
// shipper ships them from the start (reading, parsing, shipping in
// batches of 256 and writing the cursor after each). Compare with
// BenchmarkRsyslog, which measures Ship and a bare loop on the same
// transports.
func BenchmarkShipperRsyslog(b *testing.B) {
	rsyslogPath(b)
	certs := makeCerts(b)
	for _, kind := range []string{"tcp", "tls", "relp", "relp+tls"} {
		r := startRsyslog(b, kind, certs)
		cfg := rsyslogConfig(r, certs)
		warm, err := Open(cfg)
		if err != nil {
			b.Fatal(err)
		}
		msgs := testMessages(benchBatch, 0)
		for range 40 {
			if _, err := warm.Ship(context.Background(), msgs); err != nil {
				b.Fatal(err)
			}
		}
		warm.Close()
		b.Run(kind, func(b *testing.B) {
			dir := b.TempDir()
			l, err := audit.New(audit.Config{Module: "AgentServer", AuditLogPath: dir, Sync: audit.SyncInterval})
			if err != nil {
				b.Fatal(err)
			}
			e := benchLogEvent()
			for range b.N {
				if err := l.Log(context.Background(), e); err != nil {
					b.Fatal(err)
				}
			}
			if err := l.Close(); err != nil {
				b.Fatal(err)
			}
			s, err := NewShipper(ShipperConfig{Dir: dir, Module: "AgentServer", Host: "agent01", Destination: cfg, Poll: time.Millisecond})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			s.Start()
			for s.Stats().Shipped < uint64(b.N) {
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			s.Close()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
