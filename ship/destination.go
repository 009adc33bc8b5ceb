package ship

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditkit/audit/internal/redact"
)

// Destination delivers messages to one receiver. The follower of a
// module's audit files calls Ship with the next records in file order and
// advances its [Cursor] past the ones Ship reports as acknowledged.
//
// A Destination is used by one goroutine at a time; Close must not run at
// the same time as Ship (cancel Ship's context first).
type Destination interface {
	// Ship delivers msgs in order and returns n, the number of msgs, from
	// the first, that are acknowledged: msgs[:n] were received (RELP: the
	// server answered 200 OK; TCP and TLS: written to the connection, the
	// best those protocols tell), msgs[n:] were not. It reconnects and
	// resends what was not acknowledged, backing off between attempts,
	// until everything is acknowledged or ctx is done; then err wraps
	// ctx.Err() and the last delivery error. A message that cannot be
	// rendered stops Ship with msgs[n] being that message and err wrapping
	// [ErrBadMessage]; nothing is skipped without the caller knowing.
	// Ship does not keep msgs, or anything they point to, after it
	// returns.
	Ship(ctx context.Context, msgs []Message) (n int, err error)
	// Close ends the connection (RELP: with a "close" command) and
	// releases it; later calls of Ship return [ErrClosed]. Close may be
	// called more than once.
	Close() error
}

// Config says where and how a [Destination] delivers. Only URL is
// required; every other field's zero value is a working default.
type Config struct {
	// URL is the destination:
	//
	//	tcp://host:port        RFC 5424 messages, RFC 6587 octet-counting framing
	//	tls://host:port        the same over TLS (RFC 5425)
	//	relp://host:port       RELP, acknowledged delivery to rsyslog's imrelp
	//	relp+tls://host:port   RELP over TLS (imrelp with tls="on")
	//
	// Options may also be given in the query, each at most once, and must
	// then agree with the field of the same meaning when both are set:
	// ca, cert, key and servername for the TLS schemes, window for the
	// RELP ones, maxsize (MaxMessageSize, in bytes or with a k or m
	// suffix) for all. For example
	// tls://logs.example.net:6514?ca=/etc/audit/ca.pem&maxsize=64k.
	URL string `json:"url"`
	// Format sets the syslog facility and SD-ID; the zero value uses
	// [FacilityLogAudit] and [DefaultSDID].
	Format Format `json:"format"`
	// CAFile is a PEM file of the certificates that may sign the server's
	// certificate (tls://, relp+tls://). Empty means the system's roots.
	CAFile string `json:"ca_file"`
	// CertFile and KeyFile are a PEM client certificate and its key, sent
	// when the server asks for one (tls://, relp+tls://). Both or neither.
	CertFile string `json:"cert_file"`
	KeyFile  string `json:"key_file"`
	// ServerName is the name the server's certificate must hold (tls://,
	// relp+tls://).
	// Empty means the URL's host.
	ServerName string `json:"server_name"`
	// Window is how many RELP messages may be unacknowledged at a time.
	// Zero means 256; at most 4096.
	Window int `json:"window"`
	// MaxMessageSize is the longest message, in bytes (the RFC 5424
	// message, without framing), that the receiver takes whole. Zero means
	// 8096, what rsyslog keeps whole under its default maxMessageSize of
	// 8k; from 480 (what RFC 5424 receivers must take) to 64 MiB. A
	// record whose message is longer is not sent: Ship stops at it with
	// an error wrapping [ErrBadMessage], and a [Shipper] skips and reports
	// it. A receiver that takes a longer message cuts it (rsyslog, even
	// while answering RELP's 200 OK) or, over TCP, splits it into several
	// messages, the tail of the record parsed as a message of its own,
	// with whatever header its bytes hold. To ship records up to
	// [audit.MaxRecordSize], raise the receiver's limit (rsyslog:
	// maxMessageSize, and imrelp's maxDataSize) and this one to match,
	// for example with ?maxsize=2m.
	MaxMessageSize int `json:"max_message_size"`
	// DialTimeout bounds a connection attempt, TLS handshake and RELP
	// "open" included. Zero means 10 seconds.
	DialTimeout time.Duration `json:"dial_timeout"`
	// WriteTimeout bounds a write and, for RELP, the wait for an answer.
	// Zero means 30 seconds.
	WriteTimeout time.Duration `json:"write_timeout"`
	// MinBackoff is the wait after the first failure; it doubles after each
	// further failure up to MaxBackoff. Zero means 100 ms and 30 seconds.
	MinBackoff time.Duration `json:"min_backoff"`
	MaxBackoff time.Duration `json:"max_backoff"`
	// OnError, when set, is called with the first error of each streak of
	// failed attempts (not once per retry), from the goroutine that called
	// Ship. A streak ends when an attempt succeeds.
	OnError func(error) `json:"-"`
}

