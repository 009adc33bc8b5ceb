package audit

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// readLines reads r to its end and returns the lines it returns, with
// their numbers and offsets, and the errors of lines too long.
func readLines(t *testing.T, r *LineReader) (lines []Line, tooLong []int) {
	t.Helper()
	for {
		ln, err := r.Next()
		if errors.Is(err, io.EOF) {
			return lines, tooLong
		}
		if errors.Is(err, ErrLineTooLong) {
			tooLong = append(tooLong, ln.Number)
			continue
		}
		require.NoError(t, err)
		ln.Text = bytes.Clone(ln.Text)
		lines = append(lines, ln)
	}
}

// With a skip function, Next returns every line that skip does not pass
// over, with the number and offset it has in the input, across the
// boundaries of the buffer, and the lines too long to return.
func TestLineReaderSkip(t *testing.T) {
	var b strings.Builder
	var all []Line
	for i := range 40000 {
		line := "2026-11-25T09:00:00.000000Z M LOGON SUCCESS seq=" + strconv.Itoa(i+1) + " actor=user-" + strconv.Itoa(i)
		switch {
		case i%97 == 0:
			line += " keep"
		case i%1013 == 0:
			line += " keep " + strings.Repeat("x", 300<<10) // longer than the buffer
		case i%7919 == 0:
			line += strings.Repeat("y", MaxRecordSize) // too long to return
		case i%501 == 0:
			line = ""
		}
		all = append(all, Line{Text: []byte(line), Number: i + 1, Offset: int64(b.Len()), Complete: true})
		b.WriteString(line + "\n")
	}
	all = append(all, Line{Text: []byte("cut keep"), Number: len(all) + 1, Offset: int64(b.Len())})
	b.WriteString("cut keep")

	r := NewLineReader(strings.NewReader(b.String()), "input")
	calls := 0
	r.SetSkip(func(lines []byte) int {
		calls++
		require.Equal(t, byte('\n'), lines[len(lines)-1])
		if i := bytes.Index(lines, []byte(" keep")); i >= 0 {
			return bytes.LastIndexByte(lines[:i], '\n') + 1
		}
		return len(lines)
	})
	got, tooLong := readLines(t, r)
	var want []Line
	var wantTooLong []int
	for _, ln := range all {
		switch {
		case len(ln.Text) > MaxRecordSize:
			wantTooLong = append(wantTooLong, ln.Number)
		case bytes.Contains(ln.Text, []byte(" keep")):
			want = append(want, ln)
		}
	}
	require.Equal(t, want, got)
	// skip never sees a line longer than the buffer: those too long to
	// return are all reported.
	require.Equal(t, wantTooLong, tooLong)
	require.Greater(t, calls, len(want)/2)
	require.Equal(t, "input", r.Path())
}

// Lines given to skip start just after the last line returned.
func TestLineReaderSkipStart(t *testing.T) {
	input := "a1\nb2\na3\na4\nb5\nb6\n"
	r := NewLineReader(strings.NewReader(input), "input")
	var firsts []string
	r.SetSkip(func(lines []byte) int {
		firsts = append(firsts, string(lines[:bytes.IndexByte(lines, '\n')]))
		n := 0
		for n < len(lines) && lines[n] == 'a' {
			n += bytes.IndexByte(lines[n:], '\n') + 1
		}
		return n
	})
	got, _ := readLines(t, r)
	require.Equal(t, []Line{
		{Text: []byte("b2"), Number: 2, Offset: 3, Complete: true},
		{Text: []byte("b5"), Number: 5, Offset: 12, Complete: true},
		{Text: []byte("b6"), Number: 6, Offset: 15, Complete: true},
	}, got)
	require.Equal(t, []string{"a1", "a3", "b6"}, firsts)
}

// A skip function that passes over part of a line is a bug of the caller.
func TestLineReaderSkipPartLine(t *testing.T) {
	for _, n := range []int{-1, 1, 100} {
		r := NewLineReader(strings.NewReader("abc\ndef\n"), "input")
		r.SetSkip(func([]byte) int { return n })
		require.PanicsWithValue(t, "audit: LineReader skip passed over "+strconv.Itoa(n)+" bytes of 8, not a whole number of lines",
			func() { _, _ = r.Next() })
	}
}

// Reset reads another input from its first line, without the skip
// function, and names it in errors.
func TestLineReaderReset(t *testing.T) {
	r := NewLineReader(strings.NewReader("one\ntwo\n"), "first")
	r.SetSkip(func(lines []byte) int { return len(lines) })
	got, _ := readLines(t, r)
	require.Empty(t, got)

	long := strings.Repeat("x", MaxRecordSize+1)
	r.Reset(strings.NewReader("three\n"+long+"\nfour"), "second")
	ln, err := r.Next()
	require.NoError(t, err)
	require.Equal(t, Line{Text: []byte("three"), Number: 1, Offset: 0, Complete: true}, ln)
	ln, err = r.Next()
	require.ErrorIs(t, err, ErrLineTooLong)
	require.EqualError(t, err, "audit: second:2: line longer than 1048576 bytes")
	require.Equal(t, Line{Number: 2, Offset: 6, Complete: true}, ln)
	ln, err = r.Next()
	require.NoError(t, err)
	require.Equal(t, Line{Text: []byte("four"), Number: 3, Offset: int64(6 + len(long) + 1)}, ln)
	_, err = r.Next()
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, "second", r.Path())
	require.NoError(t, r.Close())
}

// A read error of the input is returned as it is, wrapped.
func TestLineReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := NewLineReader(io.MultiReader(strings.NewReader("one\ntw"), &errReader{boom}), "input")
	ln, err := r.Next()
	require.NoError(t, err)
	require.Equal(t, "one", string(ln.Text))
	_, err = r.Next()
	require.ErrorIs(t, err, boom)
	require.EqualError(t, err, "audit: read input: boom")
}

type errReader struct{ err error }

func (r *errReader) Read([]byte) (int, error) { return 0, r.err }

// BenchmarkLineReader reads 8 MiB of BCM lines from memory, returning
// each line, and passing over all of them with a skip function.
func BenchmarkLineReader(b *testing.B) {
	var buf bytes.Buffer
	for i := 0; buf.Len() < 8<<20; i++ {
		buf.WriteString("2026-11-25T09:00:00.000000Z AgentServer LOGON SUCCESS seq=" + strconv.Itoa(i+1) +
			" actor=alice client=10.0.0.1:5060 session=S-1\n")
	}
	data := buf.Bytes()
	for _, skip := range []bool{false, true} {
		b.Run(map[bool]string{false: "each", true: "skip"}[skip], func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			r := NewLineReader(nil, "input")
			for b.Loop() {
				r.Reset(bytes.NewReader(data), "input")
				if skip {
					r.SetSkip(func(lines []byte) int { return len(lines) })
				}
				for {
					if _, err := r.Next(); err != nil {
						break
					}
				}
			}
		})
	}
}
