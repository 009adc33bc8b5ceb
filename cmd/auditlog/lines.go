package main

import (
	"bufio"
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
	lr.line, lr.buf = 0, lr.buf[:0]
}

// next returns the next line without its "\n" or "\r\n", and whether it
// ended with a newline (only the last line of a file may not). At the end
// of the input it returns io.EOF. A line longer than maxLine is skipped and
// reported with errLineTooLong; any other error is a read error, after
// which the reader must not be used.
func (lr *lines) next() (line []byte, complete bool, err error) {
	chunk, err := lr.br.ReadSlice('\n')
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
		if len(chunk) > 0 {
			got = true
		}
	}
}
