package main

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditkit/audit"
	"github.com/auditkit/audit/ship"
	"github.com/stretchr/testify/require"
)

// sealedDir writes sealed audit files of two modules, each with a copy of
// the key in keyFile (each module needs a key file of its own), and returns
// the directory.
func sealedDir(t *testing.T, keyFile string) string {
	t.Helper()
	dir := t.TempDir()
	original, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	for _, module := range []string{"AgentServer", "CEMServer"} {
		moduleKey := keyFile
		if module != "AgentServer" {
			moduleKey = filepath.Join(t.TempDir(), module+".key")
			require.NoError(t, os.WriteFile(moduleKey, original, 0o600))
		}
		cfg := config(dir, module, "BCM")
		cfg.Integrity, cfg.IntegrityKeyFile, cfg.MaxSize, cfg.Compress = true, moduleKey, audit.MinFileSize, module == "CEMServer"
		var events []audit.Event
		for i := range 30 {
			events = append(events, audit.Event{Type: audit.Logon, Outcome: audit.Succeeded, Actor: fmt.Sprint("user", i), Client: "10.0.0.1", Reason: padding[:200]})
		}
		logAll(t, cfg, events...)
	}
	return dir
}

// newKey makes a key with the command and returns the live key file and the
// auditor's copy of the original.
func newKey(t *testing.T) (live, original string) {
	t.Helper()
	dir := t.TempDir()
	live, original = filepath.Join(dir, "audit.key"), filepath.Join(dir, "original.key")
	r := auditlog(t, "key", live)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "keep a copy")
	data, err := os.ReadFile(live)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(original, data, 0o600))
	fi, err := os.Stat(live)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	require.Equal(t, 2, auditlog(t, "key", live).code, "key does not overwrite")
	return live, original
}

func TestVerifyClean(t *testing.T) {
	live, original := newKey(t)
	dir := sealedDir(t, live)
	r := auditlog(t, "verify", dir, "--key-file", original)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "AgentServer")
	require.Contains(t, r.stdout, "CEMServer")
	require.Contains(t, r.stdout, "chain hmac-sha256")
	require.True(t, strings.HasPrefix(lastLine(r.stdout), "OK: 2 module(s), 2 sealed"), r.stdout)
	require.Contains(t, r.stdout, "head vouches up to AgentServer.audit.log")

	r = auditlog(t, "verify", "--module", "CEMServer", "--key-file", original, dir)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.NotContains(t, r.stdout, "AgentServer")
}

func TestVerifyTampered(t *testing.T) {
	live, original := newKey(t)
	dir := sealedDir(t, live)
	backups, err := filepath.Glob(filepath.Join(dir, "AgentServer.audit-*.log"))
	require.NoError(t, err)
	slices.Sort(backups)
	require.GreaterOrEqual(t, len(backups), 2)
	data, err := os.ReadFile(backups[1])
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	lines[2] = strings.Replace(lines[2], "user", "usef", 1)
	require.NoError(t, os.WriteFile(backups[1], []byte(strings.Join(lines, "")), 0o640))

	r := auditlog(t, "verify", dir, "--key-file", original)
	require.Equal(t, 1, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "TAMPERED: module AgentServer: "+backups[1]+":3: modified")
	require.Contains(t, r.stdout, "CEMServer") // the other module is still checked

	// The key the library evolved cannot verify the old files.
	r = auditlog(t, "verify", dir, "--key-file", live)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "original key")
}

func TestVerifyWrongKeyAndErrors(t *testing.T) {
	live, _ := newKey(t)
	dir := sealedDir(t, live)
	_, other := newKey(t)
	r := auditlog(t, "verify", dir, "--key-file", other)
	require.Equal(t, 1, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "wrong key")

	// No key given for a chain sealed with a key: not verified, and not
	// tampered with either.
	r = auditlog(t, "verify", dir)
	require.Equal(t, 2, r.code, "a keyed chain does not verify without its key")
	require.Contains(t, r.stdout, "AgentServer          no key: the module is sealed with a key; give its original key with --key-file or --key-dir")
	require.NotContains(t, r.stdout, "TAMPERED")

	r = auditlog(t, "verify", filepath.Join(dir, "missing"))
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "no such directory")

	r = auditlog(t, "verify", t.TempDir())
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "no audit files")

	r = auditlog(t, "verify")
	require.Equal(t, 2, r.code)
}

func TestVerifyUnkeyedChain(t *testing.T) {
	dir := t.TempDir()
	cfg := config(dir, "BatchJobServer", "JSON")
	cfg.Integrity = true
	logAll(t, cfg, audit.Event{Type: audit.ServerStart, Outcome: audit.Succeeded}, audit.Event{Type: audit.ServerStop, Outcome: audit.Succeeded})
	r := auditlog(t, "verify", dir)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "detects accidents, not a forger")
}

