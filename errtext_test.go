package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"
)

// requireOnePrefix checks that an error says "audit: " once and repeats no
// phrase of three words or more: each layer of wrapping adds what it knows
// (the operation, the path, the parameter) and the cause comes once.
func requireOnePrefix(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	msg := err.Error()
	require.Equal(t, 1, strings.Count(msg, "audit: "), "one prefix: %s", msg)
	require.True(t, strings.HasPrefix(msg, "audit: "), "prefix first: %s", msg)
	words := strings.Fields(msg)
	seen := map[string]bool{}
	for i := 0; i+3 <= len(words); i++ {
		phrase := strings.Join(words[i:i+3], " ")
		require.False(t, seen[phrase], "phrase %q repeats in: %s", phrase, msg)
		seen[phrase] = true
	}
	paths := map[string]bool{}
	for _, w := range words {
		w = strings.Trim(w, ":,()")
		if strings.Contains(w, "/") {
			require.False(t, paths[w], "path %s repeats in: %s", w, msg)
			paths[w] = true
		}
	}
	quoted := map[string]bool{}
	for _, q := range quotedRE.FindAllString(msg, -1) {
		require.False(t, quoted[q] && q != `""`, "value %s repeats in: %s", q, msg)
		quoted[q] = true
	}
}

// quotedRE matches a value quoted with %q.
var quotedRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// TestErrorTextsConfig checks the errors of ConfigFromParams, New and the
// text types of a Config.
func TestErrorTextsConfig(t *testing.T) {
	params := []map[string]string{
		{"AuditEventMask": "presence+nope"},
		{"AuditEventMask": ""},
		{"AuditLogFormatter": "xml"},
		{"RetentionDays": "-1"},
		{"RetentionDays": "7 weeks"},
		{"AuditLogMaxSize": "1048577"},
		{"AuditLogMaxBackups": "x"},
		{"AuditLogCompress": "maybe"},
		{"AuditLogIntegrity": "2"},
		{"AuditLogDailyRotation": "weekly"},
		{"AuditLogSync": "sometimes"},
		{"AuditLogFailure": "ajar"},
		{"AuditLevel": "3"},
		{"RetentionDays": "30", "expire": "31"},
	}
	for _, p := range params {
		_, err := ConfigFromParams("AgentServer", p)
		require.ErrorIs(t, err, ErrBadConfig, "%v", p)
		requireOnePrefix(t, err)
	}
	_, err := ConfigFromParams("AgentServer", map[string]string{"AuditEventMask": "presence+nope"})
	require.ErrorIs(t, err, ErrBadMask, "the cause stays wrapped")
	_, err = ConfigFromParams("AgentServer", map[string]string{"AuditLogFormatter": "xml"})
	require.ErrorIs(t, err, ErrUnknownFormatter, "the cause stays wrapped")

	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.key")
	require.NoError(t, os.WriteFile(bad, []byte("not a key"), 0o600))
	for _, cfg := range []Config{
		{Module: "bad module", LogPath: dir},
		{Module: "A", LogPath: dir, EventMask: 0x80},
		{Module: "A", LogPath: dir, Formatter: "xml"},
		{Module: "A", LogPath: dir, MaxSize: -1},
		{Module: "A", LogPath: dir, SyncInterval: 1},
		{Module: "A", LogPath: dir, Sync: 9},
		{Module: "A"},
		{Module: "A", LogPath: dir, Integrity: true, Formatter: "CEF"},
		{Module: "A", LogPath: dir, Integrity: true, IntegrityKeyFile: filepath.Join(dir, "missing.key")},
		{Module: "A", LogPath: dir, Integrity: true, IntegrityKeyFile: bad},
		{Module: "A", LogPath: dir, Integrity: true, IntegrityKeyFile: dir},
		{Module: "A", LogPath: bad},
	} {
		l, err := New(cfg)
		if err == nil {
			l.Close()
		}
		requireOnePrefix(t, err)
	}

	for _, f := range []func() error{
		func() error { _, err := ParseMask("read+x"); return err },
		func() error { var m Mask; return m.UnmarshalText([]byte("")) },
		func() error { _, err := Mask(0).MarshalText(); return err },
		func() error { var d Daily; return d.UnmarshalText([]byte("weekly")) },
		func() error { var p SyncPolicy; return p.UnmarshalText([]byte("never")) },
		func() error { var p FailurePolicy; return p.UnmarshalText([]byte("ajar")) },
		func() error { _, err := SyncPolicy(9).MarshalText(); return err },
		func() error { _, err := LookupFormatter("xml"); return err },
		func() error { _, err := ParseOutcome("maybe"); return err },
		func() error { _, err := ParseEventType("LOGIN"); return err },
	} {
		requireOnePrefix(t, f())
	}
}

