package ship

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReadRELPFrame(t *testing.T) {
	tests := []struct {
		in   string
		want relpFrame
		err  string
	}{
		{in: "1 rsp 6 200 OK\n", want: relpFrame{1, "rsp", []byte("200 OK")}},
		{in: "0 serverclose 0\n", want: relpFrame{0, "serverclose", nil}},
		{in: "999999999 rsp 3 500\n", want: relpFrame{999999999, "rsp", []byte("500")}},
		{in: "2 syslog 3 a\nb\n", want: relpFrame{2, "syslog", []byte("a\nb")}},
		{in: "", err: "EOF"},
		{in: "1 rsp 6 200 OK", err: "unexpected EOF"},
		{in: "1 rsp 6 200 OKX", err: `byte 'X' where the trailer LF belongs`},
		{in: "1 rsp 0 \n", err: `byte ' ' where the trailer LF belongs`},
		{in: "1 rsp 3\n500\n", err: `byte '\n' after DATALEN`},
		{in: "1000000000 rsp 0\n", err: "TXNR: more than 9 digits"},
		{in: "x rsp 0\n", err: "TXNR: byte 'x'"},
		{in: "1  rsp 0\n", err: "command: empty"},
		{in: "1 r2p 0\n", err: "command: byte '2'"},
		{in: "1 " + strings.Repeat("a", 33) + " 0\n", err: "command: byte 'a'"},
		{in: "1 rsp x\n", err: "DATALEN: byte 'x'"},
		{in: "1 rsp 200000 x", err: "more than 131072"},
		{in: "1\n", err: `TXNR: byte '\n' after the digits`},
	}
	for _, tt := range tests {
		f, err := readRELPFrame(bufio.NewReader(strings.NewReader(tt.in)), relpMaxData, nil)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("readRELPFrame(%q) = %v, want error with %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || f.txnr != tt.want.txnr || f.cmd != tt.want.cmd || !bytes.Equal(f.data, tt.want.data) {
			t.Errorf("readRELPFrame(%q) = %+v, %v; want %+v", tt.in, f, err, tt.want)
		}
	}
}

func TestParseRELPResponse(t *testing.T) {
	tests := []struct {
		in    string
		code  int
		human string
		data  string
		err   bool
	}{
		{in: "200 OK", code: 200, human: "OK"},
		{in: "200", code: 200},
		{in: "500 error: too big", code: 500, human: "error: too big"},
		{in: "200 OK\nrelp_version=0\ncommands=syslog", code: 200, human: "OK", data: "relp_version=0\ncommands=syslog"},
		{in: "200\nrelp_version=0", code: 200, data: "relp_version=0"},
		{in: "20", err: true},
		{in: "2x0 OK", err: true},
		{in: "200OK", err: true},
	}
	for _, tt := range tests {
		rsp, err := parseRELPResponse([]byte(tt.in))
		if (err != nil) != tt.err {
			t.Errorf("parseRELPResponse(%q) error %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if !tt.err && (rsp.code != tt.code || string(rsp.human) != tt.human || string(rsp.data) != tt.data) {
			t.Errorf("parseRELPResponse(%q) = %+v", tt.in, rsp)
		}
	}
}

func TestRELPOffer(t *testing.T) {
	data := []byte("relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog,eventlog")
	if v, ok := relpOffer(data, "commands"); !ok || fmt.Sprint(v) != "[syslog eventlog]" {
		t.Errorf("commands = %v, %v", v, ok)
	}
	if v, ok := relpOffer(data, "relp_version"); !ok || fmt.Sprint(v) != "[0]" {
		t.Errorf("relp_version = %v, %v", v, ok)
	}
	if _, ok := relpOffer(data, "starttls"); ok {
		t.Error("starttls offered")
	}
}

func TestNextTxnr(t *testing.T) {
	for _, tt := range [][2]int{{1, 2}, {998_999_999, 999_000_000}, {999_999_999, 1}} {
		if got := nextTxnr(tt[0]); got != tt[1] {
			t.Errorf("nextTxnr(%d) = %d, want %d", tt[0], got, tt[1])
		}
	}
}

// FuzzRELPResponse feeds arbitrary server output to the frame reader and
// the response parser: no panic, no data beyond the limit, and a frame
// that reads back re-encodes to the bytes it came from.
func FuzzRELPResponse(f *testing.F) {
	f.Add([]byte("1 rsp 6 200 OK\n"))
	f.Add([]byte("1 rsp 92 200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n"))
	f.Add([]byte("0 serverclose 0\n2 rsp 3 500\n"))
	f.Add([]byte("999999999 rsp 0\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		consumed := 0
		for {
			fr, err := readRELPFrame(r, 1024, nil)
			if err != nil {
				return
			}
			if len(fr.data) > 1024 {
				t.Fatalf("%d bytes of data beyond the limit", len(fr.data))
			}
			enc := appendRELPFrame(nil, fr.txnr, fr.cmd, fr.data)
			if !bytes.HasPrefix(in[consumed:], enc) {
				// Leading zeros in numbers are the one freedom the reader
				// allows; anything else must re-encode as it came.
				if !bytes.Contains(in[consumed:], []byte(" 0")) && in[consumed] != '0' {
					t.Fatalf("frame %+v re-encodes as %q, input %q", fr, enc, in[consumed:])
				}
				return
			}
			consumed += len(enc)
			if fr.cmd == "rsp" {
				rsp, err := parseRELPResponse(fr.data)
				if err == nil && (rsp.code < 0 || rsp.code > 999 || bytes.Contains(rsp.human, []byte("\n"))) {
					t.Fatalf("response %+v", rsp)
				}
			}
		}
	})
}

// relpServer is a RELP server in the test, to drive the client through
// what rsyslog does not do on demand: a full window, refusals and dropped
// sessions.
type relpServer struct {
	l      net.Listener
	window int // fail the test when more commands are unanswered
	// answer returns the status for the n-th syslog command received
	// (from 1, over all sessions) and whether to drop the session instead
	// of answering.
	answer func(n int) (code int, drop bool)

	mu       sync.Mutex
	received [][]byte
	acked    [][]byte
	sessions int
	err      error
	wg       sync.WaitGroup
}

func newRELPServer(t *testing.T, window int, answer func(int) (int, bool)) *relpServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &relpServer{l: l, window: window, answer: answer}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		l.Close()
		s.wg.Wait()
		if s.err != nil {
			t.Error(s.err)
		}
	})
	return s
}

