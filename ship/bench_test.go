package ship

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// benchBatch is how many records one Ship call carries in the benchmarks,
// as a follower reading a busy file would.
const benchBatch = 256

// BenchmarkRsyslog measures records per second to a real rsyslog over
// each transport, next to a bare loop that writes the same bytes to the
// same listener in the same run: pre-rendered octet-counted frames for
// tcp and tls, and for relp pre-rendered messages in RELP frames with a
// fresh transaction number each, the whole batch in flight, every answer
// read (with the same TCP_QUICKACK as the destination), no other checks.
func BenchmarkRsyslog(b *testing.B) {
	rsyslogPath(b)
	certs := makeCerts(b)
	msgs := testMessages(benchBatch, 0)
	for i := range msgs {
		msgs[i].Line = msgs[0].Line // every record of the usual shape
	}
	var rendered [][]byte
	var frames []byte
	for i := range msgs {
		m, err := Format{}.Append(nil, &msgs[i])
		if err != nil {
			b.Fatal(err)
		}
		rendered = append(rendered, m)
		frames = appendFrame(frames, m)
	}
	for _, kind := range []string{"tcp", "tls", "relp", "relp+tls"} {
		r := startRsyslog(b, kind, certs)
		cfg := rsyslogConfig(r, certs)
		// Warm rsyslog up (threads, output file) so that whichever loop
		// runs first is not the one that pays for it.
		warm, err := Open(cfg)
		if err != nil {
			b.Fatal(err)
		}
		for range 40 {
			if _, err := warm.Ship(context.Background(), msgs); err != nil {
				b.Fatal(err)
			}
		}
		warm.Close()
		r.waitReceived(b, 40*len(msgs))
		b.Run(kind+"/bare", func(b *testing.B) {
			conn := benchDial(b, r, certs)
			defer conn.Close()
			b.ReportAllocs()
			if strings.HasPrefix(kind, "relp") {
				benchBareRELP(b, conn, rendered)
			} else {
				for b.Loop() {
					if _, err := conn.Write(frames); err != nil {
						b.Fatal(err)
					}
				}
			}
			reportRate(b)
		})
		b.Run(kind+"/ship", func(b *testing.B) {
			d, err := Open(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if n, err := d.Ship(ctx, msgs); n != len(msgs) || err != nil {
					b.Fatalf("Ship = %d, %v", n, err)
				}
			}
			reportRate(b)
		})
	}
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/record")
}

func benchDial(b *testing.B, r *rsyslogd, certs *testCerts) net.Conn {
	b.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(r.port)
	if r.kind == "tcp" || r.kind == "relp" {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	pem, err := os.ReadFile(certs.caFile)
	if err != nil {
		b.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	if r.kind == "relp+tls" {
		cert, err := tls.LoadX509KeyPair(certs.clientCert, certs.clientKey)
		if err != nil {
			b.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// benchBareRELP opens a RELP session on conn and then, per iteration,
// writes one frame per message and reads every answer.
func benchBareRELP(b *testing.B, conn net.Conn, msgs [][]byte) {
	r := bufio.NewReaderSize(conn, 16<<10)
	w := bufio.NewWriterSize(conn, flushSize)
	txnr := 1
	w.Write(appendRELPFrame(nil, txnr, "open", []byte(relpOffers)))
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if _, err := readRELPFrame(r, relpMaxData, nil); err != nil {
		b.Fatal(err)
	}
	var hdr []byte
	for b.Loop() {
		for _, m := range msgs {
			txnr = nextTxnr(txnr)
			hdr = appendRELPHeader(hdr[:0], txnr, "syslog", len(m))
			w.Write(hdr)
			w.Write(m)
			w.WriteByte('\n')
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		for range msgs {
			if r.Buffered() == 0 {
				quickAck(conn) // as the destination does; without it, ~45 ms per batch
			}
			f, err := readRELPFrame(r, relpMaxData, nil)
			if err != nil || f.cmd != "rsp" {
				b.Fatalf("answer %+v, %v", f, err)
			}
		}
	}
}
