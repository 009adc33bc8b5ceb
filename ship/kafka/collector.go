package kafka

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/auditkit/audit/ship"
)

// Collector consumes a topic that [Destination]s produce to, in a consumer
// group, and writes each host's and module's records into mirror files in
// a directory: DIR/<host>/<Module>.audit-<UTC time>.log, one per source
// file, named by the time of the file's first record, so that
// [audit.Verify], [audit.ListFiles] and auditlog's verify, query and stats
// read DIR/<host> as they read the host's audit directory. A sealed
// module's newest head file that the mirror covers is kept as
// DIR/<host>/<Module>.audit.head.
//
// After each batch of records the Collector syncs the files it wrote and
// only then commits the batch's offsets, so a crash costs re-reading from
// the last committed offset; records already in the mirror are recognised
// by (host, module, file, seq) and dropped. Records of one module arrive in
// order, since they share a key and so a partition; a record that comes
// after one the mirror lacks (the shipper resends from the first record
// that was not acknowledged) is dropped and reported, and the resent
// records fill the mirror in order.
//
// Several collectors in the same group share the partitions; each module
// is written by the collector that holds its partition. Collectors of one
// group may write to the same directory: a module's mirror is reopened
// from its files when its partition moves.
//
// [Collector.Close] leaves the group, so that the other collectors take
// its partitions at once. A collector that dies without Close (a crash, a
// SIGKILL) stays a member until its session times out, 45 seconds unless
// kgo.SessionTimeout in [Config.Options] says otherwise: the rebalance
// that a collector started in its place asks for waits until then, and
// the new collector gets no partitions before it ends.
type Collector struct {
	dir    string
	cl     *kgo.Client
	cfg    Config
	target Target

	mu      sync.Mutex
	mirrors map[string]*mirror // by Key(host, module)

	stats    Stats // guarded by mu
	failures int
	// afterWrite, when set, is called after a batch was written and
	// before it is synced and committed (tests).
	afterWrite func()
}

// commitTimeout bounds a commit of offsets.
const commitTimeout = 5 * time.Second

// Stats counts what a [Collector] did with the records it consumed.
type Stats struct {
	// Written is the records written into the mirror.
	Written uint64
	// Duplicates is the records dropped because the mirror had them.
	Duplicates uint64
	// Ahead is the records dropped because the mirror lacked a record
	// before them; the shipper resends them in order.
	Ahead uint64
	// Bad is the records that are not audit records or heads.
	Bad uint64
}

// NewCollector returns a Collector of the topic of a kafka:// or
// kafka+tls:// URL (see [ParseURL]) in consumer group group, writing under
// dir. It does not connect before Run; files named in the URL are read
// now.
func NewCollector(rawURL, group, dir string, cfg Config) (*Collector, error) {
	t, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if group == "" {
		return nil, fmt.Errorf("audit: collector of %s: a consumer group is required: %w", t, ship.ErrBadDestination)
	}
	if dir == "" {
		return nil, fmt.Errorf("audit: collector of %s: a directory is required", t)
	}
	sec, err := t.clientOptions(cfg.Password)
	if err != nil {
		return nil, fmt.Errorf("audit: collector of %s: %v: %w", t, err, ship.ErrBadDestination)
	}
	c := &Collector{dir: dir, cfg: cfg.withDefaults(), target: t, mirrors: map[string]*mirror{}}
	forget := func(context.Context, *kgo.Client, map[string][]int32) { c.forget() }
	opts := []kgo.Opt{
		kgo.SeedBrokers(t.Brokers...),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(t.Topic),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsRevoked(forget),
		kgo.OnPartitionsLost(forget),
	}
	opts = append(append(opts, sec...), kgo.WithHooks(&connWatch{target: t, report: c.report}))
	c.cl, err = kgo.NewClient(append(opts, cfg.Options...)...)
	if err != nil {
		return nil, fmt.Errorf("audit: collector of %s: %v: %w", t, err, ship.ErrBadDestination)
	}
	return c, nil
}

