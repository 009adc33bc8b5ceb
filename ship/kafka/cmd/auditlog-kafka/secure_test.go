package main

import (
	"context"
	"fmt"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/auditkit/audit"
	"github.com/auditkit/audit/internal/testpki"
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

// output is a process's standard error, in a file, read while it runs.
type output string

func (o output) String() string {
	data, _ := os.ReadFile(string(o))
	return string(data)
}

// start starts the command with args and the extra environment.
func start(t *testing.T, env []string, args ...string) (*exec.Cmd, output) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), envRun+"=1"), env...)
	stderr := output(filepath.Join(t.TempDir(), "stderr"))
	f, err := os.Create(string(stderr))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd.Stderr = f
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
func stop(t *testing.T, cmd *exec.Cmd, stderr output) {
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

// secureCluster starts a cluster that speaks TLS only, requires a client
// certificate and authenticates user "auditor" with the SASL mechanism
// and password, and returns it with a kafka+tls:// URL for that user
// without a password.
func secureCluster(t *testing.T, mechanism, password string) (*kfake.Cluster, string) {
	t.Helper()
	ca := testpki.New(t, "kafka")
	c, err := kfake.NewCluster(kfake.NumBrokers(2), kfake.SeedTopics(2, "audit"), kfake.TLS(ca.ServerConfig(t)),
		kfake.EnableSASL(), kfake.Superuser(mechanism, "auditor", password))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	client := ca.Client(t, "auditor")
	q := neturl.QueryEscape
	return c, "kafka+tls://" + strings.Join(c.ListenAddrs(), ",") + "/audit?ca=" + q(ca.File) +
		"&cert=" + q(client.CertFile) + "&key=" + q(client.KeyFile) + "&sasl=" + strings.ToLower(mechanism) + "&user=auditor"
}

// logEvents logs n events of module into dir.
func logEvents(t *testing.T, dir, module string, n int) {
	t.Helper()
	l, err := audit.New(audit.Config{Module: module, AuditLogPath: dir, MaxSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		e := audit.Event{Type: audit.Logon, Outcome: audit.Succeeded, Actor: fmt.Sprintf("user%d", i), Client: "10.0.0.1"}
		if err := l.Log(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestShipCollectTLSSASL runs ship and collect as processes against a
// cluster that speaks TLS only, requires a client certificate and
// authenticates with SCRAM-SHA-256: ship takes the password from the
// environment, collect from a password file.
func TestShipCollectTLSSASL(t *testing.T) {
	const password = "s3cret p4ss"
	_, url := secureCluster(t, "SCRAM-SHA-256", password)
	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	src, mirror := t.TempDir(), t.TempDir()
	const n = 60
	logEvents(t, src, "AgentServer", n)

	shipper, shipErr := start(t, []string{passwordEnv + "=" + password}, "ship", src, "--module", "AgentServer", "--host", "h1", "--to", url)
	collector, collectErr := start(t, []string{passwordEnv + "="}, "collect", mirror, "--from", url+"&password-file="+neturl.QueryEscape(pwFile))
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
	c, url := secureCluster(t, "SCRAM-SHA-512", "right")
	var attempts atomic.Int32
	c.ControlKey(kmsg.SASLAuthenticate.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		attempts.Add(1)
		return nil, nil, false
	})
	src := t.TempDir()
	logEvents(t, src, "M", 1)
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
