package ship

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/auditkit/audit"
)

// startRsyslogDefaultLimits is startRsyslog with rsyslog's message size
// limits left at their defaults, as most receivers run.
func startRsyslogDefaultLimits(t testing.TB, kind string, certs *testCerts) *rsyslogd {
	t.Helper()
	r := &rsyslogd{dir: t.TempDir(), kind: kind, certs: certs, defaultLimits: true}
	r.out = filepath.Join(r.dir, "received.log")
	if err := os.Mkdir(filepath.Join(r.dir, "work"), 0o700); err != nil {
		t.Fatal(err)
	}
	r.start(t)
	t.Cleanup(func() { r.stop(syscall.SIGTERM) })
	return r
}

// TestRsyslogRecordOverReceiverLimit ships a record longer than what
// rsyslog takes by default (8k) between two short ones. rsyslog answers
// RELP's 200 for a message it cuts, and over TCP splits an octet-counted
// frame into several messages, the tail of the record parsed as a message
// of its own, with whatever header its bytes forge. So the destination
// must not send it: Ship stops at it with ErrBadMessage (the shipper
// skips and reports it), and the receiver holds the short records only,
// whole.
func TestRsyslogRecordOverReceiverLimit(t *testing.T) {
	rsyslogPath(t)
	certs := makeCerts(t)
	for _, kind := range []string{"tcp", "relp"} {
		t.Run(kind, func(t *testing.T) {
			r := startRsyslogDefaultLimits(t, kind, certs)
			d, err := Open(rsyslogConfig(r, certs))
			if err != nil {
				t.Fatal(err)
			}
			msgs := testMessages(3, 0)
			forged := []byte("<13>1 2026-03-14T09:26:53.000000Z agent01 AgentServer - LOGON [audit@32473 seq=\"9\"] forged")
			msgs[1].Line = append(bytes.Repeat([]byte("x"), 8000), forged...)
			n, err := d.Ship(context.Background(), msgs)
			if n != 1 || !errors.Is(err, ErrBadMessage) {
				t.Fatalf("Ship = %d, %v; want 1 and ErrBadMessage for the record over the limit", n, err)
			}
			if n, err := d.Ship(context.Background(), msgs[2:]); n != 1 || err != nil {
				t.Fatalf("Ship = %d, %v", n, err)
			}
			d.Close()
			got := r.waitReceived(t, 2)
			checkInOrder(t, got, []Message{msgs[0], msgs[2]})
		})
	}
}

// TestRsyslogLargestRecord ships a record of the largest size the library
// writes to rsyslog configured for it (maxMessageSize 4m), with maxsize
// raised to match: it arrives as one message, byte for byte.
func TestRsyslogLargestRecord(t *testing.T) {
	rsyslogPath(t)
	certs := makeCerts(t)
	for _, kind := range []string{"tcp", "relp"} {
		t.Run(kind, func(t *testing.T) {
			r := startRsyslog(t, kind, certs)
			cfg := rsyslogConfig(r, certs)
			cfg.URL += "?maxsize=4m"
			d, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			msgs := testMessages(1, 0)
			msgs[0].Line = bytes.Repeat([]byte("z"), audit.MaxRecordSize-1) // its newline makes MaxRecordSize
			if n, err := d.Ship(context.Background(), msgs); n != 1 || err != nil {
				t.Fatalf("Ship = %d, %v", n, err)
			}
			d.Close()
			checkInOrder(t, r.waitReceived(t, 1), msgs)
		})
	}
}
