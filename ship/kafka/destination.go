package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/auditkit/audit/internal/redact"
	"github.com/auditkit/audit/ship"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Config tunes a [Destination] or a [Collector]. Every field's zero value is
// a working default.
type Config struct {
	// MinBackoff is the wait after the first failed attempt of Ship; it
	// doubles after each further failure up to MaxBackoff. Zero means
	// 100 ms and 30 seconds.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// OnError, when set, is called with the first error of each streak of
	// failures (not once per retry). A streak ends when an attempt
	// succeeds. Failures to connect to a broker (the dial, the TLS
	// handshake, SASL authentication) make streaks of their own, which
	// end when a connection succeeds; they are reported from the
	// client's goroutines, so OnError must be safe to call from more
	// than one goroutine.
	OnError func(error)
	// Password is the SASL password when the URL names a mechanism
	// (sasl=) but no password-file=. It is not taken from the URL, where
	// ps and logs would show it.
	Password string
	// Options are further options of the Kafka client. They are applied
	// after the ones the package sets, the URL's TLS and SASL included, so
	// they can override them; overriding the acknowledgements or
	// idempotence weakens the delivery guarantees.
	Options []kgo.Opt
}

const (
	defaultMinBackoff = 100 * time.Millisecond
	defaultMaxBackoff = 30 * time.Second
	defaultPort       = "9092"
)

// Header keys of the records a [Destination] produces.
const (
	HeaderHost    = "host"
	HeaderModule  = "module"
	HeaderFile    = "file"
	HeaderSeq     = "seq"
	HeaderType    = "type"
	HeaderOutcome = "outcome"
)

// TypeHead is the value of the type header of a record that carries a
// module's head file (see [Destination.ShipHead]) rather than an audit
// record.
const TypeHead = "HEAD"

// Target is a parsed kafka:// or kafka+tls:// URL.
type Target struct {
	// Brokers are the seed brokers, host:port (port 9092 when the URL gives
	// none).
	Brokers []string
	// Topic is the topic records go to.
	Topic string
	// TLS is set for kafka+tls://: the client speaks TLS 1.2 or later and
	// verifies the brokers' certificates.
	TLS bool
	// CAFile (option ca) is a PEM file of the certificates that may sign
	// the brokers' certificates; empty means the system's roots.
	CAFile string
	// CertFile and KeyFile (options cert and key) are a PEM client
	// certificate and its key, sent when a broker asks for one. Both or
	// neither.
	CertFile, KeyFile string
	// ServerName (option servername) is the name every broker's
	// certificate must hold; empty means the broker's host as dialled.
	ServerName string
	// SASL (option sasl) is the SASL mechanism: "" for none, [SASLPlain],
	// [SASLScramSHA256] or [SASLScramSHA512].
	SASL string
	// User (option user) is the SASL user name.
	User string
	// PasswordFile (option password-file) is a file that holds the SASL
	// password, readable and writable by its owner only.
	PasswordFile string
	// AllowCleartext (option cleartext=allow) accepts SASL PLAIN without
	// TLS, which sends the password in clear.
	AllowCleartext bool
}

// String returns the URL of t without its options.
func (t Target) String() string {
	scheme := "kafka://"
	if t.TLS {
		scheme = "kafka+tls://"
	}
	return scheme + strings.Join(t.Brokers, ",") + "/" + t.Topic
}

