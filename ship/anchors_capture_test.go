package ship

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/auditkit/audit"
)

// TestAnchorsFromCaptureWithResends ships a sealed module over TCP to a
// receiver that closes its first connections at once and then keeps
// every byte, as a raw capture. The capture holds resent frames; the
// library's anchor reader takes it, and the local files verify against
// its newest anchor, the module's last record.
func TestAnchorsFromCaptureWithResends(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	var capture bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if i < 3 {
				c.Close()
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					mu.Lock()
					capture.Write(buf[:n])
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	dir := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "AgentServer.key")
	if err := audit.NewKey(keyFile); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	lg := newTestLogger(t, dir, func(c *audit.Config) { c.Integrity, c.IntegrityKeyFile = true, keyFile })
	s, err := NewShipper(ShipperConfig{Dir: dir, Module: "AgentServer", Host: "agent01", Batch: 16,
		Destination: Config{URL: "tcp://" + l.Addr().String(), MinBackoff: 1, MaxBackoff: 1}})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	logRecords(t, lg, 0, 400)
	if err := lg.Close(); err != nil {
		t.Fatal(err)
	}
	want := localLines(t, dir, "AgentServer")
	waitFor(t, "every record shipped", func() bool { return s.Stats().Shipped >= uint64(len(want)) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	l.Close()
	wg.Wait()
	a := &audit.Anchors{Key: func(string) ([]byte, bool) { return key, true }}
	if err := a.Read(bytes.NewReader(capture.Bytes()), "capture"); err != nil {
		t.Fatal(err)
	}
	got, ok := a.Newest("AgentServer")
	if !ok {
		t.Fatal("no anchor in the capture")
	}
	last, err := audit.ParseRecord(want[len(want)-1])
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != last.Seq || got.MAC != last.MAC {
		t.Errorf("newest anchor %s seq %d, want the last record, seq %d", got.Source, got.Seq, last.Seq)
	}
	rep, err := audit.VerifyWith(dir, "AgentServer", key, audit.VerifyOptions{Anchors: a})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Problem != nil || !rep.AnchorMatched {
		t.Errorf("verify against the capture's anchors: problem %v, matched %v", rep.Problem, rep.AnchorMatched)
	}
}
