package kafka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/auditkit/audit"
)

const topic = "audit"

// newCluster starts an in-process cluster of three brokers with the topic
// in the given number of partitions and further options, and returns it
// with its kafka:// URL.
func newCluster(t testing.TB, partitions int32, opts ...kfake.Opt) (*kfake.Cluster, string) {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(3), kfake.SeedTopics(partitions, topic),
		kfake.GroupMinSessionTimeout(100 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, "kafka://" + strings.Join(c.ListenAddrs(), ",") + "/" + topic
}

// fastOptions make the client retry and refresh its metadata soon, so
// that faults pass quickly.
var fastOptions = []kgo.Opt{
	kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }),
	kgo.MetadataMinAge(10 * time.Millisecond),
	kgo.MetadataMaxAge(500 * time.Millisecond),
}

// groupOptions make a killed member leave the group soon.
var groupOptions = []kgo.Opt{
	kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }),
	kgo.MetadataMinAge(10 * time.Millisecond),
	kgo.MetadataMaxAge(500 * time.Millisecond),
	kgo.SessionTimeout(time.Second),
	kgo.HeartbeatInterval(100 * time.Millisecond),
	kgo.RebalanceTimeout(5 * time.Second),
}

// source is a module on a simulated host, logging into its own directory.
type source struct {
	host, module, dir string
	key               []byte // the original key; nil for an unsealed module
	l                 *audit.Logger
	n                 int // events logged
}

// newSource starts a Logger for module in root/<host>, sealed with a new
// key unless unsealed, rotating every few records.
func newSource(t testing.TB, root, host, module string, sealed bool) *source {
	t.Helper()
	dir := filepath.Join(root, host)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	s := &source{host: host, module: module, dir: dir}
	cfg := audit.Config{Module: module, AuditLogPath: dir, MaxSize: 2048}
	if sealed {
		keyFile := filepath.Join(root, host+"-"+module+".key")
		if err := audit.NewKey(keyFile); err != nil {
			t.Fatal(err)
		}
		var err error
		if s.key, err = os.ReadFile(keyFile); err != nil {
			t.Fatal(err)
		}
		cfg.Integrity, cfg.IntegrityKeyFile = true, keyFile
	}
	l, err := audit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.l = l
	return s
}

