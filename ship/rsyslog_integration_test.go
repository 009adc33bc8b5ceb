package ship

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// shipAll ships msgs to d in batches as the follower does: each call
// starts after the last acknowledged message.
func shipAll(t testing.TB, ctx context.Context, d Destination, msgs []Message, batch int) error {
	t.Helper()
	for done := 0; done < len(msgs); {
		end := min(done+batch, len(msgs))
		n, err := d.Ship(ctx, msgs[done:end])
		done += n
		if err != nil {
			return err
		}
	}
	return nil
}

func rsyslogConfig(r *rsyslogd, certs *testCerts) Config {
	cfg := Config{URL: r.url(), MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	if r.kind == "tls" || r.kind == "relp+tls" {
		cfg.CAFile = certs.caFile
	}
	if r.kind == "relp+tls" {
		cfg.CertFile, cfg.KeyFile = certs.clientCert, certs.clientKey
	}
	return cfg
}

// TestRsyslogDelivers ships a run of records, hostile ones among them, to
// a real rsyslog over each transport and checks that every one arrived,
// in order, as a valid RFC 5424 message whose MSG is the record line.
func TestRsyslogDelivers(t *testing.T) {
	rsyslogPath(t)
	certs := makeCerts(t)
	for _, kind := range []string{"tcp", "tls", "relp", "relp+tls"} {
		t.Run(kind, func(t *testing.T) {
			r := startRsyslog(t, kind, certs)
			d, err := Open(rsyslogConfig(r, certs))
			if err != nil {
				t.Fatal(err)
			}
			msgs := testMessages(5000, 0)
			if err := shipAll(t, context.Background(), d, msgs, 500); err != nil {
				t.Fatal(err)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			got := dedupe(t, r.waitReceived(t, len(msgs)))
			checkInOrder(t, got, msgs)
		})
	}
}

// TestRsyslogHostileRecord sends one record whose line holds newlines,
// ']', '"', '\' and invalid UTF-8, and checks that rsyslog received one
// message with the same bytes.
func TestRsyslogHostileRecord(t *testing.T) {
	rsyslogPath(t)
	certs := makeCerts(t)
	line := "2026-03-14T09:26:53.589Z seq=1 LOGON FAILURE actor=\"mallory\nforged 2026-03-14 seq=2 LOGON SUCCESS\" " +
		"x=\"]\\\"\\\\\" y=\xff\xfe\xc3\x28 z=\r\n<13>1 - - - - - [a@1 b=\"c\"] fake\n"
	for _, kind := range []string{"tcp", "tls", "relp", "relp+tls"} {
		t.Run(kind, func(t *testing.T) {
			r := startRsyslog(t, kind, certs)
			d, err := Open(rsyslogConfig(r, certs))
			if err != nil {
				t.Fatal(err)
			}
			msgs := testMessages(1, 0)
			msgs[0].Line = []byte(line)
			msgs[0].File = "AgentServer.audit-2026]\"\\.log"
			if err := shipAll(t, context.Background(), d, msgs, 1); err != nil {
				t.Fatal(err)
			}
			d.Close()
			got := r.waitReceived(t, 1)
			checkInOrder(t, got, msgs)
		})
	}
}

// TestRsyslogRELPRestart kills rsyslog with SIGKILL in the middle of a run
// and starts it again on the same port while shipping goes on: every
// record arrives, because the follower only moves past acknowledged ones.
func TestRsyslogRELPRestart(t *testing.T) {
	rsyslogPath(t)
	certs := makeCerts(t)
	for _, kind := range []string{"relp", "relp+tls"} {
		t.Run(kind, func(t *testing.T) {
			r := startRsyslog(t, kind, certs)
			failed := make(chan error, 1)
			cfg := rsyslogConfig(r, certs)
			cfg.OnError = func(err error) {
				select {
				case failed <- err:
				default:
				}
			}
			d, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			msgs := testMessages(20000, 0)
			var shipped atomic.Bool
			shipErr := make(chan error, 1)
			go func() {
				err := shipAll(t, context.Background(), d, msgs, 200)
				shipped.Store(true)
				shipErr <- errors.Join(err, d.Close())
			}()
			r.waitReceived(t, 3000)
			if shipped.Load() {
				t.Fatal("the run ended before rsyslogd was killed; make it longer")
			}
			r.kill()
			err = <-failed // the shipper noticed
			t.Logf("reported once: %v", err)
			r.restart(t)
			if err := <-shipErr; err != nil {
				t.Fatal(err)
			}
			got := r.waitReceived(t, len(msgs))
			t.Logf("%d messages received for %d records", len(got), len(msgs))
			checkInOrder(t, dedupe(t, got), msgs)
		})
	}
}

// TestRsyslogTLSWrongCA checks that a server whose certificate the
// configured CA did not sign is refused, with an error that says so.
func TestRsyslogTLSWrongCA(t *testing.T) {
	rsyslogPath(t)
	for _, kind := range []string{"tls", "relp+tls"} {
		t.Run(kind, func(t *testing.T) {
			r := startRsyslog(t, kind, makeCerts(t))
			other := makeCerts(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var reported []error
			cfg := rsyslogConfig(r, other)
			cfg.OnError = func(err error) { reported = append(reported, err); cancel() }
			d, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			n, err := d.Ship(ctx, testMessages(1, 0))
			if n != 0 || err == nil {
				t.Fatalf("Ship = %d, %v; want nothing delivered", n, err)
			}
			if len(reported) != 1 {
				t.Fatalf("reported %v, want one error", reported)
			}
			msg := reported[0].Error()
			if !strings.Contains(msg, r.url()) || !strings.Contains(msg, "certificate signed by unknown authority") {
				t.Errorf("error %q does not name the destination and the reason", msg)
			}
			if got := r.received(t); len(got) != 0 {
				t.Errorf("rsyslog received %d messages", len(got))
			}
		})
	}
}

// TestRsyslogRELPTLSNoClientCertificate checks the error when imrelp wants
// a client certificate and none is configured.
func TestRsyslogRELPTLSNoClientCertificate(t *testing.T) {
	rsyslogPath(t)
	certs := makeCerts(t)
	r := startRsyslog(t, "relp+tls", certs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var reported error
	d, err := Open(Config{URL: r.url(), CAFile: certs.caFile, OnError: func(err error) { reported = err; cancel() }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if n, err := d.Ship(ctx, testMessages(1, 0)); n != 0 || err == nil {
		t.Fatalf("Ship = %d, %v; want nothing delivered", n, err)
	}
	if reported == nil || !strings.Contains(reported.Error(), "client certificate") {
		t.Errorf("reported %v, want a hint at the client certificate", reported)
	}
}