// ParseURL parses kafka://broker1[:port],broker2[:port]/topic, or
// kafka+tls:// for TLS, with options in the query (see [Target]):
//
//	kafka+tls://b1,b2/topic?ca=FILE&cert=FILE&key=FILE&servername=NAME
//	kafka+tls://b1,b2/topic?sasl=scram-sha-512&user=NAME&password-file=FILE
//
// Each option may be given once; ca, cert, key and servername apply to
// kafka+tls:// only, and sasl=plain over kafka:// needs cleartext=allow.
// The password is not an option: it comes from password-file or
// [Config.Password]. The topic must be a legal Kafka topic name: 1 to 249
// ASCII letters, digits, '.', '_' and '-', and neither "." nor "..".
// ParseURL reads no file. Errors wrap [ship.ErrBadDestination].
func ParseURL(raw string) (Target, error) {
	shown := redact.URL(raw)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("audit: destination %q: %s: %w", shown, fmt.Sprintf(format, args...), ship.ErrBadDestination)
	}
	var t Target
	rest, ok := strings.CutPrefix(raw, "kafka://")
	if !ok {
		if rest, ok = strings.CutPrefix(raw, "kafka+tls://"); !ok {
			return Target{}, bad("want kafka://broker1,broker2/topic or kafka+tls://")
		}
		t.TLS = true
	}
	rest, query, _ := strings.Cut(rest, "?")
	hosts, topic, ok := strings.Cut(rest, "/")
	if !ok || topic == "" {
		return Target{}, bad("missing topic: want kafka://broker1,broker2/topic")
	}
	if strings.Contains(hosts, "@") {
		return Target{}, bad("credentials do not go before the brokers: use the options sasl, user and password-file")
	}
	if strings.ContainsAny(hosts, "#") || strings.ContainsAny(topic, "/#") || strings.Contains(query, "#") {
		return Target{}, bad("want kafka://broker1,broker2/topic?options and nothing else")
	}
	if err := checkTopic(topic); err != nil {
		return Target{}, bad("%v", err)
	}
	t.Topic = topic
	if err := t.parseOptions(query); err != nil {
		return Target{}, bad("%v", err)
	}
	for h := range strings.SplitSeq(hosts, ",") {
		if h == "" {
			return Target{}, bad("empty broker in the list")
		}
		host, port := h, defaultPort
		if strings.HasPrefix(h, "[") || strings.Count(h, ":") == 1 {
			var err error
			if host, port, err = net.SplitHostPort(h); err != nil {
				return Target{}, bad("broker %q: %v", h, err)
			}
		} else if strings.Contains(h, ":") {
			return Target{}, bad("broker %q: an IPv6 address goes in brackets", h)
		}
		if host == "" {
			return Target{}, bad("broker %q: missing host", h)
		}
		if !validBrokerHost(host) {
			return Target{}, bad("broker %q: bad host %q", h, host)
		}
		if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
			return Target{}, bad("broker %q: bad port %q", h, port)
		}
		t.Brokers = append(t.Brokers, net.JoinHostPort(host, port))
	}
	return t, nil
}

// validBrokerHost reports whether host can be a host name or an IP
// address (IPv6 with a zone): ASCII letters, digits, '.', '-', '_', ':'
// and '%'.
func validBrokerHost(host string) bool {
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_:%", c) >= 0) {
			return false
		}
	}
	return true
}

func checkTopic(topic string) error {
	if len(topic) > 249 {
		return fmt.Errorf("topic longer than 249 bytes")
	}
	if topic == "." || topic == ".." {
		return fmt.Errorf("topic %q is not allowed", topic)
	}
	for i := 0; i < len(topic); i++ {
		c := topic[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic %q: byte %q not allowed", topic, c)
		}
	}
	return nil
}

