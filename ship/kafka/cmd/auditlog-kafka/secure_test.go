package main

import (
	"bytes"
	"context"
	"fmt"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/auditkit/audit"
	"github.com/auditkit/audit/ship/kafka/internal/testpki"
)

// envRun makes the test binary run the command with its arguments, so
// that a test can start it as a process of its own.
const envRun = "AUDITLOG_KAFKA_TEST_RUN"

func TestMain(m *testing.M) {
	if os.Getenv(envRun) != "" {
		main()
	}
	os.Exit(m.Run())
}

// lockedBuffer is a process's standard error, read while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// start starts the command with args and the extra environment.
func start(t *testing.T, env []string, args ...string) (*exec.Cmd, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), envRun+"=1"), env...)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, stderr
}

// stop stops the command with SIGTERM and checks that it exits with
// status 0 and reported nothing.
func stop(t *testing.T, cmd *exec.Cmd, stderr *lockedBuffer) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s: %v; stderr:\n%s", cmd.Args[1], err, stderr)
	}
	if s := stderr.String(); s != "" {
		t.Fatalf("%s reported:\n%s", cmd.Args[1], s)
	}
}

// TestShipCollectTLSSASL runs ship and collect as processes against a
// cluster that speaks TLS only, requires a client certificate and
// authenticates with SCRAM-SHA-256: ship takes the password from the
// environment, collect from a password file.
func TestShipCollectTLSSASL(t *testing.T) {
	const password = "s3cret p4ss"
	ca := testpki.New(t, "kafka")
	c, err := kfake.NewCluster(kfake.NumBrokers(2), kfake.SeedTopics(2, "audit"), kfake.TLS(ca.ServerConfig(t)),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "auditor", password))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	client := ca.Client(t, "auditor")
	q := neturl.QueryEscape
	url := "kafka+tls://" + strings.Join(c.ListenAddrs(), ",") + "/audit?ca=" + q(ca.File) +
		"&cert=" + q(client.CertFile) + "&key=" + q(client.KeyFile) + "&sasl=scram-sha-256&user=auditor"
	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	src, mirror := t.TempDir(), t.TempDir()
	l, err := audit.New(audit.Config{Module: "AgentServer", AuditLogPath: src, MaxSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	const n = 60
	for i := range n {
		e := audit.Event{Type: audit.Logon, Outcome: audit.Succeeded, Actor: fmt.Sprintf("user%d", i), Client: "10.0.0.1"}
		if err := l.Log(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	shipper, shipErr := start(t, []string{passwordEnv + "=" + password}, "ship", src, "--module", "AgentServer", "--host", "h1", "--to", url)
	collector, collectErr := start(t, []string{passwordEnv + "="}, "collect", mirror, "--from", url+"&password-file="+q(pwFile))
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := lines(filepath.Join(mirror, "h1"), "AgentServer")
		want, _ := lines(src, "AgentServer")
		if err == nil && len(want) == n && strings.Join(got, "\n") == strings.Join(want, "\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mirror holds %d of the %d records (%v)\nship:\n%s\ncollect:\n%s", len(got), n, err, shipErr, collectErr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop(t, shipper, shipErr)
	stop(t, collector, collectErr)
}

// lines returns the complete lines of module's files in dir.
func lines(dir, module string) ([]string, error) {
	files, err := audit.ListFiles(dir, module)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		r, err := audit.OpenFile(f)
		if err != nil {
			return nil, err
		}
		for {
			ln, err := r.Next()
			if err != nil || !ln.Complete {
				break
			}
			out = append(out, string(ln.Text))
		}
		r.Close()
	}
	return out, nil
}

// TestShipWrongPassword runs ship with a wrong password: it reports the
// failed connection once, and exits with status 0 when stopped.
func TestShipWrongPassword(t *testing.T) {
	ca := testpki.New(t, "kafka")
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "audit"), kfake.TLS(ca.ServerConfig(t)),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "auditor", "right"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var attempts atomic.Int32
	c.ControlKey(kmsg.SASLAuthenticate.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		attempts.Add(1)
		return nil, nil, false
	})
	client := ca.Client(t, "auditor")
	q := neturl.QueryEscape
	url := "kafka+tls://" + strings.Join(c.ListenAddrs(), ",") + "/audit?ca=" + q(ca.File) +
		"&cert=" + q(client.CertFile) + "&key=" + q(client.KeyFile) + "&sasl=scram-sha-512&user=auditor"
	src := t.TempDir()
	l, err := audit.New(audit.Config{Module: "M", AuditLogPath: src})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Log(context.Background(), audit.Event{Type: audit.Logon, Outcome: audit.Succeeded, Actor: "u", Client: "10.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	cmd, stderr := start(t, []string{passwordEnv + "=not-the-password"}, "ship", src, "--module", "M", "--host", "h1", "--to", url)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "a wrong SASL user or password") {
		if time.Now().After(deadline) {
			t.Fatalf("no report of the failed authentication; stderr:\n%s", stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// It tries again and again, and reports nothing more.
	start := attempts.Load()
	for attempts.Load() < start+5 {
		if time.Now().After(deadline) {
			t.Fatalf("%d attempts to authenticate", attempts.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ship: %v; stderr:\n%s", err, stderr)
	}
	if got := strings.Count(stderr.String(), "\n"); got != 1 || strings.Contains(stderr.String(), "not-the-password") {
		t.Fatalf("stderr has %d lines, want 1:\n%s", got, stderr)
	}
}