// log logs n events.
func (s *source) log(t testing.TB, n int) {
	t.Helper()
	for range n {
		s.n++
		e := audit.Event{Type: audit.Logon, Outcome: audit.Succeeded, Actor: fmt.Sprintf("user%d", s.n), Client: "10.0.0.1"}
		if s.n%7 == 0 {
			e.Outcome, e.Reason = audit.Failed, "bad \"password\"\\ ]"
		}
		if err := s.l.Log(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func (s *source) close(t testing.TB) {
	t.Helper()
	if err := s.l.Close(); err != nil {
		t.Fatal(err)
	}
}

// files returns the complete lines of module's files in dir, file by file.
func files(t testing.TB, dir, module string) [][]string {
	t.Helper()
	out, err := readFiles(dir, module)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readFiles is files for directories being written: the caller tries
// again on an error.
func readFiles(dir, module string) ([][]string, error) {
	fs, err := audit.ListFiles(dir, module)
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, f := range fs {
		r, err := audit.OpenFile(f)
		if err != nil {
			return nil, err
		}
		var lines []string
		for {
			ln, err := r.Next()
			if errors.Is(err, io.EOF) || err == nil && !ln.Complete {
				break
			}
			if err != nil {
				r.Close()
				return nil, err
			}
			lines = append(lines, string(ln.Text))
		}
		r.Close()
		if len(lines) > 0 {
			out = append(out, lines)
		}
	}
	return out, nil
}

// mirrored reports whether the mirror of s under root holds exactly the
// source's files, and its head.
func (s *source) mirrored(t testing.TB, root string) bool {
	t.Helper()
	dir := filepath.Join(root, s.host)
	src, err1 := readFiles(s.dir, s.module)
	dst, err2 := readFiles(dir, s.module)
	if err1 != nil || err2 != nil || fmt.Sprint(src) != fmt.Sprint(dst) {
		return false
	}
	if s.key == nil {
		return true
	}
	a, _ := os.ReadFile(filepath.Join(s.dir, s.module+".audit.head"))
	b, _ := os.ReadFile(filepath.Join(dir, s.module+".audit.head"))
	return bytes.Equal(a, b)
}

// waitMirrored waits until the mirror of s under root holds it all.
func (s *source) waitMirrored(t testing.TB, root string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !s.mirrored(t, root) {
		if time.Now().After(deadline) {
			cursors, _ := filepath.Glob(filepath.Join(s.dir, s.module+".ship-*.cursor"))
			for _, c := range cursors {
				data, _ := os.ReadFile(c)
				t.Logf("%s/%s: cursor %s", s.host, s.module, data)
			}
			s.checkMirror(t, root)
			a, _ := os.ReadFile(filepath.Join(s.dir, s.module+".audit.head"))
			b, _ := os.ReadFile(filepath.Join(root, s.host, s.module+".audit.head"))
			t.Fatalf("%s/%s: the mirror's head is %q, the source's %q", s.host, s.module, b, a)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkMirror checks that the mirror of s holds every record exactly once,
// in order and in the same files, and verifies clean with the original key.
func (s *source) checkMirror(t testing.TB, root string) {
	t.Helper()
	dir := filepath.Join(root, s.host)
	src, dst := files(t, s.dir, s.module), files(t, dir, s.module)
	if len(src) != len(dst) {
		t.Fatalf("%s/%s: %d source files, %d mirror files", s.host, s.module, len(src), len(dst))
	}
	total := 0
	for i := range src {
		if strings.Join(src[i], "\n") != strings.Join(dst[i], "\n") {
			t.Fatalf("%s/%s: file %d differs:\nsource %q\nmirror %q", s.host, s.module, i, src[i], dst[i])
		}
		total += len(src[i])
	}
	if total < s.n {
		t.Fatalf("%s/%s: %d lines for %d events", s.host, s.module, total, s.n)
	}
	r, err := audit.Verify(dir, s.module, s.key)
	if err != nil {
		t.Fatalf("%s/%s: verify: %v", s.host, s.module, err)
	}
	if !r.OK() {
		t.Fatalf("%s/%s: verify: %v", s.host, s.module, r.Problem)
	}
	if s.key != nil && (!r.Sealed || r.HeadFile == "" || r.Records < s.n) {
		t.Fatalf("%s/%s: verify: sealed %v, head %q, %d records for %d events", s.host, s.module, r.Sealed, r.HeadFile, r.Records, s.n)
	}
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runner runs functions in goroutines until stopped.
type runner struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	errs   []error
}

func newRunner() *runner {
	ctx, cancel := context.WithCancel(context.Background())
	return &runner{ctx: ctx, cancel: cancel}
}

func (r *runner) go_(f func(ctx context.Context) error) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := f(r.ctx); err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "runner:", err)
			r.mu.Lock()
			r.errs = append(r.errs, err)
			r.mu.Unlock()
		}
	}()
}

// stop cancels and waits for everything, failing on any error but the
// cancellation.
func (r *runner) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	r.wg.Wait()
	if err := errors.Join(r.errs...); err != nil {
		t.Fatal(err)
	}
}

// startShipper ships s to url until r stops.
func startShipper(t testing.TB, r *runner, s *source, url string, opts ...kgo.Opt) {
	t.Helper()
	d, err := Open(url, Config{MinBackoff: time.Millisecond, MaxBackoff: 50 * time.Millisecond, Options: append(fastOptions, opts...)})
	if err != nil {
		t.Fatal(err)
	}
	sh := &Shipper{Dir: s.dir, Module: s.module, Host: s.host, Dest: d, URL: url, Poll: 10 * time.Millisecond}
	r.go_(func(ctx context.Context) error {
		defer d.Close()
		return sh.Run(ctx)
	})
}

// startCollector collects url into dir until r stops.
func startCollector(t testing.TB, r *runner, url, dir string) *Collector {
	t.Helper()
	c, err := NewCollector(url, "mirror", dir, Config{Options: groupOptions})
	if err != nil {
		t.Fatal(err)
	}
	r.go_(func(ctx context.Context) error {
		err := c.Run(ctx)
		if cerr := c.Close(); cerr != nil {
			return errors.Join(err, cerr)
		}
		return err
	})
	return c
}