// lastLine returns the last line of s, without its newline.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestVerifyKeyDirAndUnsealedModules(t *testing.T) {
	dir := t.TempDir()
	keys := t.TempDir()
	for _, module := range []string{"AgentServer", "CEMServer"} {
		live := filepath.Join(t.TempDir(), module+".live.key")
		require.NoError(t, audit.NewKey(live))
		data, err := os.ReadFile(live)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(keys, module+".key"), data, 0o600))
		cfg := config(dir, module, "BCM")
		cfg.Integrity, cfg.IntegrityKeyFile, cfg.MaxSize = true, live, audit.MinFileSize
		var events []audit.Event
		for i := range 30 {
			events = append(events, audit.Event{Type: audit.Logon, Outcome: audit.Succeeded, Actor: fmt.Sprint("user", i), Client: "10.0.0.1", Reason: padding[:200]})
		}
		logAll(t, cfg, events...)
	}
	// A module that writes without integrity protection.
	logAll(t, config(dir, "BatchJobServer", "JSON"), audit.Event{Type: audit.ServerStart, Outcome: audit.Succeeded}, audit.Event{Type: audit.ServerStop, Outcome: audit.Succeeded})

	r := auditlog(t, "verify", dir, "--key-dir", keys)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "BatchJobServer       not sealed")
	require.Contains(t, r.stdout, "AgentServer          verified")
	require.Contains(t, r.stdout, "CEMServer            verified")
	require.NotContains(t, r.stdout, "TAMPERED")

	// One key for every module: the other module's chain is not its.
	r = auditlog(t, "verify", dir, "--key-file", filepath.Join(keys, "AgentServer.key"))
	require.Equal(t, 1, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "use --key-dir")

	// A sealed module whose key is missing from the key directory.
	cemKey, err := os.ReadFile(filepath.Join(keys, "CEMServer.key"))
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(keys, "CEMServer.key")))
	r = auditlog(t, "verify", dir, "--key-dir", keys)
	require.Equal(t, 2, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "CEMServer            no key")

	r = auditlog(t, "verify", dir, "--module", "NoSuch")
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "no module NoSuch in "+dir+"; its modules are AgentServer, BatchJobServer, CEMServer")

	// A module of the key directory whose files and head were all deleted
	// is not verified: the other modules' verdicts do not make it OK.
	require.NoError(t, os.WriteFile(filepath.Join(keys, "CEMServer.key"), cemKey, 0o600))
	cemFiles, err := filepath.Glob(filepath.Join(dir, "CEMServer.audit*"))
	require.NoError(t, err)
	for _, p := range cemFiles {
		require.NoError(t, os.Remove(p))
	}
	r = auditlog(t, "verify", dir, "--key-dir", keys)
	require.Equal(t, 2, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "CEMServer            no files: the key directory holds CEMServer.key, but "+dir+" holds no file of module CEMServer")
	require.NotContains(t, r.stdout, "OK:")
}

