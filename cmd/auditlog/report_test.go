package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The progress line is shown only on a terminal, and erased before other
// output.
func TestReporterProgress(t *testing.T) {
	var stderr, stdout bytes.Buffer
	rep := &reporter{w: &stderr, tty: true}
	out := &outWriter{w: &stdout, rep: rep}
	rep.progress(3, 17)
	rep.progress(10, 17)
	out.Write([]byte("record\n"))
	rep.progress(11, 17)
	rep.problem("f.log:%d: bad", 2)
	blank := strings.Repeat(" ", len("reading 10/17 files...")) + "\r"
	require.Equal(t, "reading 3/17 files...\rreading 10/17 files...\r"+blank+
		"reading 11/17 files...\r"+blank+"auditlog: f.log:2: bad\n", stderr.String())
	require.Equal(t, "record\n", stdout.String())
	require.Equal(t, exitProblem, rep.status())

	// Not on a terminal, nor for a single file.
	stderr.Reset()
	(&reporter{w: &stderr}).progress(1, 5)
	(&reporter{w: &stderr, tty: true}).progress(1, 1)
	require.Empty(t, stderr.String())
}

// Progress by bytes is shown also for one large file.
func TestReporterProgressBytes(t *testing.T) {
	var stderr bytes.Buffer
	rep := &reporter{w: &stderr, tty: true}
	rep.progressBytes(1, 1, 25<<20, 100<<20)
	rep.progressBytes(2, 3, 50<<20, 100<<20)
	rep.clearProgress()
	require.Equal(t, "reading 25%...\rreading 2/3 files, 50%...\r"+strings.Repeat(" ", len("reading 2/3 files, 50%..."))+"\r", stderr.String())

	stderr.Reset()
	(&reporter{w: &stderr}).progressBytes(1, 1, 1, 2)
	(&reporter{w: &stderr, tty: true}).progressBytes(1, 1, 0, 0)
	require.Empty(t, stderr.String())
}
