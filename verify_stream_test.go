package audit

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// collectorLines returns the lines of module's files in dir in chain order,
// as a collector receives them, each with its newline.
func collectorLines(t testing.TB, dir, module string) []string {
	t.Helper()
	files, err := ListFiles(dir, module)
	require.NoError(t, err)
	var lines []string
	for _, f := range files {
		r, err := OpenFile(f)
		require.NoError(t, err)
		for {
			ln, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			lines = append(lines, string(ln.Text)+"\n")
		}
		require.NoError(t, r.Close())
	}
	return lines
}

// writeCollectorCopy writes lines to a new file and returns its path.
func writeCollectorCopy(t *testing.T, lines []string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "central.log")
	require.NoError(t, os.WriteFile(p, []byte(strings.Join(lines, "")), 0o640))
	return p
}

// fileStartLines returns the 0-based indexes of the FILE_START lines.
func fileStartLines(lines []string) []int {
	var at []int
	for i, l := range lines {
		if strings.Contains(l, " FILE_START ") || strings.Contains(l, `"type":"FILE_START"`) {
			at = append(at, i)
		}
	}
	return at
}

func TestVerifyFileOfACollector(t *testing.T) {
	for _, format := range []string{FormatBCM, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			keyFile, key := newKeyFile(t)
			dir := t.TempDir()
			writeSealed(t, dir, "AgentServer", format, keyFile, 60, nil)
			local := requireVerifiedModule(t, dir, "AgentServer", key)
			lines := collectorLines(t, dir, "AgentServer")
			starts := fileStartLines(lines)
			require.GreaterOrEqual(t, len(starts), 4, "the test needs several rotated files")
			require.Equal(t, 0, starts[0])

			otherKey, _ := newKeyFile(t)
			other := t.TempDir()
			writeSealed(t, other, "CEMServer", format, otherKey, 30, nil)
			otherLines := collectorLines(t, other, "CEMServer")

			// A line of file k at its line n of the file is at line
			// starts[k]+n of the copy.
			tests := []struct {
				name string
				edit func(l []string) ([]string, int) // the edited copy and the line to blame
				key  []byte
				want ProblemKind
			}{
				{name: "untouched", edit: func(l []string) ([]string, int) { return l, 0 }},
				{name: "one byte changed", want: Modified, edit: func(l []string) ([]string, int) {
					i := starts[1] + 2
					l[i] = strings.Replace(l[i], "alice", "alicf", 1)
					return l, i + 1
				}},
				{name: "line deleted", want: Removed, edit: func(l []string) ([]string, int) {
					i := starts[2] + 2
					return slices.Delete(l, i, i+1), i + 1
				}},
				{name: "lines swapped", want: Reordered, edit: func(l []string) ([]string, int) {
					i := starts[2] + 2
					l[i], l[i+1] = l[i+1], l[i]
					return l, i + 1
				}},
				{name: "line duplicated", want: Inserted, edit: func(l []string) ([]string, int) {
					i := starts[1] + 3
					return slices.Insert(l, i, l[i-1]), i + 1
				}},
				{name: "last records of a file removed", want: Truncated, edit: func(l []string) ([]string, int) {
					i := starts[2] - 1
					return slices.Delete(l, i, i+1), i
				}},
				{name: "a whole file removed", want: FileMissing, edit: func(l []string) ([]string, int) {
					return slices.Delete(l, starts[1], starts[2]), starts[1] + 1
				}},
				{name: "two files swapped", want: FileMissing, edit: func(l []string) ([]string, int) {
					a, b := slices.Clone(l[starts[1]:starts[2]]), slices.Clone(l[starts[2]:starts[3]])
					out := slices.Concat(l[:starts[1]], b, a, l[starts[3]:])
					return out, starts[1] + 1 // file 2 after file 0
				}},
				{name: "FILE_START removed", want: Reordered, edit: func(l []string) ([]string, int) {
					return slices.Delete(l, starts[2], starts[2]+1), starts[2] + 1
				}},
				{name: "a file of another module", want: Replaced, edit: func(l []string) ([]string, int) {
					os := fileStartLines(otherLines)
					out := slices.Concat(l[:starts[1]], otherLines[os[1]:os[2]], l[starts[2]:])
					return out, starts[1] + 1
				}},
				{name: "cut mid-record at the end", edit: func(l []string) ([]string, int) {
					n := len(l) - 1
					l[n] = l[n][:len(l[n])-20]
					return l, 0
				}},
				{name: "wrong key", want: WrongKey, key: bytes.Repeat([]byte{7}, 32), edit: func(l []string) ([]string, int) { return l, 1 }},
				{name: "no key for a keyed chain", want: WrongKey, key: []byte{}, edit: func(l []string) ([]string, int) { return l, 1 }},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					edited, line := tt.edit(slices.Clone(lines))
					path := writeCollectorCopy(t, edited)
					k := key
					if tt.key != nil {
						k = tt.key
						if len(k) == 0 {
							k = nil
						}
					}
					rep, err := VerifyFile(path, "AgentServer", k)
					require.NoError(t, err)
					require.True(t, rep.Stream)
					if tt.want == 0 {
						require.Nil(t, rep.Problem, "%v", rep.Problem)
						require.True(t, rep.Sealed)
						require.Equal(t, len(starts), rep.Files)
						require.Equal(t, uint64(0), rep.FirstIndex)
						require.Equal(t, local.LastIndex, rep.LastIndex)
						if tt.name == "untouched" {
							require.Equal(t, local.Records, rep.Records)
							require.Equal(t, local.LastSeq, rep.LastSeq)
							require.Empty(t, rep.Torn)
						} else {
							require.Contains(t, rep.Torn, path+":"+strconv.Itoa(len(edited)))
						}
						return
					}
					require.NotNil(t, rep.Problem, "tampering went unnoticed")
					require.Equal(t, tt.want, rep.Problem.Kind, "%v", rep.Problem)
					require.Equal(t, path, rep.Problem.File)
					require.Equal(t, line, rep.Problem.Line, "%v", rep.Problem)
				})
			}
		})
	}
}