// ErrClosed is returned by [Destination.Ship] after [Destination.Close].
var ErrClosed = errors.New("audit: destination closed")

// ErrBadDestination is wrapped by the errors of a [Config] that cannot be
// used: a bad URL, a missing port, an unknown option, an unreadable CA or
// certificate file.
var ErrBadDestination = errors.New("bad destination")

// Open checks cfg and returns its [Destination]. It does not connect: the
// first Ship does, so that a receiver that is down at start-up is retried
// like any other outage. Files named in cfg are read now, so an unreadable
// CA file is an error here.
func Open(cfg Config) (Destination, error) {
	c, err := parseConfig(cfg)
	if err != nil {
		return nil, err
	}
	switch c.scheme {
	case "relp", "relp+tls":
		return newRELP(c), nil
	default:
		return newStream(c), nil
	}
}

// config is a checked Config.
type config struct {
	Config
	scheme string // "tcp", "tls", "relp" or "relp+tls"
	addr   string // host:port
	name   string // the URL without its query, for error texts
	tls    *tls.Config
}

const (
	// defaultMaxMessageSize is the longest message that rsyslog (8.2302)
	// keeps whole under its default maxMessageSize of 8k, over TCP and
	// RELP alike: measured, since the documentation says 8k.
	defaultMaxMessageSize = 8096
	minMessageSize        = 480
	maxMessageSize        = 64 << 20
	defaultWindow         = 256
	maxWindow             = 4096
	defaultDialTimeout    = 10 * time.Second
	defaultWriteTimeout   = 30 * time.Second
	defaultMinBackoff     = 100 * time.Millisecond
	defaultMaxBackoff     = 30 * time.Second
)

