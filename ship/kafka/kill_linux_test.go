package kafka

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The test binary runs a collector when these are set, so that a test can
// kill it with SIGKILL.
const (
	envCollectURL = "AUDIT_KAFKA_TEST_COLLECT_URL"
	envCollectDir = "AUDIT_KAFKA_TEST_COLLECT_DIR"
)

func TestMain(m *testing.M) {
	if url := os.Getenv(envCollectURL); url != "" {
		os.Exit(collectChild(url, os.Getenv(envCollectDir)))
	}
	os.Exit(m.Run())
}

func collectChild(url, dir string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	// What the child was given shows in the test's output on a failure.
	assigned := kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
		fmt.Fprintf(os.Stderr, "collector %d: assigned %v\n", os.Getpid(), m)
	})
	c, err := NewCollector(url, "mirror", dir, Config{Options: append(groupOptions[:len(groupOptions):len(groupOptions)], assigned),
		OnError: func(err error) { fmt.Fprintln(os.Stderr, err) }})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	err = c.Run(ctx)
	if cerr := c.Close(); cerr != nil {
		fmt.Fprintln(os.Stderr, cerr)
		return 1
	}
	if ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startChild starts a collector process.
func startChild(t *testing.T, url, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envCollectURL+"="+url, envCollectDir+"="+dir)
	cmd.Stderr = os.Stderr
	// The child dies with the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// mirrorLines counts the lines of the mirror files under dir.
func mirrorLines(srcs []*source, dir string) int {
	n := 0
	for _, s := range srcs {
		fs, _ := readFiles(filepath.Join(dir, s.host), s.module)
		for _, f := range fs {
			n += len(f)
		}
	}
	return n
}

// TestCollectorSIGKILL kills collector processes with SIGKILL while
// modules log and ship, and starts new ones: every record arrives once.
func TestCollectorSIGKILL(t *testing.T) {
	_, url := newCluster(t, 4)
	root, mirror := t.TempDir(), t.TempDir()
	var srcs []*source
	for h := range 2 {
		for m := range 3 {
			srcs = append(srcs, newSource(t, root, fmt.Sprintf("host%d", h), fmt.Sprintf("Module%d", m), m != 2))
		}
	}
	r := newRunner()
	defer r.stop(t)
	for _, s := range srcs {
		startShipper(t, r, s, url)
	}
	seen := 0
	for kill := range 3 {
		child := startChild(t, url, mirror)
		for _, s := range srcs {
			s.log(t, 40)
		}
		waitFor(t, "the collector to write", func() bool { return mirrorLines(srcs, mirror) > seen })
		if err := child.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		if err := child.Wait(); err == nil {
			t.Fatalf("kill %d: the collector exited cleanly", kill)
		}
		// Counted once the collector is dead: it writes until the kill,
		// and lines it wrote after an earlier count would let the next
		// round kill a collector that had not yet joined the group. kfake
		// keeps a member that dies while its join waits for a rebalance
		// in the group for good, holding partitions that no collector
		// then reads.
		seen = mirrorLines(srcs, mirror)
	}
	for _, s := range srcs {
		s.close(t)
	}
	child := startChild(t, url, mirror)
	for _, s := range srcs {
		s.waitMirrored(t, mirror)
	}
	child.Process.Signal(syscall.SIGTERM)
	if err := child.Wait(); err != nil {
		t.Fatalf("the collector did not stop cleanly: %v", err)
	}
	r.stop(t)
	for _, s := range srcs {
		s.checkMirror(t, mirror)
	}
}