func (s *relpServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.sessions++
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.session(c)
		}()
	}
}

func (s *relpServer) fail(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = fmt.Errorf(format, args...)
	}
}

func (s *relpServer) session(c net.Conn) {
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	type pending struct {
		txnr int
		data []byte
	}
	var queue []pending
	for {
		f, err := readRELPFrame(r, 1<<20, nil)
		if err != nil {
			if err != io.EOF && !errors.Is(err, net.ErrClosed) {
				s.fail("server read: %v", err)
			}
			return
		}
		switch f.cmd {
		case "open":
			if !bytes.Contains(f.data, []byte("relp_version=")) || !bytes.Contains(f.data, []byte("commands=syslog")) {
				s.fail("open offers %q", f.data)
			}
			w.Write(appendRELPFrame(nil, f.txnr, "rsp", []byte("200 OK\nrelp_version=0\nrelp_software=test\ncommands=syslog")))
			w.Flush()
			continue
		case "close":
			w.Write(appendRELPFrame(nil, f.txnr, "rsp", []byte("200 OK")))
			w.Write(appendRELPFrame(nil, 0, "serverclose", nil))
			w.Flush()
			return
		case "syslog":
		default:
			s.fail("command %q", f.cmd)
			return
		}
		queue = append(queue, pending{f.txnr, f.data})
		if len(queue) > s.window {
			s.fail("%d commands unanswered, window %d", len(queue), s.window)
		}
		if r.Buffered() > 0 {
			continue // answer once the client waits
		}
		for _, p := range queue {
			s.mu.Lock()
			s.received = append(s.received, p.data)
			n := len(s.received)
			s.mu.Unlock()
			code, drop := s.answer(n)
			if drop {
				w.Flush()
				return
			}
			if code == 200 {
				s.mu.Lock()
				s.acked = append(s.acked, p.data)
				s.mu.Unlock()
			}
			w.Write(appendRELPFrame(nil, p.txnr, "rsp", fmt.Appendf(nil, "%d %s", code, "status")))
		}
		queue = queue[:0]
		if err := w.Flush(); err != nil {
			return
		}
	}
}

