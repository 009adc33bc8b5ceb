package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// lines reads the lines of an audit file as lineReader does, without
// copying a line that fits in its buffer: the line returned is valid until
// the next call.
type lines struct {
	br   *bufio.Reader
	line int // number of the last line returned
	buf  []byte
	// skip, when set, are texts of which a line must hold one to be worth
	// returning: next passes over the lines of BCM records without any
	// (see lineFilter.needles). Lines passed over are counted, not
	// checked.
	skip [][]byte
	// plain is how many bytes ahead in the buffer are known to hold no
	// JSON line.
	plain int
}

// linesBuffer is the size of the buffer of lines: most lines are returned
// from it without a copy.
const linesBuffer = 256 << 10

func newLines(r io.Reader) *lines {
	return &lines{br: bufio.NewReaderSize(r, linesBuffer)}
}

// reset makes lr read r from its first line, keeping its buffers.
func (lr *lines) reset(r io.Reader) {
	lr.br.Reset(r)
	lr.line, lr.buf, lr.plain = 0, lr.buf[:0], 0
}

// next returns the next line without its "\n" or "\r\n", and whether it
// ended with a newline (only the last line of a file may not). At the end
// of the input it returns io.EOF. A line longer than maxLine is skipped and
// reported with errLineTooLong; any other error is a read error, after
// which the reader must not be used.
func (lr *lines) next() (line []byte, complete bool, err error) {
	if lr.skip != nil {
		lr.skipLines()
	}
	chunk, err := lr.br.ReadSlice('\n')
	lr.plain = max(0, lr.plain-len(chunk))
	if err == nil {
		lr.line++
		if len(chunk) > maxLine {
			return nil, true, errLineTooLong
		}
		// trimEOL, inline: chunk ends in '\n'.
		chunk = chunk[:len(chunk)-1]
		if n := len(chunk); n > 0 && chunk[n-1] == '\r' {
			chunk = chunk[:n-1]
		}
		return chunk, true, nil
	}
	lr.buf = lr.buf[:0]
	tooLong, got := false, len(chunk) > 0
	for {
		if !tooLong {
			if len(lr.buf)+len(chunk) > maxLine {
				tooLong, lr.buf = true, lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
		case err == nil:
			lr.line++
			if tooLong {
				return nil, true, errLineTooLong
			}
			return trimEOL(lr.buf), true, nil
		case errors.Is(err, io.EOF):
			if !got {
				return nil, false, io.EOF
			}
			lr.line++
			if tooLong {
				return nil, false, errLineTooLong
			}
			return trimEOL(lr.buf), false, nil
		default:
			return nil, false, err
		}
		chunk, err = lr.br.ReadSlice('\n')
		lr.plain = max(0, lr.plain-len(chunk))
		if len(chunk) > 0 {
			got = true
		}
	}
}

// skipLines passes over the complete lines in the buffer that hold none
// of lr.skip, up to the first that holds one, as long as they are BCM
// lines: a JSON record may hold its members in any order, so from the
// first JSON line on every line of the file is returned.
func (lr *lines) skipLines() {
	for {
		buf, _ := lr.br.Peek(lr.br.Buffered())
		if len(buf) == 0 {
			if _, err := lr.br.Peek(1); err != nil {
				return // the end, or an error that ReadSlice reports
			}
			continue
		}
		last := bytes.LastIndexByte(buf, '\n')
		if last < 0 {
			// A partial line: read on, unless it fills the buffer.
			if len(buf) >= lr.br.Size() {
				return
			}
			if _, err := lr.br.Peek(len(buf) + 1); err != nil {
				return // the end, or an error that ReadSlice reports
			}
			continue
		}
		region := buf[:last+1]
		if lr.plain < len(region) {
			from := max(lr.plain-1, 0)
			if from == 0 && region[0] == '{' || bytes.Contains(region[from:], []byte("\n{")) {
				lr.skip = nil // JSON: the rest of the file line by line
				return
			}
			lr.plain = len(region)
		}
		p := -1
		for _, s := range lr.skip {
			if i := bytes.Index(region, s); i >= 0 && (p < 0 || i < p) {
				p = i
				region = region[:i+len(s)] // search no further for the others
			}
		}
		if p < 0 {
			lr.line += bytes.Count(region, []byte("\n"))
			lr.br.Discard(len(region))
			lr.plain -= len(region)
			continue
		}
		start := bytes.LastIndexByte(region[:p], '\n') + 1
		lr.line += bytes.Count(region[:start], []byte("\n"))
		lr.br.Discard(start)
		lr.plain -= start
		return
	}
}