// Destination produces audit records to a Kafka topic. It implements
// [ship.Destination]: Ship returns, as n, the number of messages from the
// first that the brokers acknowledged (from all in-sync replicas).
//
// A Destination is used by one goroutine at a time, like every
// [ship.Destination].
type Destination struct {
	cl       *kgo.Client
	target   Target
	cfg      Config
	watch    *connWatch
	failures int
	closed   bool
	// sleep waits d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

var _ ship.Destination = (*Destination)(nil)

// Open returns the [Destination] of a kafka:// or kafka+tls:// URL (see
// [ParseURL]). It does not connect: the first Ship does, so that brokers
// that are down at start-up are retried like any other outage. Files named
// in the URL are read now, so an unreadable CA, certificate, key or
// password file is an error here.
func Open(rawURL string, cfg Config) (*Destination, error) {
	t, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	sec, err := t.clientOptions(cfg.Password)
	if err != nil {
		return nil, fmt.Errorf("audit: destination %s: %v: %w", t, err, ship.ErrBadDestination)
	}
	cfg = cfg.withDefaults()
	opts := []kgo.Opt{
		kgo.SeedBrokers(t.Brokers...),
		kgo.DefaultProduceTopic(t.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		// Idempotence is kgo's default; the acks above are what it needs.
		// Records with the same key go to the same partition.
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.ProducerLinger(0),
	}
	watch := &connWatch{target: t, report: cfg.OnError}
	opts = append(append(opts, sec...), kgo.WithHooks(watch))
	cl, err := kgo.NewClient(append(opts, cfg.Options...)...)
	if err != nil {
		return nil, fmt.Errorf("audit: destination %s: %v: %w", t, err, ship.ErrBadDestination)
	}
	return &Destination{cl: cl, target: t, cfg: cfg, watch: watch, sleep: sleepCtx}, nil
}

func (c Config) withDefaults() Config {
	if c.MinBackoff <= 0 {
		c.MinBackoff = defaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = defaultMaxBackoff
	}
	c.MaxBackoff = max(c.MaxBackoff, c.MinBackoff)
	return c
}

// Key returns the record key of a module's records: host + "/" + module.
func Key(host, module string) string { return host + "/" + module }

// record returns the Kafka record of m, or an error wrapping
// [ship.ErrBadMessage] when m lacks what identifies it.
func record(m *ship.Message) (*kgo.Record, error) {
	if m.Host == "" || m.Module == "" || m.File == "" || strings.Contains(m.Host, "/") || strings.ContainsAny(m.Host, `\`) || strings.ContainsAny(m.Module, `/\`) {
		return nil, fmt.Errorf("audit: record %d: host %q, module %q and file %q must be non-empty, host and module without slashes: %w", m.Seq, m.Host, m.Module, m.File, ship.ErrBadMessage)
	}
	if m.Host == "." || m.Host == ".." {
		return nil, fmt.Errorf("audit: record %d: host %q is not a directory name: %w", m.Seq, m.Host, ship.ErrBadMessage)
	}
	r := &kgo.Record{
		Key:   []byte(Key(m.Host, m.Module)),
		Value: append([]byte(nil), m.Line...),
		Headers: []kgo.RecordHeader{
			{Key: HeaderHost, Value: []byte(m.Host)},
			{Key: HeaderModule, Value: []byte(m.Module)},
			{Key: HeaderFile, Value: []byte(m.File)},
			{Key: HeaderSeq, Value: strconv.AppendUint(nil, m.Seq, 10)},
			{Key: HeaderType, Value: []byte(typeName(m))},
			{Key: HeaderOutcome, Value: []byte(outcomeName(m))},
		},
	}
	if !m.Time.IsZero() {
		r.Timestamp = m.Time
	}
	return r, nil
}

func typeName(m *ship.Message) string {
	if m.Type.Valid() {
		return m.Type.String()
	}
	return "-"
}

func outcomeName(m *ship.Message) string { return m.Outcome.String() }

// Ship produces msgs in order and returns how many of them, from the first,
// the brokers acknowledged. It retries what was not acknowledged, backing
// off between attempts and reporting the first error of each streak to
// [Config.OnError], until everything is acknowledged or ctx is done; then
// err wraps ctx.Err() and the last error. A message without host, module or
// file stops Ship with msgs[n] being that message and err wrapping
// [ship.ErrBadMessage].
func (d *Destination) Ship(ctx context.Context, msgs []ship.Message) (int, error) {
	if d.closed {
		return 0, ship.ErrClosed
	}
	done := 0
	for done < len(msgs) {
		n, err := d.send(ctx, msgs[done:])
		done += n
		if err == nil {
			d.failures = 0
			continue
		}
		if errors.Is(err, ship.ErrBadMessage) {
			return done, err
		}
		if cerr := ctx.Err(); cerr != nil {
			// The records may have waited for a connection that failed.
			return done, errors.Join(cerr, err, d.watch.err())
		}
		d.failures++
		if d.failures == 1 && d.cfg.OnError != nil {
			d.cfg.OnError(err)
		}
		if werr := d.sleep(ctx, backoff(d.cfg.MinBackoff, d.cfg.MaxBackoff, d.failures)); werr != nil {
			return done, errors.Join(werr, err)
		}
	}
	return done, nil
}

// send produces msgs once and returns the acknowledged prefix; err is nil
// only when all of them were acknowledged.
func (d *Destination) send(ctx context.Context, msgs []ship.Message) (int, error) {
	recs := make([]*kgo.Record, 0, len(msgs))
	var bad error
	for i := range msgs {
		r, err := record(&msgs[i])
		if err != nil {
			bad = err
			break
		}
		recs = append(recs, r)
	}
	res := d.produce(ctx, recs)
	n := 0
	for n < len(res) && res[n].done && res[n].err == nil {
		n++
	}
	switch {
	case n < len(res):
		if res[n].done {
			return n, fmt.Errorf("audit: %s: record %d of module %s: %w", d.target, msgs[n].Seq, msgs[n].Module, res[n].err)
		}
		return n, fmt.Errorf("audit: %s: record %d of module %s: not acknowledged: %w", d.target, msgs[n].Seq, msgs[n].Module, ctx.Err())
	case bad != nil:
		return n, bad
	}
	return n, nil
}

// result is the outcome of one produced record.
type result struct {
	done bool
	err  error
}

// produce produces recs and waits for their acknowledgements or for ctx.
// The returned results are safe to read: when ctx ends first, the records
// still in flight are reported as not done.
func (d *Destination) produce(ctx context.Context, recs []*kgo.Record) []result {
	var mu sync.Mutex
	res := make([]result, len(recs))
	left := len(recs)
	all := make(chan struct{})
	if left == 0 {
		close(all)
	}
	for i, r := range recs {
		d.cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			res[i] = result{done: true, err: err}
			if left--; left == 0 {
				close(all)
			}
		})
	}
	select {
	case <-all:
	case <-ctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	return append([]result(nil), res...)
}

// ShipHead produces the contents of a module's head file (the file
// <Module>.audit.head beside its audit files) as a record with the module's
// key, so that it follows the module's records in their partition, and the
// type header [TypeHead]. A collector writes it into the mirror once the
// mirror holds the record it vouches for. It retries like Ship.
func (d *Destination) ShipHead(ctx context.Context, host, module string, head []byte) error {
	if d.closed {
		return ship.ErrClosed
	}
	m := ship.Message{Host: host, Module: module, File: "-"}
	r, err := record(&m)
	if err != nil {
		return err
	}
	r.Value = append([]byte(nil), head...)
	r.Headers = []kgo.RecordHeader{
		{Key: HeaderHost, Value: []byte(host)},
		{Key: HeaderModule, Value: []byte(module)},
		{Key: HeaderType, Value: []byte(TypeHead)},
	}
	for {
		res := d.produce(ctx, []*kgo.Record{r})
		if res[0].done && res[0].err == nil {
			d.failures = 0
			return nil
		}
		err := fmt.Errorf("audit: %s: head of module %s: %w", d.target, module, res[0].err)
		if !res[0].done {
			err = fmt.Errorf("audit: %s: head of module %s: not acknowledged", d.target, module)
		}
		if cerr := ctx.Err(); cerr != nil {
			return errors.Join(cerr, err, d.watch.err())
		}
		d.failures++
		if d.failures == 1 && d.cfg.OnError != nil {
			d.cfg.OnError(err)
		}
		if werr := d.sleep(ctx, backoff(d.cfg.MinBackoff, d.cfg.MaxBackoff, d.failures)); werr != nil {
			return errors.Join(werr, err)
		}
	}
}

// Close flushes nothing and closes the client: records not acknowledged by
// then are not delivered (the shipper resends them from its cursor). Later
// calls of Ship return [ship.ErrClosed]. Close may be called more than
// once.
func (d *Destination) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	d.cl.Close()
	return nil
}

// backoff returns the wait after the given number of consecutive failures
// (1 or more): lo, doubling each time, capped at hi.
func backoff(lo, hi time.Duration, failures int) time.Duration {
	d := lo
	for i := 1; i < failures && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

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