func parseConfig(cfg Config) (*config, error) {
	shown := redact.URL(cfg.URL)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("audit: destination %q: %s: %w", shown, fmt.Sprintf(format, args...), ErrBadDestination)
	}
	if !strings.Contains(cfg.URL, "://") {
		return nil, bad("no scheme: want tcp://, tls:// or relp://")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, bad("%v", errors.Unwrap(err))
	}
	c := &config{Config: cfg, scheme: u.Scheme}
	switch u.Scheme {
	case "tcp", "tls", "relp", "relp+tls":
	case "":
		return nil, bad("no scheme: want tcp://, tls://, relp:// or relp+tls://")
	case "kafka", "kafka+tls":
		return nil, bad("scheme %q: Kafka is shipped to by package github.com/auditkit/audit/ship/kafka and its command auditlog-kafka", u.Scheme)
	default:
		return nil, bad("unknown scheme %q: want tcp, tls, relp or relp+tls", u.Scheme)
	}
	useTLS := u.Scheme == "tls" || u.Scheme == "relp+tls"
	useRELP := u.Scheme == "relp" || u.Scheme == "relp+tls"
	if u.Opaque != "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return nil, bad("want %s://host:port and nothing else but a query", u.Scheme)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return nil, bad("missing host")
	}
	if port == "" {
		return nil, bad("missing port")
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return nil, bad("bad port %q", port)
	}
	c.addr = net.JoinHostPort(host, port)
	c.name = u.Scheme + "://" + c.addr

	allowed := map[string]*string{}
	if useTLS {
		allowed = map[string]*string{"ca": &c.CAFile, "cert": &c.CertFile, "key": &c.KeyFile, "servername": &c.ServerName}
	}
	if useRELP {
		allowed["window"] = nil
	}
	allowed["maxsize"] = nil
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, bad("query: %v", err)
	}
	for k, vs := range q {
		field, ok := allowed[k]
		if !ok {
			return nil, bad("unknown option %q for %s://", k, u.Scheme)
		}
		if len(vs) != 1 || vs[0] == "" {
			return nil, bad("option %q wants one value", k)
		}
		v := vs[0]
		if k == "maxsize" {
			size, ok := parseSize(v)
			if !ok {
				return nil, bad("maxsize %q: want a number of bytes, with an optional k or m suffix", v)
			}
			if c.MaxMessageSize != 0 && c.MaxMessageSize != size {
				return nil, bad("maxsize %d in the URL and %d in Config", size, c.MaxMessageSize)
			}
			c.MaxMessageSize = size
			continue
		}
		if k == "window" {
			w, err := strconv.Atoi(v)
			if err != nil {
				return nil, bad("window %q is not a number", v)
			}
			if c.Window != 0 && c.Window != w {
				return nil, bad("window %d in the URL and %d in Config", w, c.Window)
			}
			c.Window = w
			continue
		}
		if *field != "" && *field != v {
			return nil, bad("option %s=%q disagrees with Config's %q", k, v, *field)
		}
		*field = v
	}
	if !useTLS && (c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" || c.ServerName != "") {
		return nil, bad("CA, certificate and server name apply to tls:// and relp+tls:// only")
	}
	if !useRELP && c.Window != 0 {
		return nil, bad("window applies to relp:// and relp+tls:// only")
	}
	if c.MaxMessageSize != 0 && (c.MaxMessageSize < minMessageSize || c.MaxMessageSize > maxMessageSize) {
		return nil, bad("maxsize %d: want %d to %d bytes", c.MaxMessageSize, minMessageSize, maxMessageSize)
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = defaultMaxMessageSize
	}
	if c.Window < 0 || c.Window > maxWindow {
		return nil, bad("window %d: want 1 to %d", c.Window, maxWindow)
	}
	if err := c.Format.Validate(); err != nil {
		return nil, bad("%v", err)
	}
	if c.Window == 0 {
		c.Window = defaultWindow
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = defaultDialTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = defaultWriteTimeout
	}
	c.MinBackoff, c.MaxBackoff = backoffBounds(c.MinBackoff, c.MaxBackoff)
	if useTLS {
		if c.tls, err = c.tlsConfig(host); err != nil {
			return nil, bad("%v", err)
		}
	}
	return c, nil
}

// parseSize parses a size in bytes: decimal digits with an optional k or
// m suffix (any case) for KiB or MiB, as rsyslog writes its limits.
func parseSize(v string) (int, bool) {
	mult := 1
	switch {
	case strings.HasSuffix(v, "k"), strings.HasSuffix(v, "K"):
		mult, v = 1<<10, v[:len(v)-1]
	case strings.HasSuffix(v, "m"), strings.HasSuffix(v, "M"):
		mult, v = 1<<20, v[:len(v)-1]
	}
	if v == "" || len(v) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(v) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n * mult, true
}

// errTooLong returns the error of a message of n bytes, longer than the
// receiver takes.
func (c *config) errTooLong(m *Message, n int) error {
	return fmt.Errorf("audit: %s: record %d: a message of %d bytes is longer than the receiver takes whole (maxsize=%d): %w", c.name, m.Seq, n, c.MaxMessageSize, ErrBadMessage)
}

func (c *config) tlsConfig(host string) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if t.ServerName == "" {
		t.ServerName = host
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it", c.CAFile)
		}
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return nil, errors.New("client certificate and key go together: give both or neither")
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate %s and key %s: %w", c.CertFile, c.KeyFile, err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	return t, nil
}