func TestVerifyDamagedBackupChecksTheOtherModules(t *testing.T) {
	live, original := newKey(t)
	dir := sealedDir(t, live)
	gz, err := filepath.Glob(filepath.Join(dir, "CEMServer.audit-*.log.gz"))
	require.NoError(t, err)
	if len(gz) == 0 {
		// The compressor had not run yet: compress one backup by hand.
		plain, err := filepath.Glob(filepath.Join(dir, "CEMServer.audit-*.log"))
		require.NoError(t, err)
		slices.Sort(plain)
		data, err := os.ReadFile(plain[0])
		require.NoError(t, err)
		var b strings.Builder
		zw := gzip.NewWriter(&b)
		zw.Write(data)
		require.NoError(t, zw.Close())
		require.NoError(t, os.WriteFile(plain[0]+".gz", []byte(b.String()), 0o640))
		require.NoError(t, os.Remove(plain[0]))
		gz = []string{plain[0] + ".gz"}
	}
	slices.Sort(gz)
	data, err := os.ReadFile(gz[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(gz[0], data[:len(data)/2], 0o640))
	r := auditlog(t, "verify", dir, "--key-file", original)
	require.Equal(t, 1, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "AgentServer          verified")
	require.Contains(t, r.stdout, "TAMPERED: module CEMServer: "+gz[0])
}

// copyLines returns the lines of module's files in dir in chain order, as a
// collector receives them, with the index of each line's file.
func copyLines(t *testing.T, dir, module string) (lines []string, index []uint64) {
	t.Helper()
	files, err := audit.ListFiles(dir, module)
	require.NoError(t, err)
	var cur uint64
	for _, f := range files {
		r, err := audit.OpenFile(f)
		require.NoError(t, err)
		for {
			ln, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			rec, err := audit.ParseRecord(ln.Text)
			require.NoError(t, err)
			if rec.Event.Type == audit.FileStart {
				cur = fileField(t, rec)
			}
			lines = append(lines, string(ln.Text)+"\n")
			index = append(index, cur)
		}
		require.NoError(t, r.Close())
	}
	return lines, index
}

// fileField returns the file index of a FILE_START record.
func fileField(t *testing.T, rec audit.Record) uint64 {
	t.Helper()
	for i := range rec.Event.NumFields() {
		if f := rec.Event.Field(i); f.Key == "file" {
			n, err := strconv.ParseUint(f.Value, 10, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("FILE_START record without a file field")
	return 0
}

// syslogCopy renders lines as RFC 5424 messages, one a line, as package
// ship sends them.
func syslogCopy(t *testing.T, host string, lines []string, index []uint64) string {
	t.Helper()
	var b []byte
	for i, l := range lines {
		line := []byte(strings.TrimSuffix(l, "\n"))
		rec, err := audit.ParseRecord(line)
		require.NoError(t, err)
		b, err = ship.Format{}.Append(b, &ship.Message{Host: host, Module: rec.Module, File: strconv.FormatUint(index[i], 10),
			Seq: rec.Seq, Type: rec.Event.Type, Outcome: rec.Event.Outcome, Time: rec.Event.Time, Line: line})
		require.NoError(t, err)
		b = append(b, '\n')
	}
	return string(b)
}

func TestVerifyCollectorCopy(t *testing.T) {
	live, original := newKey(t)
	dir := sealedDir(t, live)
	lines, index := copyLines(t, dir, "CEMServer") // from compressed backups
	require.Greater(t, index[len(index)-1], uint64(1))
	path := filepath.Join(t.TempDir(), "central-CEMServer.log")
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "")), 0o640))

	r := auditlog(t, "verify", path, "--module", "CEMServer", "--key-file", original)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, fmt.Sprintf("verified (collector's copy): files 0 to %d, %d records", index[len(index)-1], len(lines)))
	require.Contains(t, r.stdout, "no head file")
	require.True(t, strings.HasPrefix(lastLine(r.stdout), "OK: 1 module(s), 1 sealed"), r.stdout)

	keyDir := t.TempDir()
	data, err := os.ReadFile(original)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(keyDir, "CEMServer.key"), data, 0o600))
	r = auditlog(t, "verify", "--key-dir", keyDir, "--module", "CEMServer", path)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)

	lines[7] = strings.Replace(lines[7], "user", "usef", 1)
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "")), 0o640))
	r = auditlog(t, "verify", path, "--module", "CEMServer", "--key-file", original)
	require.Equal(t, 1, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "TAMPERED: module CEMServer: "+path+":8: modified")

	r = auditlog(t, "verify", path, "--key-file", original)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "--module")
	r = auditlog(t, "verify", path, "--module", "CEMServer", "--anchors", path)
	require.Equal(t, 2, r.code)
	r = auditlog(t, "verify", dir, "--anchor-host", "h")
	require.Equal(t, 2, r.code)
}

