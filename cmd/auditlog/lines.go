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
	// returning, by format: next passes over the lines without any (see
	// lineFilter.needles). Lines passed over are counted, not checked.
	skip    *needles
	needles [][]byte // those of the file's format, once known
	json    bool     // the file is JSON
	// Lines of the file returned as holding a needle, and passed over:
	// when most lines hold one, searching costs more than it saves.
	found, passed int

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
	lr.line, lr.buf, lr.plain, lr.needles = 0, lr.buf[:0], 0, nil
	lr.found, lr.passed = 0, 0
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

// The formats of record lines, told apart by their first bytes as
// audit.ParseRecord does: CEF starts with cefStart, OCSF with ocsfStart,
// JSON with any other '{', and BCM is anything else.
const (
	formatBCM = iota
	formatJSON
	formatCEF
	formatOCSF

	cefStart  = "CEF:"
	ocsfStart = `{"class_uid":`
)

// formatOf returns the format of the record line that starts line.
func formatOf(line []byte) int {
	switch {
	case bytes.HasPrefix(line, []byte(cefStart)):
		return formatCEF
	case bytes.HasPrefix(line, []byte(ocsfStart)):
		return formatOCSF
	case len(line) > 0 && line[0] == '{':
		return formatJSON
	}
	return formatBCM
}

// skipLines passes over the complete lines in the buffer that hold none
// of the needles of the file's format (skipBCM or skipJSON, by the first
// line), up to the first that holds one. A line of the other format stops
// the passing over for the rest of the file.
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
		if lr.needles == nil {
			// The first line tells the format: the needles are those of
			// BCM and of the library's JSON; CEF and OCSF lines are
			// decided one by one.
			switch formatOf(region) {
			case formatBCM:
				lr.needles, lr.json = lr.skip.bcm, false
			case formatJSON:
				lr.needles, lr.json = lr.skip.json, true
			}
			if lr.needles == nil {
				lr.skip = nil
				return
			}
		}
		if lr.plain < len(region) {
			// Every line start in region[from:] must be of the format
			// (see formatOf): a JSON line starts with '{' but not as
			// OCSF does, a BCM line like neither JSON, OCSF nor CEF.
			from := max(lr.plain-1, 0)
			seg := region[from:]
			starts := bytes.Count(seg[:len(seg)-1], []byte("\n"))
			json := bytes.Count(seg, []byte("\n{"))
			ocsf := bytes.Count(seg, []byte("\n"+ocsfStart))
			cef := bytes.Count(seg, []byte("\n"+cefStart))
			if from == 0 {
				starts++
				switch formatOf(seg) {
				case formatJSON:
					json++
				case formatOCSF:
					json++
					ocsf++
				case formatCEF:
					cef++
				}
			}
			if lr.json && (json != starts || ocsf != 0) || !lr.json && json+cef != 0 {
				lr.skip = nil // mixed formats: the rest of the file line by line
				return
			}
			lr.plain = len(region)
		}
		p := -1
		for _, s := range lr.needles {
			if i := bytes.Index(region, s); i >= 0 && (p < 0 || i < p) {
				p = i
				region = region[:i+len(s)] // search no further for the others
			}
		}
		if p < 0 {
			n := bytes.Count(region, []byte("\n"))
			lr.line += n
			lr.passed += n
			lr.br.Discard(len(region))
			lr.plain -= len(region)
			continue
		}
		start := bytes.LastIndexByte(region[:p], '\n') + 1
		n := bytes.Count(region[:start], []byte("\n"))
		lr.line += n
		lr.passed += n
		lr.br.Discard(start)
		lr.plain -= start
		if lr.found++; lr.found >= 256 && lr.passed < 2*lr.found {
			lr.skip = nil // most lines hold a needle: the rest line by line
		}
		return
	}
}
