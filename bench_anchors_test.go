package audit

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// benchCopy writes n sealed records in files of about 1 MiB and returns the
// directory, the collector's copy of them and the key.
func benchCopy(b *testing.B, n int) (dir string, copy []byte, key []byte) {
	b.Helper()
	dir = b.TempDir()
	keyFile := dir + "/k"
	require.NoError(b, NewKey(keyFile))
	key, err := ReadKey(keyFile)
	require.NoError(b, err)
	l, err := New(Config{Module: "AgentServer", AuditLogPath: dir + "/logs", Integrity: true, IntegrityKeyFile: keyFile,
		MaxSize: 1 << 20, EventMask: AllEvents, Now: fixedClock(day1, time.Millisecond)})
	require.NoError(b, err)
	for i := range n {
		require.NoError(b, l.Log(context.Background(), Event{Type: DataRead, Outcome: Succeeded, Actor: "alice", Subject: fmt.Sprint("customer-", i), Object: "history"}))
	}
	require.NoError(b, l.Close())
	return dir + "/logs", []byte(strings.Join(collectorLines(b, dir+"/logs", "AgentServer"), "")), key
}

// BenchmarkVerifyCopy compares verifying the audit files, verifying the
// same records as a collector's copy, and reading them as anchors.
func BenchmarkVerifyCopy(b *testing.B) {
	dir, data, key := benchCopy(b, 20000)
	b.Run("files", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			r, err := Verify(dir, "AgentServer", key)
			if err != nil || !r.OK() {
				b.Fatal(err, r.Problem)
			}
		}
	})
	b.Run("stream", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			r, err := VerifyReader(bytes.NewReader(data), "central", "AgentServer", key)
			if err != nil || !r.OK() {
				b.Fatal(err, r.Problem)
			}
		}
	})
	b.Run("anchors", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			a := &Anchors{Key: func(string) ([]byte, bool) { return key, true }}
			if err := a.Read(bytes.NewReader(data), "central"); err != nil {
				b.Fatal(err)
			}
			if _, ok := a.Newest("AgentServer"); !ok {
				b.Fatal("no anchor")
			}
		}
	})
}
