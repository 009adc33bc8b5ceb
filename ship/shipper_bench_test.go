package ship

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/auditkit/audit"
)

func benchLogEvent() audit.Event {
	return audit.Event{Type: audit.Logon, Outcome: audit.Failed, Actor: "alice@example.com", Subject: "alice",
		Object: "agent-desktop", Client: "10.1.2.3:5060", Session: "S-1234567", Reason: "invalid password"}
}

// tcpSink is a receiver on 127.0.0.1 that reads every connection in large
// chunks: it discards what it reads (startTCPSink), the cheapest real
// destination, so that what a benchmark measures beside it is the
// shipper's own cost; or it keeps every byte without answering
// (startKeepingSink), optionally as a TLS server.
type tcpSink struct {
	ln   net.Listener
	wg   sync.WaitGroup
	keep bool
	mu   sync.Mutex
	got  []byte
}

func startTCPSink(tb testing.TB) *tcpSink { return serveSink(tb, nil, false) }

func startKeepingSink(tb testing.TB, cfg *tls.Config) *tcpSink { return serveSink(tb, cfg, true) }

// serveSink starts a tcpSink, a TLS server when cfg is set, that keeps
// what it reads when keep is set.
func serveSink(tb testing.TB, cfg *tls.Config, keep bool) *tcpSink {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &tcpSink{ln: ln, keep: keep}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if cfg != nil {
				c = tls.Server(c, cfg)
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				buf := make([]byte, 256<<10)
				for {
					n, err := c.Read(buf)
					if s.keep {
						s.mu.Lock()
						s.got = append(s.got, buf[:n]...)
						s.mu.Unlock()
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		s.wg.Wait() // the shipper closed its connection before
	})
	return s
}

// received returns what a keeping sink has read so far.
func (s *tcpSink) received() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.got...)
}

func (s *tcpSink) url() string {
	return "tcp://127.0.0.1:" + strconv.Itoa(s.ln.Addr().(*net.TCPAddr).Port)
}

// BenchmarkLogWithShipper measures Log to a file with the default settings
// (write-through), alone and with a shipper in the same process following
// the same module to a real destination: a TCP receiver in the same
// process that discards what it reads (tcp-sink: the shipper's own cost),
// and a real rsyslog on the same machine over TCP and RELP, which burns
// CPU of its own on the same cores. Log runs flat out, faster than any
// application logs, so the shipper never waits for records: every cycle
// it spends per record is taken from Log's cores. shipped/rec is the
// share of the records logged that the destination acknowledged by the
// end of the run (below 1 when the shipper fell behind), and cpu-ns/op
// the CPU time of the whole process (Log, the shipper, the receiver in
// the process, the runtime) per Log call: on cores shared with other work
// the slowdown of Log tends to the ratio of these, on idle cores it stays
// below.
//
// Compare the cases in the same run, alternating: bench/log_with_shipper.sh
// runs them in rounds and prints the medians. On shared cores the figures
// drift between runs.
func BenchmarkLogWithShipper(b *testing.B) {
	sink := startTCPSink(b)
	dests := []struct {
		name string
		cfg  func() Config
	}{
		{"alone", nil},
		{"tcp-sink", func() Config { return Config{URL: sink.url()} }},
	}
	if _, err := lookupRsyslog(); err == nil {
		for _, kind := range []string{"tcp", "relp"} {
			var r *rsyslogd
			dests = append(dests, struct {
				name string
				cfg  func() Config
			}{"rsyslog-" + kind, func() Config {
				if r == nil {
					r = startRsyslog(b, kind, nil)
				}
				return rsyslogConfig(r, nil)
			}})
		}
	}
	for _, d := range dests {
		b.Run(d.name, func(b *testing.B) {
			dir := b.TempDir()
			l, err := audit.New(audit.Config{Module: "AgentServer", AuditLogPath: dir})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			var s *Shipper
			if d.cfg != nil {
				s, err = NewShipper(ShipperConfig{Dir: dir, Module: "AgentServer", Host: "agent01", Destination: d.cfg()})
				if err != nil {
					b.Fatal(err)
				}
				s.Start()
				defer s.Close()
			}
			ctx := context.Background()
			e := benchLogEvent()
			b.ReportAllocs()
			cpu0, cpuOK := processCPU()
			for b.Loop() {
				if err := l.Log(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
			if cpu1, ok := processCPU(); ok && cpuOK {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
			if s != nil {
				b.ReportMetric(float64(s.Stats().Shipped)/float64(b.N), "shipped/rec")
			}
		})
	}
}

// BenchmarkShipperRsyslog measures records per second from the audit files
// to a real rsyslog, end to end: b.N records are logged first, then a
// shipper ships them from the start (reading, parsing, shipping in
// batches of 256, writing the cursor at most every CursorInterval).
// Compare with
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
