package kafka

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/auditkit/audit/internal/testpki"
	"github.com/auditkit/audit/ship"
)

// secureCluster is a cluster that speaks TLS only, requires a client
// certificate signed by its CA and, with SASL, authenticates user
// "shipper" with the given SASL mechanisms (none: no SASL).
type secureCluster struct {
	ca     *testpki.CA
	client testpki.Pair
	url    string // kafka+tls:// with the CA and client certificate
}

const testPassword = "correct horse battery staple"

func newSecureCluster(t testing.TB, mechanisms ...string) *secureCluster {
	t.Helper()
	ca := testpki.New(t, "kafka")
	opts := []kfake.Opt{kfake.TLS(ca.ServerConfig(t))}
	if len(mechanisms) > 0 {
		opts = append(opts, kfake.EnableSASL())
	}
	for _, m := range mechanisms {
		opts = append(opts, kfake.Superuser(m, "shipper", testPassword))
	}
	_, url := newCluster(t, 2, opts...)
	c := &secureCluster{ca: ca, client: ca.Client(t, "shipper")}
	c.url = strings.Replace(url, "kafka://", "kafka+tls://", 1) + "?ca=" + neturl.QueryEscape(ca.File) +
		"&cert=" + neturl.QueryEscape(c.client.CertFile) + "&key=" + neturl.QueryEscape(c.client.KeyFile)
	return c
}

// passwordFile writes password into a file of mode 0600 and returns its
// path.
func passwordFile(t testing.TB, password string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(path, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// errorLog collects the errors a Destination reports.
type errorLog struct {
	mu   sync.Mutex
	errs []error
	c    chan struct{} // closed on the first error
}

func newErrorLog() *errorLog { return &errorLog{c: make(chan struct{})} }

func (l *errorLog) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.errs = append(l.errs, err); len(l.errs) == 1 {
		close(l.c)
	}
}

func (l *errorLog) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}

func TestTLSShipAndCollect(t *testing.T) {
	for _, mechanism := range []string{"", "SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"} {
		t.Run("TLS+"+mechanism, func(t *testing.T) {
			var c *secureCluster
			if mechanism == "" {
				c = newSecureCluster(t)
			} else {
				c = newSecureCluster(t, mechanism)
			}
			url := c.url
			if mechanism != "" {
				url += "&sasl=" + strings.ToLower(mechanism) + "&user=shipper&password-file=" + neturl.QueryEscape(passwordFile(t, testPassword))
			}
			root, mirror := t.TempDir(), t.TempDir()
			s := newSource(t, root, "h1", "AgentServer", true)
			s.log(t, 40)
			r := newRunner()
			startShipper(t, r, s, url)
			startCollector(t, r, url, mirror)
			s.log(t, 25)
			s.close(t)
			s.waitMirrored(t, mirror)
			r.stop(t)
			s.checkMirror(t, mirror)
		})
	}
}

