package main

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/auditkit/audit"
	"github.com/stretchr/testify/require"
)

// With needles, lines returns every line that holds one, with its right
// number, and every line from the first JSON line on (and from the start
// of the buffer that holds it); it passes over the others, across buffer
// boundaries.
func TestLinesSkip(t *testing.T) {
	bcm := [][]byte{[]byte("LOGON FAILURE "), []byte("DATA_READ FAILURE ")}
	var b strings.Builder
	var lines []string
	jsonFrom := 30000
	for i := range 40000 {
		var line string
		switch {
		case i == jsonFrom:
			line = `{"time":"2026-11-25T09:00:00.000000Z","seq":1,"module":"M","type":"LOGON","outcome":"SUCCESS"}`
		case i%97 == 0:
			line = "2026-11-25T09:00:00.000000Z M LOGON FAILURE seq=" + strconv.Itoa(i)
		case i%1013 == 0:
			line = "2026-11-25T09:00:00.000000Z M DATA_READ FAILURE seq=" + strconv.Itoa(i) + " " + strings.Repeat("x", 5000)
		case i%501 == 0:
			line = ""
		default:
			line = "2026-11-25T09:00:00.000000Z M LOGON SUCCESS seq=" + strconv.Itoa(i) + " actor=user-" + strconv.Itoa(i)
		}
		lines = append(lines, line)
		b.WriteString(line + "\n")
	}
	b.WriteString("2026-11-25T09:00:00.000000Z M LOGON FAILURE seq=cut")
	lines = append(lines, "2026-11-25T09:00:00.000000Z M LOGON FAILURE seq=cut")

	lr := newLines(strings.NewReader(b.String()))
	lr.skip = &needles{bcm: bcm}
	var got []int
	for {
		line, complete, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		no := lr.line
		require.Equal(t, lines[no-1], string(line), "line %d", no)
		require.Equal(t, no <= len(lines)-1, complete)
		got = append(got, no)
	}
	var want []int
	for i, line := range lines {
		if i >= jsonFrom || bytes.Contains([]byte(line), bcm[0]) || bytes.Contains([]byte(line), bcm[1]) {
			want = append(want, i+1)
		}
	}
	returned := map[int]bool{}
	for _, n := range got {
		returned[n] = true
	}
	for _, n := range want {
		require.True(t, returned[n], "line %d was passed over", n)
	}
	// Before the buffer that holds the JSON line, only the needed lines.
	before := func(ns []int) []int {
		var r []int
		for _, n := range ns {
			if n < jsonFrom-linesBuffer/50 {
				r = append(r, n)
			}
		}
		return r
	}
	require.Equal(t, before(want), before(got))
	require.Less(t, len(before(got)), jsonFrom/50)
}

// In a JSON file, lines holding a needle or a backslash are returned, and
// a BCM line stops the passing over.
func TestLinesSkipJSON(t *testing.T) {
	n := newNeedles(&filter{typeIn: map[audit.EventType]bool{audit.Logon: true}})
	var b strings.Builder
	var lines []string
	bcmAt := 9000
	for i := range 10000 {
		line := `{"time":"2026-11-25T09:00:00.000000Z","seq":` + strconv.Itoa(i) + `,"module":"M","type":"DATA_READ","outcome":"SUCCESS"}`
		switch {
		case i == bcmAt:
			line = "2026-11-25T09:00:00.000000Z M DATA_READ SUCCESS seq=1"
		case i%89 == 0:
			line = `{ "outcome" : "FAILURE", "type" : "LOGON", "time":"2026-11-25T09:00:00Z","seq":1,"module":"M"}`
		case i%113 == 0:
			line = `{"time":"2026-11-25T09:00:00.000000Z","seq":1,"module":"M","type":"\u004cOGON","outcome":"SUCCESS"}`
		}
		lines = append(lines, line)
		b.WriteString(line + "\n")
	}
	lr := newLines(strings.NewReader(b.String()))
	lr.skip = n
	returned := map[int]bool{}
	for {
		line, _, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		require.Equal(t, lines[lr.line-1], string(line))
		returned[lr.line] = true
	}
	count := 0
	for i, line := range lines {
		if i >= bcmAt || strings.Contains(line, `LOGON"`) || strings.Contains(line, `\`) {
			require.True(t, returned[i+1], "line %d was passed over", i+1)
		}
		if i < bcmAt-linesBuffer/100 && returned[i+1] {
			count++
		}
	}
	require.Less(t, count, bcmAt/40, "lines before the BCM line were passed over")
}