// requireVerifiedModule verifies module's files in dir.
func requireVerifiedModule(t *testing.T, dir, module string, key []byte) *VerifyReport {
	t.Helper()
	r, err := Verify(dir, module, key)
	require.NoError(t, err)
	require.Nil(t, r.Problem, "%v", r.Problem)
	return r
}

// TestVerifyReaderStartsAnywhere: a collector set up later holds the chain
// from a later file on; the report names where it starts.
func TestVerifyReaderStartsAnywhere(t *testing.T) {
	keyFile, key := newKeyFile(t)
	dir := t.TempDir()
	writeSealed(t, dir, "AgentServer", FormatBCM, keyFile, 60, nil)
	lines := collectorLines(t, dir, "AgentServer")
	starts := fileStartLines(lines)
	rep, err := VerifyReader(strings.NewReader(strings.Join(lines[starts[2]:], "")), "central", "AgentServer", key)
	require.NoError(t, err)
	require.Nil(t, rep.Problem, "%v", rep.Problem)
	require.Equal(t, uint64(2), rep.FirstIndex)
	require.Equal(t, len(starts)-2, rep.Files)

	// Not starting with a FILE_START record.
	rep, err = VerifyReader(strings.NewReader(strings.Join(lines[starts[2]+1:], "")), "central", "AgentServer", key)
	require.NoError(t, err)
	require.NotNil(t, rep.Problem)
	require.Equal(t, Modified, rep.Problem.Kind, "%v", rep.Problem)
	require.Equal(t, 1, rep.Problem.Line)
}