// TestTLSUnknownAuthority ships and collects through brokers whose
// certificate another CA signed than the one the clients trust: each
// reports that once, nothing is acknowledged and the shipper's cursor
// stays where the last good run left it.
func TestTLSUnknownAuthority(t *testing.T) {
	c := newSecureCluster(t)
	other := testpki.New(t, "other")
	url := strings.Replace(c.url, "ca="+neturl.QueryEscape(c.ca.File), "ca="+neturl.QueryEscape(other.File), 1)
	root, mirror := t.TempDir(), t.TempDir()
	s := newSource(t, root, "h1", "AgentServer", false)
	s.log(t, 10)
	r := newRunner()
	startShipper(t, r, s, c.url)
	startCollector(t, r, c.url, mirror)
	s.waitMirrored(t, mirror)
	cpath := ship.CursorPath(s.dir, s.module, url)
	waitFor(t, "the cursor", func() bool { _, err := ship.ReadCursor(cpath); return err == nil })
	r.stop(t)
	before, err := ship.ReadCursor(cpath)
	if err != nil {
		t.Fatal(err)
	}
	s.log(t, 10)
	s.close(t)

	shipLog, shipCount := newErrorLog(), &connCounter{}
	d, err := Open(url, Config{MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, OnError: shipLog.add, Options: shipCount.options()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sh := &Shipper{Dir: s.dir, Module: s.module, Host: s.host, Dest: d, URL: url, Poll: 10 * time.Millisecond}
	collectLog, collectCount := newErrorLog(), &connCounter{}
	col, err := NewCollector(url, "mirror", mirror, Config{OnError: collectLog.add, Options: append(groupOptions[:len(groupOptions):len(groupOptions)], kgo.WithHooks(collectCount))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- sh.Run(ctx) }()
	go func() { done <- col.Run(ctx) }()
	waitFor(t, "five failed connections of each", func() bool {
		return shipCount.failed.Load() >= 5 && collectCount.failed.Load() >= 5
	})
	cancel()
	for range 2 {
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run: %v", err)
		}
	}
	if err := col.Close(); err != nil {
		t.Fatal(err)
	}
	for _, errs := range [][]error{shipLog.all(), collectLog.all()} {
		var unknown x509.UnknownAuthorityError
		if len(errs) != 1 || !errors.As(errs[0], &unknown) {
			t.Fatalf("reported %v; want one x509.UnknownAuthorityError", errs)
		}
		t.Logf("reported: %v", errs[0])
	}
	after, err := ship.ReadCursor(cpath)
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Fatalf("the cursor moved from %+v to %+v", before, after)
	}
	if st := col.Stats(); st != (Stats{}) {
		t.Fatalf("the collector consumed %+v", st)
	}
}

// connCounter counts failed connection attempts, and the attempts the
// client backed off before.
type connCounter struct {
	failed  atomic.Int32
	backoff atomic.Int32
}

func (c *connCounter) OnBrokerConnect(_ kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err != nil {
		c.failed.Add(1)
	}
}

func (c *connCounter) options() []kgo.Opt {
	return append(fastOptions[:len(fastOptions):len(fastOptions)], kgo.WithHooks(c),
		kgo.RetryBackoffFn(func(int) time.Duration { c.backoff.Add(1); return 10 * time.Millisecond }))
}

// TestSASLWrongPassword ships and collects with a wrong SCRAM password:
// the error says so and is reported once, though the client tries again
// and again, backing off; nothing is acknowledged.
func TestSASLWrongPassword(t *testing.T) {
	c := newSecureCluster(t, "SCRAM-SHA-512")
	url := c.url + "&sasl=scram-sha-512&user=shipper"
	t.Run("ship", func(t *testing.T) {
		log, count := newErrorLog(), &connCounter{}
		d, err := Open(url, Config{Password: "wrong", OnError: log.add, Options: count.options()})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			waitFor(t, "five failed connections", func() bool { return count.failed.Load() >= 5 })
			cancel()
		}()
		n, err := d.Ship(ctx, messages("h1", "M", 3))
		if n != 0 || !errors.Is(err, context.Canceled) || !isAuthFailure(err) {
			t.Fatalf("Ship = %d, %v; want 0, the cancellation and the failed authentication", n, err)
		}
		checkReportedOnce(t, log, count)
	})
	t.Run("collect", func(t *testing.T) {
		log, count := newErrorLog(), &connCounter{}
		col, err := NewCollector(url, "mirror", t.TempDir(), Config{Password: "wrong", OnError: log.add, Options: count.options()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			waitFor(t, "five failed connections", func() bool { return count.failed.Load() >= 5 })
			cancel()
		}()
		if err := col.Run(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Run: %v", err)
		}
		if err := col.Close(); err != nil {
			t.Fatal(err)
		}
		if st := col.Stats(); st != (Stats{}) {
			t.Fatalf("stats %+v", st)
		}
		checkReportedOnce(t, log, count)
	})
}

// isAuthFailure reports whether err says that authentication failed: a
// real broker answers SASL_AUTHENTICATION_FAILED; the test cluster closes
// the connection, and the error says what that can mean.
func isAuthFailure(err error) bool {
	return errors.Is(err, kerr.SaslAuthenticationFailed) ||
		errors.Is(err, io.EOF) && strings.Contains(err.Error(), "a wrong SASL user or password (sasl=scram-sha-512, user shipper)")
}

func checkReportedOnce(t *testing.T, log *errorLog, count *connCounter) {
	t.Helper()
	errs := log.all()
	if len(errs) != 1 || !isAuthFailure(errs[0]) {
		t.Fatalf("reported %v; want one failed authentication", errs)
	}
	t.Logf("reported once for %d failed connections: %v", count.failed.Load(), errs[0])
	if count.backoff.Load() == 0 {
		t.Fatal("the client did not back off between attempts")
	}
}
