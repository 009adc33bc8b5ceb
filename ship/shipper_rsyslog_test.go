package ship

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"github.com/auditkit/audit"
	"github.com/leodido/go-syslog/v4/rfc5424"
)

// The environment of a shipper run as a child process by
// TestShipperKilledAndRestarted.
const (
	childDirEnv = "AUDIT_SHIP_TEST_CHILD_DIR"
	childURLEnv = "AUDIT_SHIP_TEST_CHILD_URL"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		os.Exit(shipperChild(dir, os.Getenv(childURLEnv)))
	}
	os.Exit(m.Run())
}

// shipperChild ships module AgentServer of dir to url until SIGTERM (or
// until it is killed).
func shipperChild(dir, url string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	s, err := NewShipper(ShipperConfig{Dir: dir, Module: "AgentServer", Host: "agent01", Batch: 64,
		Destination: Config{URL: url}, OnError: func(err error) { fmt.Fprintln(os.Stderr, err) }})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	s.Start()
	<-ctx.Done()
	s.Close()
	return 0
}

// centralCopy parses what rsyslog received with a real RFC 5424 parser,
// drops duplicates by (host, module, file, seq) as a collector does, and
// writes the MSG parts, in order, to one file, as a collector would keep
// them. It returns that file's contents.
func centralCopy(t testing.TB, received [][]byte) []byte {
	t.Helper()
	p := rfc5424.NewParser(rfc5424.WithCompliantMsg())
	seen := map[string]bool{}
	var out bytes.Buffer
	for _, raw := range received {
		parsed, err := p.Parse(raw)
		if err != nil {
			t.Fatalf("RFC 5424 parser: %v\nmessage: %q", err, raw)
		}
		sm := parsed.(*rfc5424.SyslogMessage)
		if sm.StructuredData == nil || sm.Message == nil {
			t.Fatalf("message without structured data or MSG: %q", raw)
		}
		sd := (*sm.StructuredData)[DefaultSDID]
		if _, err := strconv.ParseUint(sd["seq"], 10, 64); err != nil || sd["host"] == "" || sd["module"] == "" || sd["file"] == "" {
			t.Fatalf("structured data %q lacks the record's id", sd)
		}
		id := sd["host"] + "/" + sd["module"] + "/" + sd["file"] + "/" + sd["seq"]
		if seen[id] {
			continue
		}
		seen[id] = true
		out.WriteString(*sm.Message)
		out.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "central.log")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// localCopy is the records of the module's files, in order, one a line.
func localCopy(t testing.TB, dir string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, l := range localLines(t, dir, "AgentServer") {
		b.Write(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// checkSameRecords checks that the central copy holds exactly the
// records of the local files.
func checkSameRecords(t testing.TB, central, local []byte) {
	t.Helper()
	if bytes.Equal(central, local) {
		return
	}
	c, l := bytes.Split(central, []byte{'\n'}), bytes.Split(local, []byte{'\n'})
	for i := range min(len(c), len(l)) {
		if !bytes.Equal(c[i], l[i]) {
			t.Fatalf("central copy differs at record %d:\n%q\nlocal:\n%q", i+1, c[i], l[i])
		}
	}
	t.Fatalf("central copy holds %d records, the local files %d", len(c)-1, len(l)-1)
}

// integrityConfig makes a logger seal its records, so that the central
// copy holds FILE_START records and MACs as the files do.
func integrityConfig(t testing.TB) func(*audit.Config) {
	key := filepath.Join(t.TempDir(), "AgentServer.key")
	if err := audit.NewKey(key); err != nil {
		t.Fatal(err)
	}
	return func(c *audit.Config) { c.Integrity, c.IntegrityKeyFile = true, key }
}

// TestShipperToRsyslog ships while a logger logs, across rotations and
// compression, to a real rsyslog over each transport: every record
// arrives, in order, and the central copy is exactly the local files.
func TestShipperToRsyslog(t *testing.T) {
	rsyslogPath(t)
	certs := makeCerts(t)
	for _, kind := range []string{"tcp", "tls", "relp", "relp+tls"} {
		t.Run(kind, func(t *testing.T) {
			r := startRsyslog(t, kind, certs)
			dir := t.TempDir()
			l := newTestLogger(t, dir, integrityConfig(t))
			s, err := NewShipper(ShipperConfig{Dir: dir, Module: "AgentServer", Host: "agent01", Destination: rsyslogConfig(r, certs)})
			if err != nil {
				t.Fatal(err)
			}
			s.Start()
			logRecords(t, l, 0, 2000)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			local := localCopy(t, dir)
			n := bytes.Count(local, []byte{'\n'})
			waitFor(t, "every record shipped", func() bool { return s.Stats().Shipped >= uint64(n) })
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			checkSameRecords(t, centralCopy(t, r.waitReceived(t, n)), local)
		})
	}
}

// TestShipperRsyslogKilled kills rsyslog with SIGKILL while the logger
// logs and the shipper ships over RELP, and starts it again: nothing is
// lost.
func TestShipperRsyslogKilled(t *testing.T) {
	rsyslogPath(t)
	certs := makeCerts(t)
	r := startRsyslog(t, "relp", certs)
	dir := t.TempDir()
	l := newTestLogger(t, dir, integrityConfig(t))
	cfg := rsyslogConfig(r, certs)
	var mu sync.Mutex
	var errs []error
	s, err := NewShipper(ShipperConfig{Dir: dir, Module: "AgentServer", Host: "agent01", Destination: cfg,
		OnError: func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	logRecords(t, l, 0, 1000)
	r.waitReceived(t, 500)
	r.kill()
	logRecords(t, l, 1000, 1000) // the application goes on logging
	waitFor(t, "the outage reported", func() bool { mu.Lock(); defer mu.Unlock(); return len(errs) > 0 })
	r.restart(t)
	logRecords(t, l, 2000, 1000)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	local := localCopy(t, dir)
	n := bytes.Count(local, []byte{'\n'})
	waitFor(t, "every record shipped", func() bool { return s.Stats().Shipped >= uint64(n) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got := r.waitReceived(t, n)
	t.Logf("%d messages received for %d records; reported: %v", len(got), n, errs)
	checkSameRecords(t, centralCopy(t, got), local)
}

// TestShipperKilledAndRestarted runs the shipper as a child process, kills
// it with SIGKILL in the middle of a run while the logger goes on, and
// starts it again: it resumes from its cursor and nothing is lost.
func TestShipperKilledAndRestarted(t *testing.T) {
	rsyslogPath(t)
	r := startRsyslog(t, "relp", nil)
	dir := t.TempDir()
	l := newTestLogger(t, dir, integrityConfig(t))
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childDirEnv+"="+dir, childURLEnv+"="+r.url())
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	child := start()
	logRecords(t, l, 0, 3000)
	r.waitReceived(t, 300)
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	before := len(r.received(t))
	logRecords(t, l, 3000, 1000)
	child = start()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	local := localCopy(t, dir)
	n := bytes.Count(local, []byte{'\n'})
	got := r.waitReceived(t, n)
	waitFor(t, "every record received", func() bool {
		got = r.received(t)
		return bytes.Count(centralCopy(t, got), []byte{'\n'}) >= n
	})
	if err := child.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := child.Wait(); err != nil {
		t.Fatalf("the shipper exits with %v after SIGTERM", err)
	}
	t.Logf("%d messages before the kill, %d in all for %d records", before, len(got), n)
	if before >= n {
		t.Fatal("everything was shipped before the kill; make the run longer")
	}
	checkSameRecords(t, centralCopy(t, got), local)
}
