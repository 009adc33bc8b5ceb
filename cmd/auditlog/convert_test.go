package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditkit/audit"
	"github.com/stretchr/testify/require"
)

// convertSample writes the same events in BCM and in JSON and returns the
// two active files.
func convertSample(t *testing.T) (bcmFile, jsonFile string) {
	dir := t.TempDir()
	var events []audit.Event
	for i, reason := range []string{"plain", "with space", "tab\tand \"quotes\" and \\", "ünïcödé \u2028 \x00 \xff bytes", ""} {
		e := audit.Event{Time: at(i).Add(123456 * 1000), Type: audit.UserChange, Outcome: audit.Outcome(i%2 + 1),
			Actor: "admin", Subject: "user=" + reason, Object: "email", OldValue: "a@x", NewValue: "b@x",
			Client: "10.0.0.1:5060", Session: "S-1", Reason: reason}
		e.AddField("attempt", "1")
		e.AddField("note", reason)
		events = append(events, e)
	}
	logAll(t, config(dir, "BCMServer", "BCM"), events...)
	logAll(t, config(dir, "JSONServer", "JSON"), events...)
	return filepath.Join(dir, "BCMServer.audit.log"), filepath.Join(dir, "JSONServer.audit.log")
}

// fileRecords parses every line of an audit file.
func fileRecords(t *testing.T, path string) []audit.Record {
	return parseLines(t, readFile(t, path))
}

func TestConvertBothWays(t *testing.T) {
	bcmFile, jsonFile := convertSample(t)
	want := fileRecords(t, bcmFile)
	require.NotEmpty(t, want)

	r := auditlog(t, "convert", "--to", "json", bcmFile)
	require.Equal(t, 0, r.code, r.stderr)
	require.Empty(t, r.stderr)
	for line := range strings.Lines(r.stdout) {
		require.True(t, strings.HasPrefix(line, `{"time":"`), line)
	}
	require.Equal(t, want, parseLines(t, r.stdout))

	wantJSON := fileRecords(t, jsonFile)
	r = auditlog(t, "convert", jsonFile, "--to=BCM")
	require.Equal(t, 0, r.code, r.stderr)
	for line := range strings.Lines(r.stdout) {
		require.True(t, strings.HasPrefix(line, "2026-11-25T09:0"), line)
	}
	require.Equal(t, wantJSON, parseLines(t, r.stdout))

	// Converting back gives the files written by the library, byte for
	// byte.
	r2 := auditlogIn(t, r.stdout, "convert", "--to", "json", "-")
	require.Equal(t, 0, r2.code, r2.stderr)
	require.Equal(t, readFile(t, jsonFile), r2.stdout)
	r3 := auditlogIn(t, r2.stdout, "convert", "--to", "bcm")
	require.Equal(t, 0, r3.code, r3.stderr)
	require.Equal(t, r.stdout, r3.stdout)
}

func TestConvertGzipAndSeveralFiles(t *testing.T) {
	bcmFile, jsonFile := convertSample(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write([]byte(readFile(t, bcmFile)))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	gzFile := filepath.Join(t.TempDir(), "BCMServer.audit-2026-11-25T09-00-00.000.log.gz")
	require.NoError(t, os.WriteFile(gzFile, buf.Bytes(), 0o600))

	r := auditlog(t, "convert", "--to", "json", gzFile, jsonFile)
	require.Equal(t, 0, r.code, r.stderr)
	want := append(fileRecords(t, bcmFile), fileRecords(t, jsonFile)...)
	require.Equal(t, want, parseLines(t, r.stdout))
}

func TestConvertBadLines(t *testing.T) {
	bcmFile, _ := convertSample(t)
	good := readFile(t, bcmFile)
	lines := strings.SplitAfter(good, "\n")
	bad := filepath.Join(t.TempDir(), "mixed.log")
	content := lines[0] + "not a record\n" + lines[1] + `{"broken":` + "\n" + strings.Join(lines[2:], "")
	require.NoError(t, os.WriteFile(bad, []byte(content), 0o600))

	r := auditlog(t, "convert", "--to", "json", bad)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "auditlog: "+bad+":2: audit: malformed record")
	require.Contains(t, r.stderr, "auditlog: "+bad+":4: audit: malformed record")
	require.Equal(t, 2, strings.Count(r.stderr, "\n"), r.stderr)
	require.Equal(t, fileRecords(t, bcmFile), parseLines(t, r.stdout))

	// A missing file is an I/O error; the others are still converted.
	missing := filepath.Join(t.TempDir(), "missing.log")
	r = auditlog(t, "convert", "--to", "bcm", missing, bcmFile)
	require.Equal(t, 2, r.code)
	require.Equal(t, "auditlog: "+missing+": no such file or directory\n", r.stderr)
	require.Equal(t, good, r.stdout)
}

// Lines that end in "\r\n" (a file that went through a Windows editor)
// are read as those that end in "\n", by convert and by query.
func TestCRLFLines(t *testing.T) {
	bcmFile, _ := convertSample(t)
	plain := readFile(t, bcmFile)
	crlf := strings.ReplaceAll(plain, "\n", "\r\n")
	want := auditlog(t, "convert", "--to", "json", bcmFile)
	require.Equal(t, 0, want.code, want.stderr)

	r := auditlogIn(t, crlf, "convert", "--to", "json", "-")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, want.stdout, r.stdout)

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "BCMServer.audit.log"), []byte(crlf), 0o600))
	r = auditlog(t, "query", dir, "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, want.stdout, r.stdout)
	r = auditlog(t, "query", dir, "--output", "bcm", "--type", "USER_CHANGE", "--outcome", "FAILURE")
	require.Equal(t, 0, r.code, r.stderr)
	require.NotEmpty(t, r.stdout)
	require.NotContains(t, r.stdout, "\r")
}
