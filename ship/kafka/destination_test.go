package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/auditkit/audit"
	"github.com/auditkit/audit/ship"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url     string
		brokers []string
		topic   string
		bad     bool
	}{
		{url: "kafka://b1,b2:9093/audit", brokers: []string{"b1:9092", "b2:9093"}, topic: "audit"},
		{url: "kafka://[::1]:9000/a.b_c-d", brokers: []string{"[::1]:9000"}, topic: "a.b_c-d"},
		{url: "kafka://127.0.0.1/t", brokers: []string{"127.0.0.1:9092"}, topic: "t"},
		{url: "tcp://b1/t", bad: true},
		{url: "kafka://b1", bad: true},
		{url: "kafka://b1/", bad: true},
		{url: "kafka:///t", bad: true},
		{url: "kafka://b1,,b2/t", bad: true},
		{url: "kafka://b1:0/t", bad: true},
		{url: "kafka://b1:99999/t", bad: true},
		{url: "kafka://b1:x/t", bad: true},
		{url: "kafka://::1/t", bad: true},
		{url: "kafka://0[/t", bad: true},
		{url: "kafka://b]1:9092/t", bad: true},
		{url: "kafka://b\x001/t", bad: true},
		{url: "kafka://b 1/t", bad: true},
		{url: "kafka://b1/t/u", bad: true},
		{url: "kafka://b1/t?acks=1", bad: true},
		{url: "kafka://user@b1/t", bad: true},
		{url: "kafka://b1/..", bad: true},
		{url: "kafka://b1/to pic", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := ParseURL(tt.url)
			if tt.bad {
				if !errors.Is(err, ship.ErrBadDestination) {
					t.Fatalf("err %v, want ErrBadDestination", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got.Brokers) != fmt.Sprint(tt.brokers) || got.Topic != tt.topic {
				t.Fatalf("got %v %q", got.Brokers, got.Topic)
			}
			if _, err := ParseURL(got.String()); err != nil {
				t.Fatalf("String %q does not parse: %v", got, err)
			}
		})
	}
}

// messages returns n messages of one module, seq 1 to n.
func messages(host, module string, n int) []ship.Message {
	msgs := make([]ship.Message, n)
	for i := range msgs {
		msgs[i] = ship.Message{Host: host, Module: module, File: "f0", Seq: uint64(i + 1),
			Type: audit.Logon, Outcome: audit.Outcome(i % 2), Time: time.Unix(1700000000, int64(i)*1000),
			Line: fmt.Appendf(nil, "line %d of %s with \n newline ] \" \\ \xff", i+1, module)}
	}
	return msgs
}

// consume reads n records of the topic from the start.
func consume(t *testing.T, url string, n int) []*kgo.Record {
	t.Helper()
	tg, _ := ParseURL(url)
	cl, err := kgo.NewClient(kgo.SeedBrokers(tg.Brokers...), kgo.ConsumeTopics(tg.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d records of %d", len(recs), n)
		}
		recs = append(recs, fs.Records()...)
	}
	return recs
}