// TestVerifyFileCompressedAndUnsealed: a gzipped copy is read as such;
// lines without a MAC before the chain starts are listed as unsealed.
func TestVerifyFileCompressedAndUnsealed(t *testing.T) {
	keyFile, key := newKeyFile(t)
	dir := t.TempDir()
	writeSealed(t, dir, "AgentServer", FormatBCM, keyFile, 30, nil)
	lines := collectorLines(t, dir, "AgentServer")
	unsealed := []string{
		"2026-11-25T09:00:00.000000Z AgentServer SERVER_START SUCCESS seq=1\n",
		"2026-11-25T09:00:01.000000Z AgentServer SERVER_STOP SUCCESS seq=2\n",
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write([]byte(strings.Join(slices.Concat(unsealed, lines), "")))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	path := filepath.Join(t.TempDir(), "central.log.gz")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o640))
	rep, err := VerifyFile(path, "AgentServer", key)
	require.NoError(t, err)
	require.Nil(t, rep.Problem, "%v", rep.Problem)
	require.Equal(t, []string{path + ":1-2"}, rep.Unsealed)
	require.Equal(t, len(lines), rep.Records)

	// Cut short: reported as a damaged compressed file.
	require.NoError(t, os.WriteFile(path, buf.Bytes()[:buf.Len()/2], 0o640))
	rep, err = VerifyFile(path, "AgentServer", key)
	require.NoError(t, err)
	require.NotNil(t, rep.Problem)
	require.Equal(t, Truncated, rep.Problem.Kind, "%v", rep.Problem)
}

// TestVerifyReaderBoundedLine: a line longer than any record is reported
// at its line, read in bounded memory.
func TestVerifyReaderBoundedLine(t *testing.T) {
	dir := t.TempDir()
	writeSealed(t, dir, "AgentServer", FormatBCM, "", 30, nil)
	lines := collectorLines(t, dir, "AgentServer")
	lines = slices.Insert(lines, 5, strings.Repeat("x", 3*MaxRecordSize)+"\n")
	rep, err := VerifyReader(strings.NewReader(strings.Join(lines, "")), "central", "AgentServer", nil)
	require.NoError(t, err)
	require.NotNil(t, rep.Problem)
	require.Equal(t, Modified, rep.Problem.Kind, "%v", rep.Problem)
	require.Equal(t, 6, rep.Problem.Line)
}

func TestVerifyReaderErrors(t *testing.T) {
	_, err := VerifyReader(strings.NewReader(""), "central", "AgentServer", nil)
	require.ErrorContains(t, err, "no records")
	_, err = VerifyReader(strings.NewReader(""), "central", "bad module", nil)
	require.ErrorIs(t, err, ErrBadConfig)
	_, err = VerifyFile(filepath.Join(t.TempDir(), "none"), "AgentServer", nil)
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = VerifyReader(strings.NewReader("x\n"), "central", "AgentServer", []byte("1:00112233445566778899aabbccddeeff"))
	require.ErrorIs(t, err, ErrBadKey)
}

// FuzzVerifyReader: whatever a copy holds, verifying it neither panics nor
// reports an edited copy as verified from the same records.
func FuzzVerifyReader(f *testing.F) {
	dir := f.TempDir()
	l, err := New(Config{Module: "AgentServer", AuditLogPath: dir, MaxSize: MinFileSize, Integrity: true,
		EventMask: AllEvents, Now: fixedClock(day1, time.Minute)})
	require.NoError(f, err)
	for range 12 {
		require.NoError(f, l.Log(context.Background(), Event{Type: DataRead, Outcome: Succeeded, Actor: "alice", Subject: "customer-1", Object: "history"}))
	}
	require.NoError(f, l.Close())
	lines := collectorLines(f, dir, "AgentServer")
	f.Add([]byte(strings.Join(lines, "")))
	f.Add([]byte(strings.Join(lines[3:], "")))
	f.Add([]byte("x\n" + lines[0]))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := VerifyReader(bytes.NewReader(data), "central", "AgentServer", nil)
		if err != nil {
			return
		}
		if rep.OK() && rep.Sealed {
			require.LessOrEqual(t, rep.Records, bytes.Count(data, []byte("\n"))+1)
		}
	})
}