// syncFailWriter is an Output whose Write or Sync fails.
type syncFailWriter struct {
	failWrite, failSync bool
}

var errSync = errors.New("injected sync failure")

func (w *syncFailWriter) Write(p []byte) (int, error) {
	if w.failWrite {
		return 0, errDisk
	}
	return len(p), nil
}

func (w *syncFailWriter) Sync() error {
	if w.failSync {
		return errSync
	}
	return nil
}

// TestErrorTextsLogger checks the errors of Log, Sync, SetMask and Close.
func TestErrorTextsLogger(t *testing.T) {
	ctx := context.Background()
	w := &syncFailWriter{failWrite: true}
	var reported []error
	l, err := New(Config{Module: "AgentServer", Output: w, OnError: func(err error) { reported = append(reported, err) }})
	require.NoError(t, err)
	err = l.Log(ctx, Event{Type: ServerStart, Outcome: Succeeded})
	require.ErrorIs(t, err, errDisk)
	requireOnePrefix(t, err)
	require.Equal(t, 1, strings.Count(err.Error(), errDisk.Error()), "the cause once")
	require.NotEmpty(t, reported)
	for _, err := range reported {
		requireOnePrefix(t, err)
	}
	requireOnePrefix(t, l.SetMask(AllEvents, "admin"))
	requireOnePrefix(t, l.SetMask(0, "admin"))
	requireOnePrefix(t, l.Log(ctx, Event{Type: Logon, Outcome: Succeeded}))
	requireOnePrefix(t, l.Log(ctx, Event{Type: Logon, Actor: "alice"}))
	requireOnePrefix(t, l.Log(ctx, Event{Type: ServerStart, Outcome: Succeeded, Reason: strings.Repeat("x", MaxRecordSize)}))
	w.failWrite, w.failSync = false, true
	err = l.Sync()
	require.ErrorIs(t, err, errSync)
	requireOnePrefix(t, err)
	err = l.Close()
	require.ErrorIs(t, err, errSync)
	for _, err := range unjoin(err) {
		requireOnePrefix(t, err)
	}
	err = l.Log(ctx, Event{Type: ServerStart, Outcome: Succeeded})
	require.ErrorIs(t, err, ErrClosed)
	requireOnePrefix(t, err)
	err = l.Sync()
	require.ErrorIs(t, err, ErrClosed)
	requireOnePrefix(t, err)
	err = l.SetMask(AllEvents, "admin")
	require.ErrorIs(t, err, ErrClosed)
	requireOnePrefix(t, err)

	// A file logger: the writer's errors, as Log returns them.
	dir := t.TempDir()
	fl := newTestLogger(t, Config{AuditLogPath: dir, MaxSize: MinFileSize})
	err = fl.Log(ctx, Event{Type: ServerStart, Outcome: Succeeded, Reason: strings.Repeat("y", 2100)})
	require.ErrorIs(t, err, ErrRecordTooLarge)
	requireOnePrefix(t, err)
}

