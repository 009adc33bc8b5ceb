package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// A collector's copy of a module's records is one stream: the records of
// several consecutive audit files, in order, each file starting with its
// FileStart record. The verifier cuts the stream at those records and walks
// each part with the same code as an audit file (walkLines), so a record
// modified, removed or reordered in the copy is reported as in the files.

// VerifyFile verifies path, a copy of module's records as a collector
// writes them: the lines of several consecutive audit files of the module,
// in order, as they were written. It is [VerifyReader] on the file's
// contents; a name ending in ".gz" is decompressed.
func VerifyFile(path, module string, key []byte) (*VerifyReport, error) {
	if !moduleRE.MatchString(module) {
		return &VerifyReport{Module: module}, fmt.Errorf("audit: verify: module %q: %w", module, ErrBadConfig)
	}
	r, err := OpenFile(File{Path: path, Module: module, Active: true})
	if err != nil {
		return &VerifyReport{Module: module}, fmt.Errorf("audit: verify: %w", err)
	}
	defer r.Close()
	return verifyStream(r, path, module, key)
}

// VerifyReader verifies the records read from r: a copy of module's records
// as a collector writes them, the lines of several consecutive audit files
// in order, each file starting with its [FileStart] record, which marks the
// boundary. name names the stream in the report's problems, whose Line is
// the line in the stream. key is as for [Verify].
//
// Each record's MAC and sequence number are checked, and the chain from
// file to file. The copy may start at any file of the chain (a collector
// that was set up later, or whose older copies were archived): the report's
// FirstIndex names it, and Stream is true. A copy has no head file, so the
// verdict vouches for the chain up to its newest record (LastIndex,
// LastSeq) and no further: records cut from the end of the copy are not
// detected by the chain. Lines without a MAC before the first FileStart
// record (files written while integrity protection was off) are listed in
// Unsealed; after it every line must be a sealed record of the module. An
// incomplete last line (a collector stopped in the middle of a write) is
// reported in Torn.
//
// VerifyReader reads r once, in memory bounded by a small multiple of
// [MaxRecordSize], and stops at the first problem. The error is for what
// prevents checking: a read error, an unusable key, no record at all.
func VerifyReader(r io.Reader, name, module string, key []byte) (*VerifyReport, error) {
	if !moduleRE.MatchString(module) {
		return &VerifyReport{Module: module}, fmt.Errorf("audit: verify: module %q: %w", module, ErrBadConfig)
	}
	lr := &LineReader{br: bufio.NewReaderSize(r, readBufferSize), close: func() error { return nil }, path: name}
	return verifyStream(lr, name, module, key)
}

// verifyStream verifies the records of module read from lr, named name.
func verifyStream(lr *LineReader, name, module string, key []byte) (*VerifyReport, error) {
	rep := &VerifyReport{Module: module, Stream: true}
	keys, err := verifyKeys(key)
	if err != nil {
		return rep, err
	}
	v := &verifier{report: rep, module: module}
	s := &segments{r: lr, module: module}
	unsealed, err := s.start()
	if err != nil {
		return rep, v.readError(name, s.line, err)
	}
	if rep.Problem != nil {
		return rep, nil
	}
	if unsealed > 0 {
		rep.Unsealed = append(rep.Unsealed, fmt.Sprintf("%s:1-%d", name, unsealed))
	}
	if !s.ok {
		if unsealed == 0 {
			return rep, fmt.Errorf("audit: verify %s: no records", name)
		}
		rep.Files = 1
		return rep, nil // a copy of unsealed files only
	}
	rep.Sealed = true
	for first := true; s.ok; first = false {
		cf, ok := v.streamFile(s, name, keys, first)
		if !ok {
			return rep, nil
		}
		if first {
			rep.FirstIndex = cf.index
		}
		if !v.link(cf, first) {
			return rep, nil
		}
		if err := v.walkLines(cf, s, true); err != nil || rep.Problem != nil {
			return rep, err
		}
		rep.Files++
		v.lastIndex, v.lastFile = cf.index, cf
		if err := s.next(); err != nil {
			return rep, v.readError(name, s.line, err)
		}
		if rep.Problem != nil {
			return rep, nil
		}
	}
	if len(v.newest) > 0 {
		rep.Newest, _ = time.Parse(time.RFC3339Nano, string(v.newest))
	}
	return rep, nil
}

