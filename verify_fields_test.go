package audit

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestVerifyOverlongHexFields: a FILE_START prev field or a
// RETENTION_PRUNE cut field longer than a MAC is reported, not a panic,
// in the audit files, in a collector's copy and among anchors.
func TestVerifyOverlongHexFields(t *testing.T) {
	long := strings.Repeat("0", 2*macSize+2)
	t.Run("file start in a file", func(t *testing.T) {
		dir := t.TempDir()
		writeSealed(t, dir, "AgentServer", FormatBCM, "", 10, nil)
		p := plainBackups(t, dir, "AgentServer")[0]
		editLines(t, p, func(l []string) []string {
			l[0] = strings.Replace(l[0], "prev="+strings.Repeat("0", 2*macSize), "prev="+long, 1)
			return l
		})
		rep, err := Verify(dir, "AgentServer", nil)
		require.NoError(t, err)
		require.NotNil(t, rep.Problem)
		require.Equal(t, Modified, rep.Problem.Kind, "%v", rep.Problem)
	})
	t.Run("file start in a copy and among anchors", func(t *testing.T) {
		dir := t.TempDir()
		writeSealed(t, dir, "AgentServer", FormatBCM, "", 10, nil)
		lines := collectorLines(t, dir, "AgentServer")
		lines[0] = strings.Replace(lines[0], "prev="+strings.Repeat("0", 2*macSize), "prev="+long, 1)
		path := writeCollectorCopy(t, lines)
		rep, err := VerifyFile(path, "AgentServer", nil)
		require.NoError(t, err)
		require.NotNil(t, rep.Problem)
		require.Equal(t, Modified, rep.Problem.Kind, "%v", rep.Problem)
		a := &Anchors{}
		require.NoError(t, a.ReadPath(path))
	})
	t.Run("retention cut", func(t *testing.T) {
		// Without a key anyone can seal a record: a RETENTION_PRUNE with an
		// overlong cut field must not stop verification.
		line := "2026-11-25T09:14:40.123456Z AgentServer RETENTION_PRUNE SUCCESS seq=5 object=x.log cut-file=0 cut=" + long + " mac=" + strings.Repeat("1", 2*macSize)
		_, err := ParseRecord([]byte(line))
		require.NoError(t, err)
		v := &verifier{report: &VerifyReport{}}
		v.notePrune([]byte(line))
		require.Empty(t, v.cuts)
		require.Empty(t, v.report.Pruned)
	})
}

// TestVerifyHugeFileIndex: a forged FILE_START record or head naming a
// file index near 2^64 is reported (or, among anchors, skipped) at once,
// rather than evolving the key that many times.
func TestVerifyHugeFileIndex(t *testing.T) {
	keyFile, key := newKeyFile(t)
	dir := t.TempDir()
	writeSealed(t, dir, "AgentServer", FormatBCM, keyFile, 10, nil)
	lines := collectorLines(t, dir, "AgentServer")
	huge := strings.Replace(lines[0], " file=0 ", " file=18446744073709551615 ", 1)
	require.NotEqual(t, lines[0], huge)

	rep, err := VerifyReader(strings.NewReader(huge), "central", "AgentServer", key)
	require.NoError(t, err)
	require.NotNil(t, rep.Problem)
	require.Equal(t, Modified, rep.Problem.Kind, "%v", rep.Problem)

	for _, k := range [][]byte{key, nil} {
		a := &Anchors{Key: func(string) ([]byte, bool) { return k, true }}
		file0 := lines[1:fileStartLines(lines)[1]] // the rest of file 0
		require.NoError(t, a.Read(strings.NewReader(huge+strings.Join(file0, "")), "central"))
		_, ok := a.Newest("AgentServer")
		require.False(t, ok, "no record after a forged FILE_START verifies")
	}

	p := plainBackups(t, dir, "AgentServer")[0]
	editLines(t, p, func(l []string) []string { l[0] = huge; return l })
	rep, err = Verify(dir, "AgentServer", key)
	require.NoError(t, err)
	require.NotNil(t, rep.Problem)
	require.Equal(t, Modified, rep.Problem.Kind, "%v", rep.Problem)
}