// checkDelivered checks that recs hold msgs exactly once, in order per key,
// with their key and headers. When dups, records already seen and records
// after one not yet seen are dropped, as the collector does: a record that
// failed is resent with those after it.
func checkDelivered(t *testing.T, recs []*kgo.Record, msgs []ship.Message, dups bool) {
	t.Helper()
	next := map[string]int{} // key -> index in msgs of the next expected
	byKey := map[string][]ship.Message{}
	for _, m := range msgs {
		k := Key(m.Host, m.Module)
		byKey[k] = append(byKey[k], m)
	}
	for _, r := range recs {
		k := string(r.Key)
		h := map[string]string{}
		for _, x := range r.Headers {
			h[x.Key] = string(x.Value)
		}
		seq, _ := strconv.ParseUint(h[HeaderSeq], 10, 64)
		i := next[k]
		if dups && (i > 0 && seq <= byKey[k][i-1].Seq || i < len(byKey[k]) && seq > byKey[k][i].Seq) {
			// A duplicate, or a record after one that failed: both
			// come again in order.
			continue
		}
		if i >= len(byKey[k]) {
			t.Fatalf("key %s: record seq %d after the last", k, seq)
		}
		m := byKey[k][i]
		if seq != m.Seq || string(r.Value) != string(m.Line) || h[HeaderHost] != m.Host || h[HeaderModule] != m.Module ||
			h[HeaderFile] != m.File || h[HeaderType] != m.Type.String() || h[HeaderOutcome] != m.Outcome.String() || !r.Timestamp.Equal(m.Time.Truncate(time.Millisecond)) {
			t.Fatalf("key %s: got seq %d %q headers %v, want seq %d %q", k, seq, r.Value, h, m.Seq, m.Line)
		}
		next[k] = i + 1
	}
	for k, ms := range byKey {
		if next[k] != len(ms) {
			t.Fatalf("key %s: %d of %d records delivered", k, next[k], len(ms))
		}
	}
}

func TestShipDelivers(t *testing.T) {
	_, url := newCluster(t, 4)
	d, err := Open(url, Config{Options: fastOptions})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []ship.Message
	for i := range 4 {
		msgs = append(msgs, messages("h1", fmt.Sprintf("M%d", i), 50)...)
	}
	for i := 0; i < len(msgs); i += 60 {
		part := msgs[i:min(i+60, len(msgs))]
		n, err := d.Ship(context.Background(), part)
		if n != len(part) || err != nil {
			t.Fatalf("Ship = %d, %v", n, err)
		}
	}
	d.Close()
	if _, err := d.Ship(context.Background(), msgs[:1]); !errors.Is(err, ship.ErrClosed) {
		t.Fatalf("Ship after Close: %v", err)
	}
	recs := consume(t, url, len(msgs))
	checkDelivered(t, recs, msgs, false)
	// One partition per key.
	parts := map[string]int32{}
	for _, r := range recs {
		if p, ok := parts[string(r.Key)]; ok && p != r.Partition {
			t.Fatalf("key %s in partitions %d and %d", r.Key, p, r.Partition)
		}
		parts[string(r.Key)] = r.Partition
	}
}

func TestShipBadMessage(t *testing.T) {
	_, url := newCluster(t, 1)
	d, err := Open(url, Config{Options: fastOptions})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	msgs := messages("h1", "M", 5)
	for _, bad := range []func(*ship.Message){
		func(m *ship.Message) { m.Host = "" },
		func(m *ship.Message) { m.Host = "a/b" },
		func(m *ship.Message) { m.Host = ".." },
		func(m *ship.Message) { m.Module = "" },
		func(m *ship.Message) { m.File = "" },
	} {
		ms := append([]ship.Message(nil), msgs...)
		bad(&ms[3])
		n, err := d.Ship(context.Background(), ms)
		if n != 3 || !errors.Is(err, ship.ErrBadMessage) {
			t.Fatalf("Ship = %d, %v; want 3 and ErrBadMessage", n, err)
		}
	}
}

