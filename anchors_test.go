package audit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/auditkit/audit"
	"github.com/auditkit/audit/ship"
	"github.com/stretchr/testify/require"
)

const anchorModule = "AgentServer"

// anchorKey makes an original key file and returns its path and key.
func anchorKey(t *testing.T) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.key")
	require.NoError(t, audit.NewKey(path))
	key, err := audit.ReadKey(path)
	require.NoError(t, err)
	return path, key
}

// anchorClock is a clock that moves a minute at each reading.
func anchorClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Minute)
		return t
	}
}

// writeRecords logs n records of module into dir, sealed with keyFile
// ("" for no key), in small files.
func writeRecords(t *testing.T, dir, module, keyFile string, now func() time.Time, n int) {
	t.Helper()
	l, err := audit.New(audit.Config{Module: module, AuditLogPath: dir, MaxSize: audit.MinFileSize, Integrity: true,
		IntegrityKeyFile: keyFile, EventMask: audit.AllEvents, Now: now})
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, l.Log(context.Background(), audit.Event{Outcome: audit.Succeeded, Type: audit.DataRead, Actor: "alice",
			Subject: fmt.Sprint("customer-", i), Object: `history] "x" \y`}))
	}
	require.NoError(t, l.Close())
}

// shipped is a record as the collector received it, with the index of its
// file.
type shipped struct {
	line  string
	index uint64
}

// receivedLines returns the lines of module's files in dir, in chain order,
// as a collector receives them.
func receivedLines(t *testing.T, dir, module string) []shipped {
	t.Helper()
	files, err := audit.ListFiles(dir, module)
	require.NoError(t, err)
	var out []shipped
	for _, f := range files {
		r, err := audit.OpenFile(f)
		require.NoError(t, err)
		var index uint64
		for {
			ln, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			rec, err := audit.ParseRecord(ln.Text)
			require.NoError(t, err)
			if rec.Event.Type == audit.FileStart {
				for i := range rec.Event.NumFields() {
					if f := rec.Event.Field(i); f.Key == "file" {
						index, err = strconv.ParseUint(f.Value, 10, 64)
						require.NoError(t, err)
					}
				}
			}
			out = append(out, shipped{line: string(ln.Text), index: index})
		}
		require.NoError(t, r.Close())
	}
	return out
}

// rawLines renders records as a mirror file holds them.
func rawLines(recs []shipped) string {
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(r.line + "\n")
	}
	return b.String()
}

// syslogLines renders records as package ship sends them, one RFC 5424
// message a line, as rsyslog writes them with RSYSLOG_SyslogProtocol23Format.
func syslogLines(t *testing.T, host string, recs []shipped) string {
	t.Helper()
	var b []byte
	for _, r := range recs {
		rec, err := audit.ParseRecord([]byte(r.line))
		require.NoError(t, err)
		b, err = ship.Format{}.Append(b, &ship.Message{Host: host, Module: rec.Module, File: strconv.FormatUint(r.index, 10),
			Seq: rec.Seq, Type: rec.Event.Type, Outcome: rec.Event.Outcome, Time: rec.Event.Time, Line: []byte(r.line)})
		require.NoError(t, err)
		b = append(b, '\n')
	}
	return string(b)
}

// octetCounted renders records as a capture of what package ship sent
// over TCP: RFC 5424 messages in RFC 6587 octet-counted frames, with no
// newline between them, cut in the middle of one more frame.
func octetCounted(t *testing.T, host string, recs []shipped) string {
	t.Helper()
	var b strings.Builder
	for _, m := range strings.SplitAfter(syslogLines(t, host, recs), "\n") {
		if m = strings.TrimSuffix(m, "\n"); m != "" {
			fmt.Fprintf(&b, "%d %s", len(m), m)
		}
	}
	fmt.Fprintf(&b, "%d <13>1 cut", 300)
	return b.String()
}

// keyFor returns an Anchors.Key that knows the keys given.
func keyFor(keys map[string][]byte) func(string) ([]byte, bool) {
	return func(m string) ([]byte, bool) {
		k, ok := keys[m]
		return k, ok
	}
}