// TestRELPWindow checks that the client keeps at most a window of commands
// unanswered and that every message is acknowledged, in order.
func TestRELPWindow(t *testing.T) {
	for _, window := range []int{1, 7, 256} {
		t.Run(fmt.Sprint(window), func(t *testing.T) {
			s := newRELPServer(t, window, func(int) (int, bool) { return 200, false })
			d, err := Open(Config{URL: fmt.Sprintf("relp://%s?window=%d", s.l.Addr(), window)})
			if err != nil {
				t.Fatal(err)
			}
			msgs := testMessages(1000, 0)
			n, err := d.Ship(context.Background(), msgs)
			if n != len(msgs) || err != nil {
				t.Fatalf("Ship = %d, %v", n, err)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			s.l.Close()
			s.wg.Wait()
			checkInOrder(t, s.acked, msgs)
		})
	}
}

// TestRELPResend checks that messages the server did not acknowledge
// (a refusal, a dropped session) are sent again on a new session, and
// that each streak of failures is reported once.
func TestRELPResend(t *testing.T) {
	s := newRELPServer(t, 64, func(n int) (int, bool) {
		switch {
		case n == 100:
			return 500, false
		case n%250 == 0:
			return 0, true
		}
		return 200, false
	})
	var reported []error
	d, err := Open(Config{URL: fmt.Sprintf("relp://%s?window=64", s.l.Addr()), OnError: func(err error) { reported = append(reported, err) }})
	if err != nil {
		t.Fatal(err)
	}
	d.(*relpDest).retry.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	msgs := testMessages(1000, 0)
	n, err := d.Ship(context.Background(), msgs)
	if n != len(msgs) || err != nil {
		t.Fatalf("Ship = %d, %v", n, err)
	}
	d.Close()
	s.l.Close()
	s.wg.Wait()
	// The messages behind the refused one in its window were acknowledged
	// before it was sent again, and then sent again behind it: keeping the
	// last copy of each gives the order of the file.
	checkInOrder(t, dedupeLast(t, s.acked), msgs)
	if s.sessions < 5 {
		t.Errorf("%d sessions, want a new one after each dropped session", s.sessions)
	}
	if len(reported) == 0 || !errors.Is(reported[0], ErrRefused) {
		t.Errorf("reported %v, want the refusal first", reported)
	}
}

// TestRELPCancel checks that a cancelled Ship returns how many messages
// were acknowledged: a server that never answers acknowledges none.
func TestRELPCancel(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cancel()
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		f, err := readRELPFrame(r, 1<<20, nil)
		if err != nil {
			return
		}
		c.Write(appendRELPFrame(nil, f.txnr, "rsp", []byte("200 OK\nrelp_version=0\ncommands=syslog")))
		for range 10 {
			if _, err := readRELPFrame(r, 1<<20, nil); err != nil {
				return
			}
		}
		cancel() // all sent, none answered
		io.Copy(io.Discard, r)
	}()
	d, err := Open(Config{URL: "relp://" + l.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	n, err := d.Ship(ctx, testMessages(10, 0))
	if n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("Ship = %d, %v; want 0, context.Canceled", n, err)
	}
	d.Close()
	l.Close()
	<-done
}

// dedupeLast keeps the last copy of each message by its id.
func dedupeLast(t testing.TB, got [][]byte) [][]byte {
	t.Helper()
	rev := slices.Clone(got)
	slices.Reverse(rev)
	out := dedupe(t, rev)
	slices.Reverse(out)
	return out
}

// dedupe drops messages whose id (host, module, file, seq) was seen
// before, as a receiver does.
func dedupe(t testing.TB, got [][]byte) [][]byte {
	t.Helper()
	seen := map[string]bool{}
	var out [][]byte
	for _, m := range got {
		params, _, err := splitRFC5424(m)
		if err != nil {
			t.Fatalf("%v in %q", err, m)
		}
		id := params["host"] + "/" + params["module"] + "/" + params["file"] + "/" + params["seq"]
		if !seen[id] {
			seen[id] = true
			out = append(out, m)
		}
	}
	return out
}

// checkInOrder checks that got are msgs rendered, in order, each one valid
// RFC 5424 carrying its record line byte for byte.
func checkInOrder(t testing.TB, got [][]byte, msgs []Message) {
	t.Helper()
	if len(got) != len(msgs) {
		t.Fatalf("%d messages, want %d", len(got), len(msgs))
	}
	for i, g := range got {
		want, err := Format{}.Append(nil, &msgs[i])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(g, want) {
			t.Fatalf("message %d:\n%q\nwant\n%q", i, g, want)
		}
		checkRFC5424(t, g, &msgs[i], DefaultSDID)
	}
}
