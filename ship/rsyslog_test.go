package ship

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rsyslogd is a real rsyslog started by a test in the foreground, listening
// on 127.0.0.1 with an ephemeral port and writing every message it receives
// to out, one per line, as rsyslog's JSON string escaping of the raw
// message (so that a message holding newlines stays on one line).
type rsyslogd struct {
	dir   string
	kind  string // "tcp", "tls", "relp" or "relp+tls"
	port  int
	out   string
	certs *testCerts
	// defaultLimits leaves rsyslog's message size limits at their
	// defaults (8 KiB) instead of raising them for records of
	// audit.MaxRecordSize.
	defaultLimits bool
	cmd           *exec.Cmd
	exit          chan error
}

// rsyslogWait bounds how long a test waits for rsyslog to start or to
// write what it received; it is a guard against a hung test, not a speed
// check.
const rsyslogWait = 60 * time.Second

func rsyslogPath(t testing.TB) string {
	t.Helper()
	p, err := lookupRsyslog()
	if err != nil {
		t.Skip("rsyslogd is not installed (Debian: apt-get install rsyslog rsyslog-relp rsyslog-gnutls); these tests need a real rsyslog")
	}
	return p
}

// lookupRsyslog returns the path of rsyslogd: in PATH or where Debian
// installs it.
func lookupRsyslog() (string, error) {
	p, err := exec.LookPath("rsyslogd")
	if err == nil {
		return p, nil
	}
	for _, c := range []string{"/usr/sbin/rsyslogd", "/sbin/rsyslogd"} {
		if _, serr := os.Stat(c); serr == nil {
			return c, nil
		}
	}
	return "", err
}

// startRsyslog starts rsyslogd with an input of the given kind and stops
// it when the test ends. certs is needed for "tls".
func startRsyslog(t testing.TB, kind string, certs *testCerts) *rsyslogd {
	t.Helper()
	r := &rsyslogd{dir: t.TempDir(), kind: kind, certs: certs}
	r.out = filepath.Join(r.dir, "received.log")
	if err := os.Mkdir(filepath.Join(r.dir, "work"), 0o700); err != nil {
		t.Fatal(err)
	}
	r.start(t)
	t.Cleanup(func() { r.stop(syscall.SIGTERM) })
	return r
}

func (r *rsyslogd) config() string {
	var b strings.Builder
	// imtcp takes octet-counted frames of up to maxFrameSize (200000
	// bytes by default) as such.
	limit, relpLimit, tcpLimit := ` maxMessageSize="4m"`, ` maxDataSize="4m"`, ` maxFrameSize="4200000"`
	if r.defaultLimits {
		limit, relpLimit, tcpLimit = "", "", ""
	}
	fmt.Fprintf(&b, "global(workDirectory=%q%s\n", filepath.Join(r.dir, "work"), limit)
	b.WriteString("  parser.escapeControlCharactersOnReceive=\"off\" parser.dropTrailingLFOnReception=\"off\"\n")
	if r.kind == "tls" {
		fmt.Fprintf(&b, "  defaultNetstreamDriverCAFile=%q defaultNetstreamDriverCertFile=%q defaultNetstreamDriverKeyFile=%q\n",
			r.certs.caFile, r.certs.serverCert, r.certs.serverKey)
	}
	b.WriteString(")\n")
	b.WriteString("template(name=\"raw\" type=\"string\" string=\"%rawmsg:::json%\\n\")\n")
	// A direct queue runs the action before the input returns, so imrelp
	// acknowledges a message only after omfile wrote it: what was
	// acknowledged survives a kill of rsyslogd.
	fmt.Fprintf(&b, "ruleset(name=\"in\" queue.type=\"Direct\") { action(type=\"omfile\" file=%q template=\"raw\" asyncWriting=\"off\" flushOnTXEnd=\"on\") }\n", r.out)
	port := strconv.Itoa(r.port)
	portFile := filepath.Join(r.dir, "port")
	switch r.kind {
	case "tcp":
		b.WriteString("module(load=\"imtcp\")\n")
		fmt.Fprintf(&b, "input(type=\"imtcp\" address=\"127.0.0.1\" port=%q listenPortFileName=%q%s ruleset=\"in\")\n", port, portFile, tcpLimit)
	case "tls":
		b.WriteString("module(load=\"imtcp\" streamDriver.name=\"gtls\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")\n")
		fmt.Fprintf(&b, "input(type=\"imtcp\" address=\"127.0.0.1\" port=%q listenPortFileName=%q%s ruleset=\"in\")\n", port, portFile, tcpLimit)
	case "relp":
		b.WriteString("module(load=\"imrelp\")\n")
		fmt.Fprintf(&b, "input(type=\"imrelp\" address=\"127.0.0.1\" port=%q%s ruleset=\"in\")\n", port, relpLimit)
	case "relp+tls":
		// TLS from the first byte; both sides show a certificate from the
		// test's CA (librelp asks for a client certificate whenever the
		// server has one).
		b.WriteString("module(load=\"imrelp\")\n")
		fmt.Fprintf(&b, "input(type=\"imrelp\" address=\"127.0.0.1\" port=%q%s ruleset=\"in\"\n", port, relpLimit)
		fmt.Fprintf(&b, "  tls=\"on\" tls.authMode=\"certvalid\" tls.caCert=%q tls.myCert=%q tls.myPrivKey=%q)\n", r.certs.caFile, r.certs.serverCert, r.certs.serverKey)
	}
	return b.String()
}