func readAnchors(t *testing.T, a *audit.Anchors, text string) *audit.Anchors {
	t.Helper()
	require.NoError(t, a.Read(strings.NewReader(text), "central.log"))
	return a
}

func TestAnchorsIntact(t *testing.T) {
	for _, keyed := range []bool{true, false} {
		t.Run(fmt.Sprint("keyed=", keyed), func(t *testing.T) {
			keyFile, key := "", []byte(nil)
			if keyed {
				keyFile, key = anchorKey(t)
			}
			dir := t.TempDir()
			writeRecords(t, dir, anchorModule, keyFile, anchorClock(), 40)
			recs := receivedLines(t, dir, anchorModule)
			last := recs[len(recs)-1]
			lastRec, err := audit.ParseRecord([]byte(last.line))
			require.NoError(t, err)
			require.Greater(t, last.index, uint64(2), "the test needs several files")

			mirror := t.TempDir()
			var start int
			for i := range recs {
				if i == len(recs)-1 || recs[i+1].index != recs[i].index {
					name := filepath.Join(mirror, "agent01", anchorModule, fmt.Sprintf("%06d.log", recs[i].index))
					require.NoError(t, os.MkdirAll(filepath.Dir(name), 0o750))
					require.NoError(t, os.WriteFile(name, []byte(rawLines(recs[start:i+1])), 0o640))
					start = i + 1
				}
			}
			sources := map[string]func(a *audit.Anchors){
				"raw records": func(a *audit.Anchors) { readAnchors(t, a, rawLines(recs)) },
				"rfc5424":     func(a *audit.Anchors) { readAnchors(t, a, syslogLines(t, "agent01", recs)) },
				"octet-counted capture": func(a *audit.Anchors) {
					readAnchors(t, a, octetCounted(t, "agent01", recs))
				},
				"mirror directory": func(a *audit.Anchors) {
					require.NoError(t, a.ReadPath(mirror))
				},
			}
			for name, read := range sources {
				t.Run(name, func(t *testing.T) {
					a := &audit.Anchors{Key: keyFor(map[string][]byte{anchorModule: key})}
					read(a)
					got, ok := a.Newest(anchorModule)
					require.True(t, ok)
					require.Equal(t, last.index, got.File)
					require.Equal(t, lastRec.Seq, got.Seq)
					require.Equal(t, lastRec.MAC, got.MAC)
					require.Equal(t, []string{anchorModule}, a.Modules())
					rep, err := audit.VerifyWith(dir, anchorModule, key, audit.VerifyOptions{Anchors: a})
					require.NoError(t, err)
					require.Nil(t, rep.Problem, "%v", rep.Problem)
					require.True(t, rep.AnchorMatched)
					require.Equal(t, got, *rep.Anchor)
				})
			}
		})
	}
}

// TestAnchorsCatchRollback: the newest files deleted and an older copy of
// the head put back verify locally, but not against what was shipped.
func TestAnchorsCatchRollback(t *testing.T) {
	keyFile, key := anchorKey(t)
	dir := t.TempDir()
	now := anchorClock()
	writeRecords(t, dir, anchorModule, keyFile, now, 20)
	headPath := filepath.Join(dir, anchorModule+".audit.head")
	oldHead, err := os.ReadFile(headPath)
	require.NoError(t, err)
	before, err := audit.Verify(dir, anchorModule, key)
	require.NoError(t, err)
	require.Nil(t, before.Problem)
	writeRecords(t, dir, anchorModule, keyFile, now, 30)
	recs := receivedLines(t, dir, anchorModule)
	require.Greater(t, recs[len(recs)-1].index, before.LastIndex+1, "the test needs files written after the old head")

	// The attacker deletes every file newer than the old head's and puts
	// the old head back.
	files, err := audit.ListFiles(dir, anchorModule)
	require.NoError(t, err)
	removed := 0
	for _, f := range files {
		data, err := os.ReadFile(f.Path)
		require.NoError(t, err)
		line, _, _ := strings.Cut(string(data), "\n")
		if fileIndexOf(t, line) > before.LastIndex {
			require.NoError(t, os.Remove(f.Path))
			removed++
		}
	}
	require.Positive(t, removed)
	require.NoError(t, os.WriteFile(headPath, oldHead, 0o640))
	local, err := audit.Verify(dir, anchorModule, key)
	require.NoError(t, err)
	require.Nil(t, local.Problem, "without anchors the rollback is a valid older state: %v", local.Problem)

	for name, text := range map[string]string{"raw": rawLines(recs), "rfc5424": syslogLines(t, "agent01", recs)} {
		t.Run(name, func(t *testing.T) {
			a := readAnchors(t, &audit.Anchors{Key: keyFor(map[string][]byte{anchorModule: key})}, text)
			rep, err := audit.VerifyWith(dir, anchorModule, key, audit.VerifyOptions{Anchors: a})
			require.NoError(t, err)
			require.NotNil(t, rep.Problem, "a rollback behind a shipped anchor went unnoticed")
			require.Equal(t, audit.FileMissing, rep.Problem.Kind, "%v", rep.Problem)
			require.Contains(t, rep.Problem.Detail, "central.log:"+strconv.Itoa(len(recs)))
			require.False(t, rep.AnchorMatched)
		})
	}
}

