package ship

import (
	"bufio"
	"context"
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