// failProduce answers a produce request with code for every partition.
func failProduce(req kmsg.Request, code int16) kmsg.Response {
	r := req.(*kmsg.ProduceRequest)
	resp := r.ResponseKind().(*kmsg.ProduceResponse)
	for _, tp := range r.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic, rt.TopicID = tp.Topic, tp.TopicID
		for _, p := range tp.Partitions {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// TestShipProduceErrors injects produce errors: retriable ones that the
// client retries by itself, dropped connections, and errors that fail the
// records and make Ship retry them. Every record arrives, in order, and
// the failures are reported once for the streak.
func TestShipProduceErrors(t *testing.T) {
	for _, tt := range []struct {
		name      string
		fail      func(kmsg.Request) (kmsg.Response, error)
		onErrors  bool // Ship itself sees the failures
		duplicate bool // a failed record may have been written
	}{
		{name: "not leader", fail: func(r kmsg.Request) (kmsg.Response, error) {
			return failProduce(r, kerr.NotLeaderForPartition.Code), nil
		}},
		{name: "connection dropped", duplicate: true, fail: func(kmsg.Request) (kmsg.Response, error) {
			return nil, errors.New("dropped")
		}},
		{name: "message too large", onErrors: true, duplicate: true, fail: func(r kmsg.Request) (kmsg.Response, error) {
			return failProduce(r, kerr.MessageTooLarge.Code), nil
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, url := newCluster(t, 2)
			var left atomic.Int32
			left.Store(5)
			c.ControlKey(kmsg.Produce.Int16(), func(r kmsg.Request) (kmsg.Response, error, bool) {
				c.KeepControl()
				if left.Add(-1) < 0 {
					return nil, nil, false
				}
				resp, err := tt.fail(r)
				return resp, err, true
			})
			var mu sync.Mutex
			var reported []error
			d, err := Open(url, Config{MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, Options: fastOptions,
				OnError: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			msgs := messages("h1", "M", 100)
			for i := 0; i < len(msgs); i += 10 {
				n, err := d.Ship(context.Background(), msgs[i:i+10])
				if n != 10 || err != nil {
					t.Fatalf("Ship = %d, %v", n, err)
				}
			}
			if left.Load() >= 0 {
				t.Fatalf("only %d of 5 failures injected", 5-left.Load())
			}
			checkDelivered(t, consume(t, url, len(msgs)), msgs, tt.duplicate)
			mu.Lock()
			defer mu.Unlock()
			if tt.onErrors && len(reported) != 1 {
				t.Fatalf("%d errors reported, want 1 for the streak: %v", len(reported), reported)
			}
			if !tt.onErrors && len(reported) != 0 {
				t.Fatalf("errors reported for failures the client retries: %v", reported)
			}
		})
	}
}

// TestShipBrokerRestart takes the partition's leader down (every request
// to it drops its connection, as to a broker that is restarting) for a
// while, then elects new leaders, in the middle of shipping: nothing is
// lost or reordered.
func TestShipBrokerRestart(t *testing.T) {
	c, url := newCluster(t, 1)
	var down atomic.Int32 // requests the leader still refuses
	var leader atomic.Int32
	leader.Store(c.LeaderFor(topic, 0))
	c.ControlKey(-1, func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if c.CurrentNode() != leader.Load() || down.Add(-1) < 0 {
			return nil, nil, false
		}
		return nil, errors.New("broker restarting"), true
	})
	d, err := Open(url, Config{MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, Options: fastOptions})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	msgs := messages("h1", "M", 300)
	for i := 0; i < len(msgs); i += 30 {
		switch i % 90 {
		case 30:
			down.Store(20)
		case 60:
			c.ShufflePartitionLeaders()
			leader.Store(c.LeaderFor(topic, 0))
		}
		n, err := d.Ship(context.Background(), msgs[i:i+30])
		if n != 30 || err != nil {
			t.Fatalf("Ship = %d, %v", n, err)
		}
	}
	if down.Load() > 0 {
		t.Fatalf("the leader refused only %d of 20 requests", 20-down.Load())
	}
	checkDelivered(t, consume(t, url, len(msgs)), msgs, true)
}

// TestParseURLHidesPassword checks that a URL refused for carrying a
// password is not echoed with it: the error goes to logs and terminals.
func TestParseURLHidesPassword(t *testing.T) {
	for _, raw := range []string{
		"kafka://auditor:s3cret@b1:9092/audit",
		"kafka://b1:9092/audit?sasl=plain&user=auditor&password=s3cret",
		"kafka+tls://b1:9092/audit?password=s3cret&sasl=plain",
	} {
		_, err := ParseURL(raw)
		if !errors.Is(err, ship.ErrBadDestination) {
			t.Fatalf("ParseURL(%s): %v, want ErrBadDestination", raw, err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseURL(%s): %q shows the password", raw, err)
		}
	}
}