// start starts rsyslogd on r.port (0 for a new ephemeral port) and waits
// until it listens.
func (r *rsyslogd) start(t testing.TB) {
	t.Helper()
	bin := rsyslogPath(t)
	conf := filepath.Join(r.dir, "rsyslog.conf")
	if err := os.WriteFile(conf, []byte(r.config()), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(r.dir, "port"))
	pidFile := filepath.Join(r.dir, "rsyslogd.pid")
	r.cmd = exec.Command(bin, "-n", "-f", conf, "-i", pidFile)
	var stderr bytes.Buffer
	r.cmd.Stdout, r.cmd.Stderr = &stderr, &stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start rsyslogd: %v", err)
	}
	r.exit = make(chan error, 1)
	go func(c *exec.Cmd, exit chan error) { exit <- c.Wait() }(r.cmd, r.exit)
	deadline := time.Now().Add(rsyslogWait)
	for {
		port, err := r.listening()
		if err == nil && port != 0 {
			r.port = port
			return
		}
		select {
		case err := <-r.exit:
			r.exit <- err
			t.Fatalf("rsyslogd exited at start-up (%v): %s\nconfig:\n%s", err, stderr.String(), r.config())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd does not listen after %v: %v; output: %s", rsyslogWait, err, stderr.String())
		}
	}
}

// listening returns the port rsyslogd listens on: from its port file for
// imtcp, from the process's sockets for imrelp (which has no port file).
func (r *rsyslogd) listening() (int, error) {
	if r.kind == "tcp" || r.kind == "tls" {
		b, err := os.ReadFile(filepath.Join(r.dir, "port"))
		if err != nil || len(bytes.TrimSpace(b)) == 0 {
			return 0, fmt.Errorf("no port file yet")
		}
		return strconv.Atoi(string(bytes.TrimSpace(b)))
	}
	return listenPort(r.cmd.Process.Pid)
}

// listenPort finds the TCP port that process pid listens on, from
// /proc/PID/fd and /proc/net/tcp.
func listenPort(pid int) (int, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/tcp", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		if len(fields) < 10 || fields[3] != "0A" || !inodes[fields[9]] {
			continue
		}
		_, hexPort, _ := strings.Cut(fields[1], ":")
		p, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil {
			return 0, err
		}
		return int(p), nil
	}
	return 0, errors.New("not listening yet")
}

// stop stops rsyslogd by its process id with sig and waits for it.
func (r *rsyslogd) stop(sig syscall.Signal) {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(sig)
	<-r.exit
	r.cmd = nil
}

// kill kills rsyslogd with SIGKILL, as a crash.
func (r *rsyslogd) kill() { r.stop(syscall.SIGKILL) }

// restart starts rsyslogd again on the same port.
func (r *rsyslogd) restart(t testing.TB) {
	t.Helper()
	r.start(t)
}

func (r *rsyslogd) url() string {
	return fmt.Sprintf("%s://127.0.0.1:%d", r.kind, r.port)
}

// received returns the messages rsyslogd wrote so far, unescaped.
func (r *rsyslogd) received(t testing.TB) [][]byte {
	t.Helper()
	data, err := os.ReadFile(r.out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var msgs [][]byte
	for len(data) > 0 {
		line, rest, ok := bytes.Cut(data, []byte{'\n'})
		if !ok {
			break // rsyslog is still writing this one
		}
		data = rest
		m, err := unescapeRsyslogJSON(line)
		if err != nil {
			t.Fatalf("received line %q: %v", line, err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// waitReceived waits until rsyslogd wrote at least n messages and returns
// them all.
func (r *rsyslogd) waitReceived(t testing.TB, n int) [][]byte {
	t.Helper()
	deadline := time.Now().Add(rsyslogWait)
	for {
		msgs := r.received(t)
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd wrote %d messages after %v, want %d", len(msgs), rsyslogWait, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// unescapeRsyslogJSON undoes rsyslog's ":::json" property escaping: '"',
// '\', '/' and control bytes are escaped; every other byte, invalid UTF-8
// included, is copied as it is.
func unescapeRsyslogJSON(s []byte) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i == len(s) {
			return nil, errors.New("escape at the end")
		}
		switch s[i] {
		case '"', '\\', '/':
			out = append(out, s[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if i+4 >= len(s) {
				return nil, errors.New("short \\u escape")
			}
			v, err := strconv.ParseUint(string(s[i+1:i+5]), 16, 16)
			if err != nil || v > 0xff {
				return nil, fmt.Errorf("escape \\u%s", s[i+1:i+5])
			}
			out = append(out, byte(v))
			i += 4
		default:
			return nil, fmt.Errorf("unknown escape \\%c", s[i])
		}
	}
	return out, nil
}