// unjoin returns the errors joined in err, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// TestErrorTextsWriter checks the errors of the file writer: a failed
// write, and the failures of a rotation.
func TestErrorTextsWriter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		ffs := &faultFS{}
		cfg := testConfig(t, dir)
		cfg.fs = ffs
		w := openTestWriter(t, cfg)
		require.NoError(t, w.Write([]byte("old\n")))

		ffs.set(func(f *faultFS) {
			f.writeFault = func(string, []byte) (int, error, bool) { return 0, syscall.EIO, true }
		})
		err := w.Write([]byte("lost\n"))
		require.ErrorIs(t, err, syscall.EIO)
		requireOnePrefix(t, err)
		ffs.set(func(f *faultFS) { f.writeFault = nil })

		ffs.set(func(f *faultFS) { f.renameErr = func(string, string) error { return syscall.EXDEV } })
		_, err = w.Rotate()
		require.ErrorIs(t, err, syscall.EXDEV)
		requireOnePrefix(t, err)

		ffs.set(func(f *faultFS) {
			f.renameErr = func(string, string) error { return syscall.EIO }
			f.openErr = func(name string, _ int) error {
				if isActive(name) {
					return syscall.EMFILE
				}
				return nil
			}
		})
		_, err = w.Rotate()
		require.ErrorIs(t, err, syscall.EMFILE)
		requireOnePrefix(t, err)
		ffs.set(func(f *faultFS) { f.renameErr, f.openErr = nil, nil })

		failNewActive(ffs, syscall.ENOSPC)
		_, err = w.Rotate()
		require.ErrorIs(t, err, syscall.ENOSPC)
		requireOnePrefix(t, err)
		err = w.Write([]byte("new\n"))
		require.ErrorIs(t, err, syscall.ENOSPC)
		requireOnePrefix(t, err)
		ffs.set(func(f *faultFS) { f.openErr = nil })
	})
}

// TestErrorTextsRotation checks the error of a Logger whose rotation fails
// for want of an inode on a real file system, as Log returns it and as
// OnError gets it.
func TestErrorTextsRotation(t *testing.T) {
	dir := mountTmpfs(t, "1m,nr_inodes=16")
	var mu sync.Mutex
	var reported []error
	l, err := New(Config{Module: "AgentServer", AuditLogPath: dir, MaxSize: MinFileSize, EventMask: AllEvents,
		OnError: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	// Take every free inode, so that the rotation cannot create a new file.
	for i := 0; ; i++ {
		f, err := os.Create(filepath.Join(dir, "filler"+strconv.Itoa(i)))
		if err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			break
		}
		f.Close()
		require.Less(t, i, 16, "the tmpfs has 16 inodes")
	}
	ctx := context.Background()
	for i := 0; ; i++ {
		err = l.Log(ctx, Event{Type: ServerStart, Outcome: Succeeded, Reason: strings.Repeat("r", 300)})
		if err != nil {
			break
		}
		require.Less(t, i, 100, "the file rotates")
	}
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.ErrorContains(t, err, "rotate")
	requireOnePrefix(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, reported)
	for _, err := range reported {
		requireOnePrefix(t, err)
	}
}

func TestSamePath(t *testing.T) {
	inner := &os.PathError{Op: "open", Path: "/a/x.log", Err: syscall.ENOSPC}
	for _, tt := range []struct {
		err  error
		path string
		want string
	}{
		{inner, "/a/x.log", "open: no space left on device"},
		{inner, "/a/y.log", "open /a/x.log: no space left on device"},
		{fmt.Errorf("stat %s: %w: owned by bob", "/a/x.log", ErrUnsafePath), "/a/x.log", "stat: unsafe audit path: owned by bob"},
		{errors.New("no free file name"), "/a/x.log", "no free file name"},
		{errors.New("open  /a/x.log: odd"), "/a/x.log", "open  /a/x.log: odd"},
	} {
		got := samePath(tt.err, tt.path)
		require.EqualError(t, got, tt.want)
		require.ErrorIs(t, got, tt.err)
	}
	require.NoError(t, samePath(nil, "/a"))
}
