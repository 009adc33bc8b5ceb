package ship

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditkit/audit"
)

func TestOpenBadConfig(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing-ca.pem")
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
		want string // in the error text
	}{
		{"empty", Config{}, "no scheme"},
		{"no scheme", Config{URL: "127.0.0.1:514"}, "no scheme"},
		{"bad scheme", Config{URL: "udp://127.0.0.1:514"}, `unknown scheme "udp"`},
		{"http", Config{URL: "http://127.0.0.1:514"}, `unknown scheme "http"`},
		{"relp over tcp", Config{URL: "relp+tcp://127.0.0.1:2514"}, `unknown scheme "relp+tcp"`},
		{"missing port", Config{URL: "tcp://127.0.0.1"}, "missing port"},
		{"empty port", Config{URL: "tcp://127.0.0.1:"}, "missing port"},
		{"port zero", Config{URL: "tcp://127.0.0.1:0"}, `bad port "0"`},
		{"port too big", Config{URL: "tcp://127.0.0.1:70000"}, "bad port"},
		{"missing host", Config{URL: "tcp://:514"}, "missing host"},
		{"path", Config{URL: "tcp://127.0.0.1:514/x"}, "nothing else"},
		{"user", Config{URL: "tcp://u@127.0.0.1:514"}, "nothing else"},
		{"unknown option", Config{URL: "tcp://127.0.0.1:514?ca=x"}, `unknown option "ca" for tcp://`},
		{"kafka", Config{URL: "kafka://b1:9092,b2:9092/audit"}, "command auditlog-kafka"},
		{"window on tcp", Config{URL: "tcp://127.0.0.1:514", Window: 3}, "window applies to relp:// and relp+tls:// only"},
		{"ca on relp", Config{URL: "relp://127.0.0.1:514", CAFile: "x"}, "tls:// and relp+tls:// only"},
		{"window not a number", Config{URL: "relp://127.0.0.1:514?window=x"}, `window "x" is not a number`},
		{"window too big", Config{URL: "relp://127.0.0.1:514?window=5000"}, "window 5000: want 1 to 4096"},
		{"window twice", Config{URL: "relp://127.0.0.1:514?window=1&window=2"}, "wants one value"},
		{"window disagrees", Config{URL: "relp://127.0.0.1:514?window=1", Window: 2}, "window 1 in the URL and 2 in Config"},
		{"unreadable CA file", Config{URL: "tls://127.0.0.1:6514?ca=" + missing}, "CA file: open " + missing},
		{"CA file without PEM", Config{URL: "tls://127.0.0.1:6514", CAFile: notPEM}, "no PEM certificate"},
		{"CA disagrees", Config{URL: "tls://127.0.0.1:6514?ca=a", CAFile: "b"}, `ca="a" disagrees with Config's "b"`},
		{"cert without key", Config{URL: "tls://127.0.0.1:6514?cert=" + notPEM}, "give both or neither"},
		{"maxsize not a size", Config{URL: "tcp://127.0.0.1:514?maxsize=big"}, `maxsize "big": want a number of bytes`},
		{"maxsize too small", Config{URL: "relp://127.0.0.1:514?maxsize=100"}, "maxsize 100: want 480 to"},
		{"maxsize too large", Config{URL: "tls://127.0.0.1:6514", MaxMessageSize: 1 << 30}, "maxsize 1073741824: want 480 to"},
		{"maxsize disagrees", Config{URL: "tcp://127.0.0.1:514?maxsize=2m", MaxMessageSize: 4096}, "maxsize 2097152 in the URL and 4096 in Config"},
		{"bad facility", Config{URL: "tcp://127.0.0.1:514", Format: Format{Facility: 3}}, "facility 3"},
		{"bad SD-ID", Config{URL: "tcp://127.0.0.1:514", Format: Format{SDID: "audit"}}, `SD-ID "audit"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(tt.cfg)
			if !errors.Is(err, ErrBadDestination) {
				t.Fatalf("Open: %v, want ErrBadDestination", err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "audit: ") {
				t.Errorf("Open: %q, want it to hold %q", err, tt.want)
			}
		})
	}
}

// TestOpenBadConfigHidesPassword checks that a URL refused for holding
// credentials is not echoed with its password: the error goes to logs and
// terminals.
func TestOpenBadConfigHidesPassword(t *testing.T) {
	for _, url := range []string{
		"tcp://auditor:s3cret@127.0.0.1:514",
		"relp+tls://auditor:s3cret@127.0.0.1:2514?window=2",
		"tls://auditor:s3cret@127.0.0.1:6514/path",
		"tls://127.0.0.1:6514?password=s3cret",
	} {
		_, err := Open(Config{URL: url})
		if !errors.Is(err, ErrBadDestination) {
			t.Fatalf("Open(%s): %v, want ErrBadDestination", url, err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%s): %q, want the refusal without the password", url, err)
		}
	}
}

func TestOpen(t *testing.T) {
	certs := makeCerts(t)
	for _, url := range []string{
		"tcp://127.0.0.1:514",
		"tcp://[::1]:514",
		"tcp://logs.example.net:514/",
		"relp://127.0.0.1:2514?window=1",
		"tls://127.0.0.1:6514?ca=" + certs.caFile + "&servername=logs",
		"relp+tls://127.0.0.1:2514?ca=" + certs.caFile + "&window=16",
	} {
		d, err := Open(Config{URL: url})
		if err != nil {
			t.Errorf("Open(%q): %v", url, err)
			continue
		}
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if n, err := d.Ship(context.Background(), testMessages(1, 0)); n != 0 || !errors.Is(err, ErrClosed) {
			t.Errorf("Ship after Close = %d, %v; want ErrClosed", n, err)
		}
		if err := d.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{3, 400 * time.Millisecond},
		{9, 25600 * time.Millisecond},
		{10, 30 * time.Second},
		{1000, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := backoff(100*time.Millisecond, 30*time.Second, tt.failures); got != tt.want {
			t.Errorf("backoff after %d failures = %v, want %v", tt.failures, got, tt.want)
		}
	}
}

// TestRetryReportsStreakOnce checks that OnError hears each cause once per
// streak of failures, not once per retry: the same failure (whatever
// numbers its text holds) once, a new cause in the streak once more, and
// no more than maxReportedKinds causes however often the cause changes.
func TestRetryReportsStreakOnce(t *testing.T) {
	var reported []string
	r := retry{min: time.Millisecond, max: time.Second, onError: func(err error) { reported = append(reported, err.Error()) },
		sleep: func(context.Context, time.Duration) error { return nil }}
	ctx := context.Background()
	for i := range 5 {
		r.failed(ctx, fmt.Errorf("dial tcp 127.0.0.1:%d: connection refused", 5140+i))
	}
	r.failed(ctx, errors.New("tls: unknown authority"))
	r.failed(ctx, fmt.Errorf("dial tcp 127.0.0.1:%d: connection refused", 1))
	r.failed(ctx, errors.New("tls: unknown authority"))
	want := []string{"dial tcp 127.0.0.1:5140: connection refused", "tls: unknown authority"}
	if !slices.Equal(reported, want) {
		t.Errorf("first streak: reported %q, want %q", reported, want)
	}
	r.succeeded()
	reported = nil
	r.failed(ctx, errors.New("dial tcp 127.0.0.1:5140: connection refused"))
	if len(reported) != 1 {
		t.Errorf("a new streak: reported %q, want its first error", reported)
	}
	reported = nil
	for i := range 100 {
		r.failed(ctx, fmt.Errorf("cause %c", 'a'+i%26))
	}
	if len(reported) != maxReportedKinds-1 {
		t.Errorf("a cause that keeps changing: reported %d times, want %d", len(reported), maxReportedKinds-1)
	}
}

// closedAddr returns an address on 127.0.0.1 where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestShipUnreachable checks that an unreachable destination is retried
// with growing waits, reported once with an error naming it, and that
// Ship gives up when its context is cancelled, with nothing acknowledged.
func TestShipUnreachable(t *testing.T) {
	for _, scheme := range []string{"tcp", "relp"} {
		t.Run(scheme, func(t *testing.T) {
			url := scheme + "://" + closedAddr(t)
			var reported []error
			d, err := Open(Config{URL: url, OnError: func(err error) { reported = append(reported, err) }})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			ctx, cancel := context.WithCancel(context.Background())
			var waits []time.Duration
			sleep := func(ctx context.Context, d time.Duration) error {
				waits = append(waits, d)
				if len(waits) == 4 {
					cancel()
				}
				return ctx.Err()
			}
			switch d := d.(type) {
			case *stream:
				d.retry.sleep = sleep
			case *relpDest:
				d.retry.sleep = sleep
			}
			n, err := d.Ship(ctx, []Message{{Host: "h", Module: "m", File: "1", Seq: 1}})
			if n != 0 || !errors.Is(err, context.Canceled) {
				t.Fatalf("Ship = %d, %v; want 0 and context.Canceled", n, err)
			}
			if !strings.Contains(err.Error(), "connection refused") {
				t.Errorf("Ship error %q does not say why", err)
			}
			if fmt.Sprint(waits) != "[100ms 200ms 400ms 800ms]" {
				t.Errorf("waits %v, want doubling from 100ms", waits)
			}
			if len(reported) != 1 || !strings.Contains(reported[0].Error(), url[len(scheme)+3:]) {
				t.Errorf("reported %v, want one error naming %s", reported, url)
			}
		})
	}
}

// TestStreamFrames checks what a tcp:// destination writes: one
// octet-counted RFC 5424 frame per message, in order.
func TestStreamFrames(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan [][]byte, 1)
	go func() {
		var frames [][]byte
		defer func() { got <- frames }()
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			f, err := readFrame(r, 1<<20)
			if err != nil {
				return
			}
			frames = append(frames, f)
		}
	}()
	d, err := Open(Config{URL: "tcp://" + l.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	msgs := testMessages(3000, 0)
	n, err := d.Ship(context.Background(), msgs)
	if n != len(msgs) || err != nil {
		t.Fatalf("Ship = %d, %v", n, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	frames := <-got
	if len(frames) != len(msgs) {
		t.Fatalf("%d frames, want %d", len(frames), len(msgs))
	}
	for i, f := range frames {
		checkRFC5424(t, f, &msgs[i], DefaultSDID)
	}
}

// TestShipBadMessage checks that a message that cannot be rendered stops
// Ship at that message, after the ones before it were delivered.
func TestShipBadMessage(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			defer c.Close()
			buf := make([]byte, 4096)
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
			}
		}
	}()
	d, err := Open(Config{URL: "tcp://" + l.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	msgs := testMessages(5, 0)
	msgs[3].Host = "bad host"
	n, err := d.Ship(context.Background(), msgs)
	if n != 3 || !errors.Is(err, ErrBadMessage) {
		t.Fatalf("Ship = %d, %v; want 3 and ErrBadMessage", n, err)
	}
}

// testMessages returns n messages with seq from first+1, with lines of a
// few shapes, hostile ones included.
func testMessages(n int, first uint64) []Message {
	msgs := make([]Message, n)
	for i := range msgs {
		seq := first + uint64(i) + 1
		line := fmt.Sprintf(`2026-03-14T09:26:53.589Z seq=%d LOGON SUCCESS actor="alice" client=10.1.2.3`, seq)
		if seq%7 == 0 {
			line += " hostile=\"\n]\\\"\xff\xfe\r\nforged <13>1 - - - - - - line\""
		}
		msgs[i] = Message{Host: "agent01", Module: "AgentServer", File: "4", Seq: seq,
			Type: audit.Logon, Outcome: audit.Outcome(seq % 2), Time: testTime.Add(time.Duration(seq) * time.Millisecond),
			Line: []byte(line)}
	}
	return msgs
}

// TestStreamReconnectsAfterReceiverClose checks that a batch shipped after
// the receiver closed the connection goes out on a new connection instead
// of into the closed one, where it would count as delivered and be lost,
// after the batch written on the closed one: the receiver may have closed
// it without reading that batch, and drops it as a duplicate if it had.
// A close in order is no failure: nothing is reported.
func TestStreamReconnectsAfterReceiverClose(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type conn struct {
		frames [][]byte
	}
	conns := make(chan conn)
	closeFirst := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			c, err := l.Accept()
			if err != nil {
				close(conns)
				return
			}
			r := bufio.NewReader(c)
			var got conn
			if i == 0 {
				f, err := readFrame(r, 1<<20)
				if err == nil {
					got.frames = append(got.frames, f)
				}
				<-closeFirst
				c.Close()
				conns <- got
				continue
			}
			for {
				f, err := readFrame(r, 1<<20)
				if err != nil {
					break
				}
				got.frames = append(got.frames, f)
			}
			c.Close()
			conns <- got
		}
	}()
	var reported []error
	d, err := Open(Config{URL: "tcp://" + l.Addr().String(), OnError: func(err error) { reported = append(reported, err) }})
	if err != nil {
		t.Fatal(err)
	}
	msgs := testMessages(2, 0)
	if n, err := d.Ship(context.Background(), msgs[:1]); n != 1 || err != nil {
		t.Fatalf("Ship = %d, %v", n, err)
	}
	close(closeFirst)
	first := <-conns
	if n, err := d.Ship(context.Background(), msgs[1:]); n != 1 || err != nil {
		t.Fatalf("Ship = %d, %v", n, err)
	}
	d.Close()
	l.Close() // no second connection: conns is closed and second is empty
	second := <-conns
	if len(first.frames) != 1 || len(second.frames) != 2 {
		t.Fatalf("first connection got %d frames, second %d; want 1 and 2 (the first again, and the second)", len(first.frames), len(second.frames))
	}
	checkRFC5424(t, second.frames[0], &msgs[0], DefaultSDID)
	checkRFC5424(t, second.frames[1], &msgs[1], DefaultSDID)
	if len(reported) != 0 {
		t.Errorf("reported %v for a connection the receiver closed in order", reported)
	}
}