// dial connects to the destination (and shakes hands for TLS).
func (c *config) dial(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.DialTimeout)
	defer cancel()
	d := &net.Dialer{KeepAlive: 30 * time.Second}
	var conn net.Conn
	var err error
	if c.tls != nil {
		conn, err = (&tls.Dialer{NetDialer: d, Config: c.tls}).DialContext(ctx, "tcp", c.addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", c.addr)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: %s: connect: %w", c.name, err)
	}
	return conn, nil
}

// retry counts the failed attempts of a streak, reports each kind of error
// of the streak once (its first, and another only when the cause changes,
// as from a refused connection to a refused TLS handshake) and waits
// between attempts.
type retry struct {
	min, max time.Duration
	onError  func(error)
	failures int
	// kinds are the kinds of error reported in this streak (see
	// errorKind), at most maxReportedKinds.
	kinds []string
	// sleep waits d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// maxReportedKinds bounds the kinds of error reported in one streak, so
// that a cause that keeps changing is not reported once per retry.
const maxReportedKinds = 4

// errorKind returns err's text without its digits: the same failure
// retried (a port, an address, a count in the text) is of one kind.
func errorKind(err error) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return -1
		}
		return r
	}, err.Error())
}

func newRetry(c *config) retry {
	return retry{min: c.MinBackoff, max: c.MaxBackoff, onError: c.OnError, sleep: sleepCtx}
}

// backoffBounds returns the bounds of the wait between attempts that a
// Config or ShipperConfig asks for: the defaults for zero (or negative)
// values, and hi raised to lo if below it.
func backoffBounds(lo, hi time.Duration) (time.Duration, time.Duration) {
	if lo <= 0 {
		lo = defaultMinBackoff
	}
	if hi <= 0 {
		hi = defaultMaxBackoff
	}
	return lo, max(hi, lo)
}

// backoff returns the wait after the given number of consecutive failures
// (1 or more): min, doubling each time, capped at max.
func backoff(lo, hi time.Duration, failures int) time.Duration {
	d := lo
	for i := 1; i < failures && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// failed records a failed attempt, reports err when it starts a streak or
// is of a kind not reported in it yet, and waits out the backoff. It
// returns an error when ctx is done.
func (r *retry) failed(ctx context.Context, err error) error {
	r.failures++
	if r.failures == 1 {
		r.kinds = r.kinds[:0]
	}
	if k := errorKind(err); r.onError != nil && len(r.kinds) < maxReportedKinds && !slices.Contains(r.kinds, k) {
		r.kinds = append(r.kinds, k)
		r.onError(err)
	}
	if werr := r.sleep(ctx, backoff(r.min, r.max, r.failures)); werr != nil {
		return errors.Join(werr, err)
	}
	return nil
}

// succeeded ends a streak.
func (r *retry) succeeded() { r.failures = 0 }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// deadline sets a connection's deadlines for each step, and moves them to
// the past when the context of the current call is done, so that a
// blocked read or write returns at once.
type deadline struct {
	conn      net.Conn
	cancelled chan struct{}
	stop      func() bool
}

// watch arms the context watch for one Ship call; the returned function
// disarms it.
func watch(ctx context.Context, conn net.Conn) *deadline {
	d := &deadline{conn: conn, cancelled: make(chan struct{})}
	d.stop = context.AfterFunc(ctx, func() {
		close(d.cancelled)
		conn.SetDeadline(time.Unix(1, 0))
	})
	return d
}

// set sets the deadline of the next step unless the call was cancelled.
// A cancellation that races with it still wins: AfterFunc's deadline is
// set after the channel is closed, and a step that started with a later
// deadline is ended by it.
func (d *deadline) set(t time.Time) {
	select {
	case <-d.cancelled:
	default:
		d.conn.SetDeadline(t)
		select {
		case <-d.cancelled:
			d.conn.SetDeadline(time.Unix(1, 0))
		default:
		}
	}
}

func (d *deadline) done() { d.stop() }