// fileIndexOf returns the file index of a FILE_START record line.
func fileIndexOf(t *testing.T, line string) uint64 {
	t.Helper()
	rec, err := audit.ParseRecord([]byte(line))
	require.NoError(t, err)
	require.Equal(t, audit.FileStart, rec.Event.Type)
	for i := range rec.Event.NumFields() {
		if f := rec.Event.Field(i); f.Key == "file" {
			n, err := strconv.ParseUint(f.Value, 10, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("FILE_START without a file field")
	return 0
}

// TestAnchorsCatchCutBehindCheckpoint: the active file cut behind a
// shipped checkpoint, with an older copy of the head put back.
func TestAnchorsCatchCutBehindCheckpoint(t *testing.T) {
	keyFile, key := anchorKey(t)
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		l, err := audit.New(audit.Config{Module: anchorModule, AuditLogPath: dir, Integrity: true, IntegrityKeyFile: keyFile,
			EventMask: audit.AllEvents, CheckpointInterval: time.Minute, Sync: audit.SyncInterval})
		require.NoError(t, err)
		for range 5 {
			require.NoError(t, l.Log(context.Background(), audit.Event{Outcome: audit.Succeeded, Type: audit.DataRead, Actor: "alice", Subject: "c", Object: "o"}))
		}
		require.NoError(t, l.Sync())
		headPath := filepath.Join(dir, anchorModule+".audit.head")
		oldHead, err := os.ReadFile(headPath)
		require.NoError(t, err)
		time.Sleep(time.Minute + time.Second)
		synctest.Wait()
		shippedRecs := receivedLines(t, dir, anchorModule) // what the shipper sent up to the checkpoint
		for range 3 {
			require.NoError(t, l.Log(context.Background(), audit.Event{Outcome: audit.Succeeded, Type: audit.DataRead, Actor: "bob", Subject: "c", Object: "o"}))
		}
		require.NoError(t, l.Close())

		last, err := audit.ParseRecord([]byte(shippedRecs[len(shippedRecs)-1].line))
		require.NoError(t, err)
		require.Equal(t, audit.Checkpoint, last.Event.Type)
		require.Equal(t, uint64(7), last.Seq)

		// Cut the active file before the checkpoint; put the old head back.
		active := filepath.Join(dir, anchorModule+".audit.log")
		data, err := os.ReadFile(active)
		require.NoError(t, err)
		lines := strings.SplitAfter(string(data), "\n")
		require.NoError(t, os.WriteFile(active, []byte(strings.Join(lines[:6], "")), 0o640))
		require.NoError(t, os.WriteFile(headPath, oldHead, 0o640))
		local, err := audit.Verify(dir, anchorModule, key)
		require.NoError(t, err)
		require.Nil(t, local.Problem, "without anchors the cut is a valid older state: %v", local.Problem)

		a := readAnchors(t, &audit.Anchors{Key: keyFor(map[string][]byte{anchorModule: key})}, syslogLines(t, "agent01", shippedRecs))
		got, ok := a.Newest(anchorModule)
		require.True(t, ok)
		require.Equal(t, audit.Checkpoint, got.Type)
		rep, err := audit.VerifyWith(dir, anchorModule, key, audit.VerifyOptions{Anchors: a})
		require.NoError(t, err)
		require.NotNil(t, rep.Problem, "a cut behind a shipped checkpoint went unnoticed")
		require.Equal(t, audit.Truncated, rep.Problem.Kind, "%v", rep.Problem)
		require.Equal(t, active, rep.Problem.File)
	})
}

// TestAnchorsThatDoNotCount: records of another module or chain, and
// forged lines, are not anchors.
func TestAnchorsThatDoNotCount(t *testing.T) {
	keyFile, key := anchorKey(t)
	dir := t.TempDir()
	writeRecords(t, dir, anchorModule, keyFile, anchorClock(), 30)
	recs := receivedLines(t, dir, anchorModule)
	genuine := recs[len(recs)-1]
	genuineRec, err := audit.ParseRecord([]byte(genuine.line))
	require.NoError(t, err)

	otherKeyFile, otherKey := anchorKey(t)
	otherDir := t.TempDir()
	writeRecords(t, otherDir, "CEMServer", otherKeyFile, anchorClock(), 60)
	otherRecs := receivedLines(t, otherDir, "CEMServer")

	// The same module on another host, with a key of its own.
	sameNameKey, _ := anchorKey(t)
	sameNameDir := t.TempDir()
	writeRecords(t, sameNameDir, anchorModule, sameNameKey, anchorClock(), 80)
	sameNameRecs := receivedLines(t, sameNameDir, anchorModule)

	renamed := strings.Replace(otherRecs[len(otherRecs)-1].line, " CEMServer ", " "+anchorModule+" ", 1)
	seqBumped := strings.Replace(genuine.line, fmt.Sprintf(" seq=%d ", genuineRec.Seq), " seq=999 ", 1)
	require.NotEqual(t, genuine.line, seqBumped)
	forgedStart := strings.Replace(recs[0].line, " file=0 ", " file=99 ", 1)
	require.NotEqual(t, recs[0].line, forgedStart)
	badMAC := genuine.line[:len(genuine.line)-64] + strings.Repeat("ab", 32)

	text := rawLines(recs) + rawLines(otherRecs) + rawLines(sameNameRecs) +
		syslogLines(t, "agent02", sameNameRecs) +
		renamed + "\n" + seqBumped + "\n" + forgedStart + "\n" + badMAC + "\n" +
		"<13>1 - agent01 AgentServer - - - " + seqBumped + "\n" +
		"not a record\n<garbage\n"
	a := readAnchors(t, &audit.Anchors{Key: keyFor(map[string][]byte{anchorModule: key, "CEMServer": otherKey})}, text)
	got, ok := a.Newest(anchorModule)
	require.True(t, ok)
	require.Equal(t, genuine.index, got.File)
	require.Equal(t, genuineRec.Seq, got.Seq)
	require.Equal(t, "central.log:"+strconv.Itoa(len(recs)), got.Source)
	require.Equal(t, []string{anchorModule, "CEMServer"}, a.Modules())
	rep, err := audit.VerifyWith(dir, anchorModule, key, audit.VerifyOptions{Anchors: a})
	require.NoError(t, err)
	require.Nil(t, rep.Problem, "%v", rep.Problem)
	require.True(t, rep.AnchorMatched)

	// A module the key function does not know is not read.
	b := readAnchors(t, &audit.Anchors{Key: keyFor(map[string][]byte{"CEMServer": otherKey})}, text)
	_, ok = b.Newest(anchorModule)
	require.False(t, ok)
}

// TestAnchorsHost: two hosts whose module shares a name and a key are told
// apart by Host.
func TestAnchorsHost(t *testing.T) {
	keyFile, key := anchorKey(t)
	keyData, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	dir1, dir2 := t.TempDir(), t.TempDir()
	keyFile2 := filepath.Join(t.TempDir(), "audit.key")
	require.NoError(t, os.WriteFile(keyFile2, keyData, 0o600))
	writeRecords(t, dir1, anchorModule, keyFile, anchorClock(), 20)
	writeRecords(t, dir2, anchorModule, keyFile2, anchorClock(), 50)
	text := syslogLines(t, "agent01", receivedLines(t, dir1, anchorModule)) +
		syslogLines(t, "agent02", receivedLines(t, dir2, anchorModule))

	all := readAnchors(t, &audit.Anchors{Key: keyFor(map[string][]byte{anchorModule: key})}, text)
	rep, err := audit.VerifyWith(dir1, anchorModule, key, audit.VerifyOptions{Anchors: all})
	require.NoError(t, err)
	require.NotNil(t, rep.Problem, "the other host's newer anchor is not in this host's files")

	one := readAnchors(t, &audit.Anchors{Key: keyFor(map[string][]byte{anchorModule: key}), Host: "agent01"}, text)
	rep, err = audit.VerifyWith(dir1, anchorModule, key, audit.VerifyOptions{Anchors: one})
	require.NoError(t, err)
	require.Nil(t, rep.Problem, "%v", rep.Problem)
	require.True(t, rep.AnchorMatched)
}

// TestAnchorsPruned: an anchor in files that retention removed is not a
// problem.
func TestAnchorsPruned(t *testing.T) {
	keyFile, key := anchorKey(t)
	dir := t.TempDir()
	now := anchorClock()
	writeRecords(t, dir, anchorModule, keyFile, now, 10)
	recs := receivedLines(t, dir, anchorModule)
	writeRecords(t, dir, anchorModule, keyFile, now, 60)
	// Retention runs when the logger starts.
	l, err := audit.New(audit.Config{Module: anchorModule, AuditLogPath: dir, MaxSize: audit.MinFileSize, Integrity: true,
		IntegrityKeyFile: keyFile, EventMask: audit.AllEvents, Now: now, MaxBackups: 2})
	require.NoError(t, err)
	require.NoError(t, l.Close())
	rep, err := audit.Verify(dir, anchorModule, key)
	require.NoError(t, err)
	require.Nil(t, rep.Problem, "%v", rep.Problem)
	require.NotEmpty(t, rep.Pruned)
	require.Greater(t, rep.FirstIndex, recs[len(recs)-1].index, "the anchor's file was removed")

	a := readAnchors(t, &audit.Anchors{Key: keyFor(map[string][]byte{anchorModule: key})}, rawLines(recs))
	rep, err = audit.VerifyWith(dir, anchorModule, key, audit.VerifyOptions{Anchors: a})
	require.NoError(t, err)
	require.Nil(t, rep.Problem, "%v", rep.Problem)
	require.NotNil(t, rep.Anchor)
	require.False(t, rep.AnchorMatched)
}

// TestAnchorsReadErrors: what prevents reading is an error.
func TestAnchorsReadErrors(t *testing.T) {
	a := &audit.Anchors{}
	require.ErrorIs(t, a.ReadPath(filepath.Join(t.TempDir(), "none")), os.ErrNotExist)
	evolved := &audit.Anchors{Key: func(string) ([]byte, bool) { return []byte("3:00112233445566778899aabbccddeeff"), true }}
	dir := t.TempDir()
	writeRecords(t, dir, anchorModule, "", anchorClock(), 3)
	err := evolved.Read(bytes.NewReader([]byte(rawLines(receivedLines(t, dir, anchorModule)))), "x")
	require.ErrorIs(t, err, audit.ErrBadKey)

	capture := octetCounted(t, "agent01", receivedLines(t, dir, anchorModule)[:2])
	for _, bad := range []string{"40 <13>1 - - - - - -", "999999999 <13>1", "5x <13>1"} {
		err := a.Read(strings.NewReader(capture[:strings.LastIndex(capture, "300 ")]+bad), "capture")
		if strings.HasPrefix(bad, "40 ") {
			require.NoError(t, err, "a frame cut at the end of the capture is left out")
			continue
		}
		require.ErrorIs(t, err, audit.ErrBadRecord, "%q", bad)
		require.ErrorContains(t, err, "capture: frame 3")
	}
}