// streamFile checks the FileStart record that starts the stream's current
// file and returns the file. The first one also decides which reading of
// the key is the chain's.
func (v *verifier) streamFile(s *segments, name string, keys [][]byte, first bool) (*chainFile, bool) {
	line := s.first
	cf := &chainFile{File: File{Path: name, Module: v.module}, first: bytes.Clone(line), base: s.base}
	_, stored, sealed := splitSeal(line)
	if !sealed {
		v.fail(name, cf.at(1), Modified, "record has no MAC")
		return nil, false
	}
	rec, err := ParseRecord(line)
	if err != nil {
		v.fail(name, cf.at(1), Modified, "record does not parse: %v", err)
		return nil, false
	}
	if rec.Module != v.module {
		v.fail(name, cf.at(1), Replaced, "file of module %q, not %q", rec.Module, v.module)
		return nil, false
	}
	index, prev, alg, err := fileStartInfo(&rec.Event)
	if err != nil {
		v.fail(name, cf.at(1), Modified, "%v", err)
		return nil, false
	}
	if index > maxFileIndex {
		v.fail(name, cf.at(1), Modified, "file index %d is larger than %d, the most files a chain can have", index, maxFileIndex)
		return nil, false
	}
	cf.index, cf.prev = index, prev
	body, _, _ := splitSeal(line)
	if first {
		for _, k := range keys {
			if ck := keyAt(k, index); ck.algorithm() == alg && ck.seal(&prev, body) == stored {
				v.orig, v.key = k, ck
				break
			}
		}
		if v.key == nil {
			k := keyAt(keys[0], 0)
			switch {
			case k.algorithm() != alg && alg == chainHMAC:
				v.fail(name, cf.at(1), WrongKey, "file is sealed with %s: verifying it needs the original key", alg)
			case k.algorithm() != alg:
				v.fail(name, cf.at(1), WrongKey, "file is sealed with %s (no key); verifying with a key", alg)
			default:
				v.fail(name, cf.at(1), WrongKey, "the first record does not verify with this key")
			}
			return nil, false
		}
		cf.firstOK = true
		return cf, true
	}
	if want := v.key.algorithm(); alg != want {
		v.fail(name, cf.at(1), Replaced, "file %d is sealed with %s, the files before it with %s", index, alg, want)
		return nil, false
	}
	k := v.key
	if index < k.index {
		k = keyAt(v.orig, index) // out of order: link reports it
	} else {
		k = advanceKey(k, v.orig, index)
		v.key = k
	}
	cf.firstOK = k.seal(&prev, body) == stored
	return cf, true
}

// segments cuts a stream of audit records into its files at each FileStart
// record. After start or next, first is the current file's first line and
// base the stream's lines before it; Next returns the file's lines, numbered
// from 1, and io.EOF at the next file's first line or the end of the
// stream.
type segments struct {
	r      *LineReader
	module string
	ok     bool   // there is a current file
	first  []byte // its first line (a FileStart record), owned
	base   int    // stream lines before it
	served int    // its lines returned by Next
	line   int    // stream line of the last line read, for errors
	end    bool   // the current file's lines are all read
	eof    bool   // the stream is read to its end
}

// isFileStart reports whether line is a FileStart record, of any module
// (so that a file of another module is reported as such).
func (s *segments) isFileStart(line []byte) bool {
	const fileStart = "FILE_START"
	if bytes.HasPrefix(line, []byte(jsonTimePrefix)) {
		i := bytes.Index(line, []byte(`"type":"`))
		return i >= 0 && bytes.HasPrefix(line[i+len(`"type":"`):], []byte(fileStart+`"`))
	}
	// time module type ...
	if len(line) <= timeLen || line[timeLen] != ' ' {
		return false
	}
	rest := line[timeLen+1:]
	i := bytes.IndexByte(rest, ' ')
	return i > 0 && bytes.HasPrefix(rest[i+1:], []byte(fileStart+" "))
}

// start skips what comes before the first FileStart record: lines without
// a MAC, counted in unsealed. The first sealed line starts the first file
// whatever it is, so that a copy that does not start with a FileStart
// record is reported as such.
func (s *segments) start() (unsealed int, err error) {
	for {
		ln, err := s.r.Next()
		if errors.Is(err, io.EOF) {
			s.eof = true
			return unsealed, nil
		}
		s.line = ln.Number
		if err != nil {
			return unsealed, err
		}
		if _, _, sealed := splitSeal(ln.Text); !sealed && !s.isFileStart(ln.Text) && ln.Complete {
			unsealed++
			continue
		}
		s.begin(ln)
		return unsealed, nil
	}
}

// begin makes ln the first line of the current file.
func (s *segments) begin(ln Line) {
	s.ok, s.first, s.base, s.served, s.end = true, append(s.first[:0], ln.Text...), ln.Number-1, 0, false
}

// next moves to the next file, after the current file's lines were read:
// ok is false at the end of the stream.
func (s *segments) next() error {
	for !s.end {
		if _, err := s.Next(); errors.Is(err, io.EOF) {
			break
		} else if err != nil && !errors.Is(err, ErrLineTooLong) {
			return err
		}
	}
	if s.eof {
		s.ok = false
	}
	s.end = false // the next file's first line is in s.first
	return nil
}

// Next returns the current file's next line, numbered in the file.
func (s *segments) Next() (Line, error) {
	if s.end {
		return Line{}, io.EOF
	}
	if s.served == 0 {
		s.served = 1
		return Line{Text: s.first, Number: 1, Complete: true}, nil
	}
	ln, err := s.r.Next()
	if errors.Is(err, io.EOF) {
		s.end, s.eof = true, true
		return Line{}, io.EOF
	}
	s.line = ln.Number
	if err == nil && ln.Complete && s.isFileStart(ln.Text) {
		s.begin(ln)
		s.end = true // until next moves to it
		return Line{}, io.EOF
	}
	ln.Number -= s.base
	s.served = ln.Number
	return ln, err
}
