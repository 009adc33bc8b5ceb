package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestManyHostsAndModules ships many modules of several simulated hosts at
// once through one topic to one collector: every record arrives exactly
// once, in order and in the same files, and the mirror verifies clean.
func TestManyHostsAndModules(t *testing.T) {
	_, url := newCluster(t, 6)
	root, mirror := t.TempDir(), t.TempDir()
	var srcs []*source
	for h := range 3 {
		for m := range 4 {
			srcs = append(srcs, newSource(t, root, fmt.Sprintf("host%d", h), fmt.Sprintf("Module%d", m), true))
		}
	}
	srcs = append(srcs, newSource(t, root, "host0", "Plain", false))

	r := newRunner()
	defer r.stop(t)
	for _, s := range srcs {
		startShipper(t, r, s, url)
	}
	c := startCollector(t, r, url, mirror)
	for range 3 {
		for _, s := range srcs {
			s.log(t, 40)
		}
	}
	for _, s := range srcs {
		s.close(t)
	}
	for _, s := range srcs {
		s.waitMirrored(t, mirror)
	}
	r.stop(t)
	for _, s := range srcs {
		s.checkMirror(t, mirror)
	}
	if st := c.Stats(); st.Bad != 0 {
		t.Errorf("stats %+v", st)
	}
}

// crash ends a collector as a kill would: its client goes without
// committing, its files are closed without flushing what it buffered.
func crash(c *Collector) {
	c.mu.Lock()
	for k, m := range c.mirrors {
		if m.f != nil {
			m.f.Close()
		}
		delete(c.mirrors, k)
	}
	c.mu.Unlock()
	c.cl.CloseAllowingRebalance()
}

// TestCollectorKilled kills the collector after it wrote a batch and
// before it synced and committed it, with half a record at the end of a
// mirror file, twice; the restarted collectors re-read from the last
// commit, cut the torn record and drop what the mirror already has.
func TestCollectorKilled(t *testing.T) {
	_, url := newCluster(t, 3)
	root, mirror := t.TempDir(), t.TempDir()
	var srcs []*source
	for m := range 3 {
		srcs = append(srcs, newSource(t, root, "host0", fmt.Sprintf("Module%d", m), true))
	}
	srcs = append(srcs, newSource(t, root, "host1", "Plain", false))
	r := newRunner()
	defer r.stop(t)
	for _, s := range srcs {
		startShipper(t, r, s, url)
	}
	for _, s := range srcs {
		s.log(t, 60)
	}
	for kill := range 2 {
		c, err := NewCollector(url, "mirror", mirror, Config{Options: groupOptions})
		if err != nil {
			t.Fatal(err)
		}
		// A minute bounds the run if the kill never comes.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		c.afterWrite = func() {
			if c.stats.Written == 0 {
				return
			}
			// Kill after the first batch that wrote records, with half a
			// record at the end of a mirror file, as a crash in the
			// middle of a write leaves it.
			for _, m := range c.mirrors {
				if m.f != nil {
					m.w.Flush()
					m.f.WriteString(`2026-11-30T14:00:00.000000Z Module0 LOGON SUCC`)
					break
				}
			}
			cancel()
		}
		if err := c.Run(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("kill %d: Run: %v", kill, err)
		}
		cancel()
		crash(c)
		for _, s := range srcs {
			s.log(t, 30)
		}
	}
	for _, s := range srcs {
		s.close(t)
	}
	c := startCollector(t, r, url, mirror)
	for _, s := range srcs {
		s.waitMirrored(t, mirror)
	}
	r.stop(t)
	for _, s := range srcs {
		s.checkMirror(t, mirror)
	}
	if st := c.Stats(); st.Duplicates == 0 {
		t.Errorf("no duplicate dropped after the kills: %+v", st)
	}
}

// TestShipperRestart stops shippers and starts new ones while modules go
// on logging: each resumes from its cursor, and the mirror holds every
// record once.
func TestShipperRestart(t *testing.T) {
	_, url := newCluster(t, 2)
	root, mirror := t.TempDir(), t.TempDir()
	srcs := []*source{newSource(t, root, "host0", "Sealed", true), newSource(t, root, "host0", "Plain", false)}
	collectors := newRunner()
	defer collectors.stop(t)
	c := startCollector(t, collectors, url, mirror)
	for range 3 {
		shippers := newRunner()
		for _, s := range srcs {
			startShipper(t, shippers, s, url)
		}
		for _, s := range srcs {
			s.log(t, 50)
		}
		waitFor(t, "some records shipped", func() bool { return c.Stats().Written > 0 })
		shippers.stop(t)
	}
	for _, s := range srcs {
		s.close(t)
	}
	shippers := newRunner()
	defer shippers.stop(t)
	for _, s := range srcs {
		startShipper(t, shippers, s, url)
	}
	for _, s := range srcs {
		s.waitMirrored(t, mirror)
	}
	shippers.stop(t)
	collectors.stop(t)
	for _, s := range srcs {
		s.checkMirror(t, mirror)
	}
}

// TestCollectorCloseLeavesGroup closes a collector whose session in the
// group outlasts the wait: the one started after it gets every partition
// at once, since Close left the group.
func TestCollectorCloseLeavesGroup(t *testing.T) {
	_, url := newCluster(t, 4)
	mirror := t.TempDir()
	var mu sync.Mutex
	owned := map[int]map[int32]bool{}
	start := func(n int) (*Collector, context.CancelFunc, chan error) {
		owned[n] = map[int32]bool{}
		track := func(add bool) func(context.Context, *kgo.Client, map[string][]int32) {
			return func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
				mu.Lock()
				defer mu.Unlock()
				for _, p := range m[topic] {
					owned[n][p] = add
				}
			}
		}
		opts := append(groupOptions[:len(groupOptions):len(groupOptions)],
			kgo.SessionTimeout(time.Minute), kgo.RebalanceTimeout(time.Minute),
			kgo.OnPartitionsAssigned(track(true)), kgo.OnPartitionsRevoked(track(false)), kgo.OnPartitionsLost(track(false)))
		c, err := NewCollector(url, "mirror", mirror, Config{Options: opts})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		return c, cancel, done
	}
	holds := func(n int) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			k := 0
			for _, ok := range owned[n] {
				if ok {
					k++
				}
			}
			return k == 4
		}
	}
	first, cancel, done := start(0)
	waitFor(t, "the first collector to hold every partition", holds(0))
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second, cancel, done := start(1)
	defer func() {
		cancel()
		<-done
		second.Close()
	}()
	waitFor(t, "the second collector to hold every partition", holds(1))
}
