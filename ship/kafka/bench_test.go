package kafka

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/auditkit/audit/ship"
)

// BenchmarkProduce produces audit records to an in-process cluster of three
// brokers through a Destination, and the same keys and values with a bare
// kgo ProduceSync loop over the same batches, in the same run. kfake keeps
// everything in memory: the figures compare the two clients' overheads, not
// what a real cluster achieves.
func BenchmarkProduce(b *testing.B) {
	_, url := newCluster(b, 6)
	const batch = 512
	msgs := messages("host0", "AgentServer", batch)
	for i := range msgs {
		msgs[i].Line = []byte(`2026-11-30T14:00:00.123456Z AgentServer LOGON SUCCESS seq=12 actor=agent7 client=10.1.2.3 session=s-42 mac=4f2a9c0b7d1e6a3f8b5c2d9e0a1f7b3c4d8e6f2a1b9c0d7e5f3a2b8c6d4e0f1a`)
	}
	perRecord := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	}
	b.Run("Destination", func(b *testing.B) {
		d, err := Open(url, Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer d.Close()
		b.ReportAllocs()
		for done := 0; done < b.N; {
			part := msgs[:min(batch, b.N-done)]
			n, err := d.Ship(context.Background(), part)
			if err != nil {
				b.Fatal(err)
			}
			done += n
		}
		perRecord(b)
	})
	bare := func(headers bool) func(b *testing.B) {
		return func(b *testing.B) {
			tg, _ := ParseURL(url)
			cl, err := kgo.NewClient(kgo.SeedBrokers(tg.Brokers...), kgo.DefaultProduceTopic(tg.Topic),
				kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0))
			if err != nil {
				b.Fatal(err)
			}
			defer cl.Close()
			recs := make([]*kgo.Record, batch)
			for i := range recs {
				if headers {
					recs[i], _ = record(&msgs[i])
				} else {
					recs[i] = &kgo.Record{Key: []byte(Key(msgs[i].Host, msgs[i].Module)), Value: msgs[i].Line}
				}
			}
			b.ReportAllocs()
			for done := 0; done < b.N; {
				part := recs[:min(batch, b.N-done)]
				for _, r := range part {
					r.Partition, r.Offset = 0, 0
				}
				if err := cl.ProduceSync(context.Background(), part...).FirstErr(); err != nil {
					b.Fatal(err)
				}
				done += len(part)
			}
			perRecord(b)
		}
	}
	// The same keys and values, without and with the Destination's headers,
	// prepared once.
	b.Run("ProduceSync", bare(false))
	b.Run("ProduceSyncHeaders", bare(true))
}

var _ ship.Destination = (*Destination)(nil)
