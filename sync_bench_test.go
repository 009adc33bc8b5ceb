//go:build linux

package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// syncBenchEvent renders as a record of about 250 bytes. Its strings are
// made once, so that the benchmark's allocations are the library's.
func syncBenchEvent(g, i int) Event {
	return Event{
		Type: DataRead, Outcome: Succeeded,
		Actor:   "agent.smith@example.com",
		Subject: syncBenchSubjects[g%len(syncBenchSubjects)],
		Object:  "recording/2026/11/25/call-88231.wav",
		Client:  "10.20.30.41:5060",
		Session: "S-1234567",
		Reason:  syncBenchReason,
	}
}

var (
	syncBenchReason   = strings.Repeat("r", 60)
	syncBenchSubjects = func() (s [64]string) {
		for g := range s {
			s[g] = "customer-" + fmt.Sprint(g)
		}
		return s
	}()
)

// BenchmarkSyncPolicy measures events per second written to a real file by
// each sync policy with 1, 8 and 64 goroutines.
func BenchmarkSyncPolicy(b *testing.B) {
	for _, policy := range []SyncPolicy{SyncWriteThrough, SyncInterval, SyncEveryEvent} {
		for _, goroutines := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("%s/g=%d", policy, goroutines), func(b *testing.B) {
				l, err := New(Config{Module: "Bench", AuditLogPath: b.TempDir(), Sync: policy, EventMask: AllEvents, MaxSize: 1 << 30})
				if err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				var wg sync.WaitGroup
				for g := range goroutines {
					n := b.N / goroutines
					if g < b.N%goroutines {
						n++
					}
					wg.Go(func() {
						for i := range n {
							if err := l.Log(ctx, syncBenchEvent(g, i)); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
				st := l.Stats()
				b.ReportMetric(float64(st.Bytes)/float64(max(st.Written, 1)), "bytes/event")
			})
		}
	}
}

// BenchmarkBareFile measures the machine's own limits for the same records:
// one write(2) per record, write and fdatasync per record, and one write and
// one fdatasync per batch of 64 records.
func BenchmarkBareFile(b *testing.B) {
	line := []byte(strings.Repeat("x", 249) + "\n")
	open := func(b *testing.B) *os.File {
		f, err := os.OpenFile(filepath.Join(b.TempDir(), "bare.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		return f
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	}
	b.Run("write", func(b *testing.B) {
		f := open(b)
		for b.Loop() {
			if _, err := f.Write(line); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("write+fdatasync", func(b *testing.B) {
		f := open(b)
		for b.Loop() {
			if _, err := f.Write(line); err != nil {
				b.Fatal(err)
			}
			if err := syscall.Fdatasync(int(f.Fd())); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("batch64+fdatasync", func(b *testing.B) {
		f := open(b)
		batch := []byte(strings.Repeat(string(line), 64))
		for i := 0; i < b.N; i += 64 {
			if _, err := f.Write(batch); err != nil {
				b.Fatal(err)
			}
			if err := syscall.Fdatasync(int(f.Fd())); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
}