// Run consumes until ctx is done, then returns ctx's error without
// committing what it consumed since the last commit. It returns earlier on
// an error writing the mirror, after which the Collector must be closed: a
// new one resumes from the last commit.
func (c *Collector) Run(ctx context.Context) error {
	for {
		fetches := c.cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		fetches.EachError(func(topic string, p int32, err error) {
			c.report(fmt.Errorf("audit: collector of %s: partition %d: %w", c.target, p, err))
		})
		var werr error
		c.mu.Lock()
		fetches.EachRecord(func(r *kgo.Record) {
			if werr == nil {
				werr = c.handle(r, &c.stats)
			}
		})
		c.mu.Unlock()
		if werr != nil {
			return werr
		}
		if c.afterWrite != nil {
			c.afterWrite()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.syncAll(); err != nil {
			return err
		}
		// A commit can wait on a rebalance that waits on AllowRebalance
		// below: bound it. A commit that did not happen only means
		// re-reading records that the mirror already has.
		cctx, cancel := context.WithTimeout(ctx, commitTimeout)
		err := c.cl.CommitUncommittedOffsets(cctx)
		cancel()
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			// The records are in the mirror: they come again and are
			// dropped as duplicates.
			c.failures++
			if c.failures == 1 {
				c.report(fmt.Errorf("audit: collector of %s: commit: %w", c.target, err))
			}
		} else {
			c.failures = 0
		}
		c.cl.AllowRebalance()
	}
}

func (c *Collector) report(err error) {
	if c.cfg.OnError != nil {
		c.cfg.OnError(err)
	}
}

// Stats returns what the Collector did with the records it consumed so far.
func (c *Collector) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// handle writes one record into its mirror.
func (c *Collector) handle(r *kgo.Record, st *Stats) error {
	var host, module, file, seqText, typ string
	for _, h := range r.Headers {
		switch h.Key {
		case HeaderHost:
			host = string(h.Value)
		case HeaderModule:
			module = string(h.Value)
		case HeaderFile:
			file = string(h.Value)
		case HeaderSeq:
			seqText = string(h.Value)
		case HeaderType:
			typ = string(h.Value)
		}
	}
	seq, serr := strconv.ParseUint(seqText, 10, 64)
	if !validHost(host) || !moduleRE.MatchString(module) || typ != TypeHead && (file == "" || serr != nil || seq == 0) {
		st.Bad++
		c.report(fmt.Errorf("audit: collector of %s: partition %d offset %d: not an audit record (host %q, module %q, file %q, seq %q): skipped", c.target, r.Partition, r.Offset, host, module, file, seqText))
		return nil
	}
	key := Key(host, module)
	m := c.mirrors[key]
	if m == nil {
		var err error
		if m, err = loadMirror(filepath.Join(c.dir, host), host, module); err != nil {
			return err
		}
		c.mirrors[key] = m
	}
	if typ == TypeHead {
		if !m.offerHead(r.Value) {
			st.Bad++
			c.report(fmt.Errorf("audit: collector of %s: partition %d offset %d: malformed head of %s: skipped", c.target, r.Partition, r.Offset, key))
		}
		return nil
	}
	o, err := m.add(file, seq, r.Value, r.Timestamp)
	if err != nil {
		return err
	}
	switch o {
	case written:
		st.Written++
	case duplicate:
		st.Duplicates++
	case ahead:
		st.Ahead++
		c.report(fmt.Errorf("audit: collector of %s: record %d of file %s of %s comes before the mirror's record %d: dropped until it is resent", c.target, seq, file, key, m.lastSeq+1))
	}
	return nil
}

// validHost reports whether host can name a directory.
func validHost(h string) bool {
	if h == "" || h == "." || h == ".." || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; c <= ' ' || c == '/' || c == '\\' || c == 0x7f {
			return false
		}
	}
	return true
}

func (c *Collector) syncAll() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, m := range c.mirrors {
		errs = append(errs, m.sync())
	}
	return errors.Join(errs...)
}

// forget closes the mirrors: partitions moved, and the modules of those
// that come back are reopened from their files.
func (c *Collector) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, m := range c.mirrors {
		if err := m.close(); err != nil {
			c.report(err)
		}
		delete(c.mirrors, k)
	}
}

// Close closes the mirror files and the client, leaving the group without
// committing.
func (c *Collector) Close() error {
	c.mu.Lock()
	var errs []error
	for k, m := range c.mirrors {
		errs = append(errs, m.close())
		delete(c.mirrors, k)
	}
	c.mu.Unlock()
	// Run may have returned between a poll and AllowRebalance.
	c.cl.CloseAllowingRebalance()
	return errors.Join(errs...)
}
