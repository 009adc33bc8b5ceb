package ship

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"sync"
	"testing"
)

// TestStreamReceiverClosesAtOnce ships to a receiver that, for its first
// connections, accepts and closes at once without reading, as a load
// balancer with no backend does, or rsyslog past its session limit, and
// then reads normally. TCP has no acknowledgement, but a connection the
// receiver closed is evidence: the records written on it are sent again on
// the next one, so every record arrives (duplicates allowed), and the
// failure is reported rather than silent.
func TestStreamReceiverClosesAtOnce(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const closing = 3
	closed := make(chan struct{}, closing)
	var mu sync.Mutex
	got := map[uint64]bool{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if i < closing {
				c.Close()
				closed <- struct{}{}
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					f, err := readFrame(r, 1<<20)
					if err != nil {
						return
					}
					params, _, err := splitRFC5424(f)
					if err != nil {
						t.Error(err)
						return
					}
					seq, _ := strconv.ParseUint(params["seq"], 10, 64)
					mu.Lock()
					got[seq] = true
					mu.Unlock()
				}
			}()
		}
	}()
	var reported []error
	d, err := Open(Config{URL: "tcp://" + l.Addr().String(), MinBackoff: 1, MaxBackoff: 1,
		OnError: func(err error) { reported = append(reported, err) }})
	if err != nil {
		t.Fatal(err)
	}
	msgs := testMessages(20, 0)
	for i := 0; i < len(msgs); i += 4 {
		if n, err := d.Ship(context.Background(), msgs[i:i+4]); n != 4 || err != nil {
			t.Fatalf("Ship = %d, %v", n, err)
		}
		if i/4 < closing {
			<-closed // the receiver closed the connection the batch went to
		}
	}
	d.Close()
	l.Close()
	wg.Wait()
	for _, m := range msgs {
		if !got[m.Seq] {
			t.Errorf("record %d was lost: it counted as delivered on a connection the receiver closed", m.Seq)
		}
	}
	if len(reported) == 0 {
		t.Error("nothing reported of the connections the receiver closed")
	}
}

// TestTLSStreamReconnectsAfterReceiverClose is
// TestStreamReconnectsAfterReceiverClose over TLS 1.3, whose server sends
// session tickets after the handshake and a close_notify alert when it
// closes: bytes wait on the connection either way, which must not pass
// for a receiver that is still there.
func TestTLSStreamReconnectsAfterReceiverClose(t *testing.T) {
	certs := makeCerts(t)
	cert, err := tls.LoadX509KeyPair(certs.serverCert, certs.serverKey)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	conns := make(chan [][]byte)
	closeFirst := make(chan struct{})
	go func() {
		defer close(conns)
		for i := 0; ; i++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			r := bufio.NewReader(c)
			var frames [][]byte
			for {
				f, err := readFrame(r, 1<<20)
				if err != nil {
					break
				}
				frames = append(frames, f)
				if i == 0 {
					<-closeFirst
					break
				}
			}
			c.Close()
			conns <- frames
		}
	}()
	d, err := Open(Config{URL: "tls://" + l.Addr().String() + "?ca=" + certs.caFile, MinBackoff: 1, MaxBackoff: 1})
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
	l.Close()
	second := <-conns
	if len(first) != 1 || len(second) != 2 {
		t.Fatalf("first connection got %d frames, second %d; want 1 and 2 (the first again, and the second)", len(first), len(second))
	}
	checkRFC5424(t, second[0], &msgs[0], DefaultSDID)
	checkRFC5424(t, second[1], &msgs[1], DefaultSDID)
}