func TestVerifyAnchors(t *testing.T) {
	live, original := newKey(t)
	dir := t.TempDir()
	cfg := config(dir, "AgentServer", "BCM")
	cfg.Integrity, cfg.IntegrityKeyFile, cfg.MaxSize = true, live, audit.MinFileSize
	login := func(n int) []audit.Event {
		var events []audit.Event
		for i := range n {
			events = append(events, audit.Event{Type: audit.Logon, Outcome: audit.Succeeded, Actor: fmt.Sprint("user", i), Client: "10.0.0.1"})
		}
		return events
	}
	logAll(t, cfg, login(15)...)
	headPath := filepath.Join(dir, "AgentServer.audit.head")
	oldHead, err := os.ReadFile(headPath)
	require.NoError(t, err)
	before, err := audit.Verify(dir, "AgentServer", mustReadKey(t, original))
	require.NoError(t, err)
	cfg.Now = fakeClock(base.Add(time.Hour))
	logAll(t, cfg, login(30)...)
	lines, index := copyLines(t, dir, "AgentServer")
	require.Greater(t, index[len(index)-1], before.LastIndex+1)

	anchors := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(anchors, "syslog.log"), []byte(syslogCopy(t, "agent01", lines, index)), 0o640))
	r := auditlog(t, "verify", dir, "--key-file", original, "--anchors", anchors)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, fmt.Sprintf("shipped anchor found: file %d seq %d", index[len(index)-1], len(lines)-slices.Index(index, index[len(index)-1])))

	// Roll back: the newest files deleted, the older head put back.
	files, err := audit.ListFiles(dir, "AgentServer")
	require.NoError(t, err)
	for _, f := range files {
		data, err := os.ReadFile(f.Path)
		require.NoError(t, err)
		first, _, _ := strings.Cut(string(data), "\n")
		rec, err := audit.ParseRecord([]byte(first))
		require.NoError(t, err)
		if fileField(t, rec) > before.LastIndex {
			require.NoError(t, os.Remove(f.Path))
		}
	}
	require.NoError(t, os.WriteFile(headPath, oldHead, 0o640))
	r = auditlog(t, "verify", dir, "--key-file", original)
	require.Equal(t, 0, r.code, "without anchors the rollback looks like an older state: "+r.stdout+r.stderr)
	r = auditlog(t, "verify", dir, "--key-file", original, "--anchors", anchors, "--anchor-host", "agent01")
	require.Equal(t, 1, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "TAMPERED: module AgentServer:")
	require.Contains(t, r.stdout, "file missing: a record shipped off the host")

	// Another host's messages are not this host's anchors.
	r = auditlog(t, "verify", dir, "--key-file", original, "--anchors", anchors, "--anchor-host", "agent02")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "no shipped anchor for this module")

	// A module that has anchors and no file: here, a directory of
	// another module (unkeyed) checked with the anchors of both.
	other := t.TempDir()
	ocfg := config(other, "CEMServer", "BCM")
	ocfg.Integrity = true
	logAll(t, ocfg, login(3)...)
	olines, _ := copyLines(t, other, "CEMServer")
	require.NoError(t, os.WriteFile(filepath.Join(anchors, "cem.log"), []byte(strings.Join(olines, "")), 0o640))
	keyDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(keyDir, "AgentServer.key"), mustRead(t, original), 0o600))
	r = auditlog(t, "verify", other, "--key-dir", keyDir, "--anchors", anchors)
	require.Equal(t, 1, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "CEMServer            verified")
	require.Contains(t, r.stdout, "AgentServer          TAMPERED (file missing): no local file")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

func mustReadKey(t *testing.T, path string) []byte {
	t.Helper()
	k, err := audit.ReadKey(path)
	require.NoError(t, err)
	return k
}

// TestVerifyAnchorsOfSeveralHosts verifies one host's directory against
// what a collector received from two hosts, with a key directory holding
// the keys of both hosts' modules (module names differ from host to
// host). The other host's module has no file here: it was reported as
// TAMPERED (file missing). It is another host's; a module of this host
// whose files are all gone still is TAMPERED.
func TestVerifyAnchorsOfSeveralHosts(t *testing.T) {
	keyDir := t.TempDir()
	anchors := t.TempDir()
	dirs := map[string]string{}
	for host, module := range map[string]string{"agent01": "AgentServer", "cem01": "CEMServer"} {
		live := filepath.Join(t.TempDir(), "live.key")
		require.NoError(t, audit.NewKey(live))
		require.NoError(t, os.WriteFile(filepath.Join(keyDir, module+".key"), mustRead(t, live), 0o600))
		dir := t.TempDir()
		cfg := config(dir, module, "BCM")
		cfg.Integrity, cfg.IntegrityKeyFile, cfg.MaxSize = true, live, audit.MinFileSize
		var events []audit.Event
		for i := range 20 {
			events = append(events, audit.Event{Type: audit.Logon, Outcome: audit.Succeeded, Actor: fmt.Sprint("user", i), Client: "10.0.0.1", Reason: padding[:200]})
		}
		logAll(t, cfg, events...)
		lines, index := copyLines(t, dir, module)
		require.NoError(t, os.WriteFile(filepath.Join(anchors, host+".log"), []byte(syslogCopy(t, host, lines, index)), 0o640))
		dirs[module] = dir
	}
	r := auditlog(t, "verify", dirs["AgentServer"], "--key-dir", keyDir, "--anchors", anchors)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "AgentServer          verified")
	require.Contains(t, r.stdout, "CEMServer            another host's: its shipped records come from host cem01")
	require.NotContains(t, r.stdout, "TAMPERED")

	// The directory's own module gone: TAMPERED, whatever the other host.
	other := t.TempDir()
	cfg := config(other, "BatchJobServer", "JSON")
	logAll(t, cfg, audit.Event{Type: audit.ServerStart, Outcome: audit.Succeeded})
	r = auditlog(t, "verify", other, "--key-dir", keyDir, "--anchors", anchors, "--anchor-host", "agent01")
	require.Equal(t, 1, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "AgentServer          TAMPERED (file missing): no local file")
	require.NotContains(t, r.stdout, "CEMServer            TAMPERED")

	// No module here matches any host's records: which host this is
	// cannot be told, so nothing is verified.
	r = auditlog(t, "verify", other, "--key-dir", keyDir, "--anchors", anchors)
	require.Equal(t, 2, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "give --anchor-host")
	require.NotContains(t, r.stdout, "OK:")
}
