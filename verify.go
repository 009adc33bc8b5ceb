package audit

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// ProblemKind names what [Verify] found wrong with an audit file.
type ProblemKind uint8

const (
	// Modified: a record's bytes differ from what was sealed.
	Modified ProblemKind = iota + 1
	// Inserted: a record that was not written is in the file (for example
	// a duplicated line).
	Inserted
	// Removed: a record is missing from the middle of a file.
	Removed
	// Reordered: records stand in another order than written.
	Reordered
	// Truncated: a file ends before its last record (cut mid-record, or
	// records missing at its end).
	Truncated
	// FileMissing: a whole file of the sequence is missing and retention
	// did not record removing it.
	FileMissing
	// Replaced: a file belongs to another module or another place in the
	// sequence.
	Replaced
	// WrongKey: the files were sealed with another key (or without one).
	WrongKey
	// Unprotected: a file has no integrity chain.
	Unprotected
)

var problemNames = [...]string{Modified: "modified", Inserted: "inserted", Removed: "removed",
	Reordered: "reordered", Truncated: "truncated", FileMissing: "file missing", Replaced: "replaced",
	WrongKey: "wrong key", Unprotected: "unprotected"}

// String returns the kind's name, such as "modified" or "file missing".
func (k ProblemKind) String() string {
	if int(k) < len(problemNames) && problemNames[k] != "" {
		return problemNames[k]
	}
	return fmt.Sprintf("ProblemKind(%d)", uint8(k))
}

// Problem is the first integrity problem [Verify] found.
type Problem struct {
	File   string      // path of the file
	Line   int         // 1-based line, 0 for the file as a whole
	Kind   ProblemKind // what is wrong
	Detail string      // a sentence for people
}

// Error implements error, so that a Problem can be returned and tested with
// errors.As.
func (p *Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Kind, p.Detail)
	}
	return fmt.Sprintf("%s: %s: %s", p.File, p.Kind, p.Detail)
}

// VerifyReport is the result of [Verify].
type VerifyReport struct {
	Module  string
	Files   int       // files checked
	Records int       // records whose MAC was checked
	Pruned  []string  // files that retention recorded removing
	Newest  time.Time // time of the newest record checked
	Problem *Problem  // the first problem found, nil if none
}

// OK reports whether no problem was found.
func (r *VerifyReport) OK() bool { return r.Problem == nil }

// Verify checks the integrity chain of module's audit files in dir: every
// rotated file (compressed or not) in rotation order, then the active file.
// key is the original key the chain was started with (file index 0): its
// bytes, or the contents of the original key file (as [NewKey] writes it,
// or as [ReadKey] returns it); nil verifies a plain SHA-256 chain. It stops
// at the first problem and reports its file, line and kind in the report;
// the error is for what prevents checking (an unreadable directory or file).
//
// Files that retention removed are accounted for by the [RetentionPrune]
// records of the live chain. What Verify cannot see: records removed from
// the end of the active file, back to any earlier record (see the README).
func Verify(dir, module string, key []byte) (*VerifyReport, error) {
	paths, err := moduleFiles(dir, module)
	if err != nil {
		return &VerifyReport{Module: module}, err
	}
	if len(paths) == 0 {
		return &VerifyReport{Module: module}, fmt.Errorf("audit: verify %s: no audit files of module %s", dir, module)
	}
	// The key as given, and if that is the text of a key file for file 0,
	// the key it holds: the first that is not the wrong key decides.
	keys := [][]byte{key}
	if index, k, ok := parseHexKey(key); ok && index == 0 {
		keys = append(keys, k)
	}
	var r *VerifyReport
	for _, k := range keys {
		if r, err = verifyWith(paths, module, k); err != nil || r.OK() || r.Problem.Kind != WrongKey {
			break
		}
	}
	return r, err
}

// verifyWith is Verify with one reading of the key.
func verifyWith(paths []string, module string, key []byte) (*VerifyReport, error) {
	r := &VerifyReport{Module: module}
	v := verifier{report: r, module: module, key: newChainKey(0, nil)}
	if key != nil {
		v.key = newChainKey(0, slices.Clone(key))
	}
	for i, path := range paths {
		if err := v.file(path, i == len(paths)-1); err != nil {
			return r, err
		}
		if r.Problem != nil {
			return r, nil
		}
	}
	v.checkStart()
	return r, nil
}

// moduleFiles lists module's audit files in dir in the order written.
func moduleFiles(dir, module string) ([]string, error) {
	backups, err := listBackups(osFS{}, dir, module)
	if err != nil {
		return nil, fmt.Errorf("audit: verify: %w", err)
	}
	var paths []string
	for _, b := range backups {
		if b.kind != backupTmp {
			paths = append(paths, filepath.Join(dir, b.name))
		}
	}
	active := filepath.Join(dir, module+activeSuffix)
	if _, err := os.Stat(active); err == nil {
		paths = append(paths, active)
	}
	return paths, nil
}

type verifier struct {
	report *VerifyReport
	module string
	key    *chainKey // the key of file key.index; evolved forward as files go by

	started    bool // a file was read
	firstFile  string
	firstIndex uint64        // index and prev of the first file
	firstPrev  [macSize]byte //
	lastIndex  uint64        // index and last MAC of the previous file
	lastMAC    [macSize]byte
	lastFile   string
	lastLine   int
	cuts       map[uint64][macSize]byte // RetentionPrune: file index -> chain value at its end
}

func (v *verifier) fail(file string, line int, kind ProblemKind, format string, args ...any) {
	v.report.Problem = &Problem{File: file, Line: line, Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// line is a line of a file and whether it ended with a newline.
type line struct {
	text     []byte
	complete bool
}

func readLines(path string) ([]line, error) {
	rd, closeFn, err := openAuditFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: verify: %w", err)
	}
	defer closeFn()
	br := bufio.NewReader(rd)
	var lines []line
	for {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			complete := b[len(b)-1] == '\n'
			lines = append(lines, line{trimNewline(b), complete})
		}
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return nil, fmt.Errorf("audit: verify %s: %w", path, err)
		}
	}
}

// file checks one file of the chain.
func (v *verifier) file(path string, active bool) error {
	lines, err := readLines(path)
	if err != nil {
		return err
	}
	v.report.Files++
	if len(lines) == 0 {
		if active {
			return nil // just rotated: the header comes with the next record
		}
		v.fail(path, 0, Truncated, "empty rotated file")
		return nil
	}
	head, err := ParseRecord(lines[0].text)
	if err != nil {
		v.fail(path, 1, Modified, "first record does not parse: %v", err)
		return nil
	}
	if head.Module != v.module {
		v.fail(path, 1, Replaced, "file of module %q, not %q", head.Module, v.module)
		return nil
	}
	if head.MAC == "" {
		v.fail(path, 1, Unprotected, "records carry no MAC: the file was written without integrity protection")
		return nil
	}
	index, prev, alg, err := fileStartInfo(&head.Event)
	if err != nil {
		v.fail(path, 1, Modified, "%v", err)
		return nil
	}
	if want := v.key.algorithm(); alg != want {
		v.fail(path, 1, WrongKey, "file is sealed with %s; verifying with %s", alg, want)
		return nil
	}
	if !v.started {
		v.started, v.firstFile, v.firstIndex, v.firstPrev = true, path, index, prev
	} else {
		switch {
		case index <= v.lastIndex:
			v.fail(path, 1, Replaced, "file %d follows file %d", index, v.lastIndex)
			return nil
		case index > v.lastIndex+1:
			v.fail(path, 0, FileMissing, "file %d to %d of the sequence are missing before this one", v.lastIndex+1, index-1)
			return nil
		case prev != v.lastMAC:
			v.fail(v.lastFile, v.lastLine, Truncated, "the next file's chain starts from a record that is not this file's last")
			return nil
		}
	}
	if index < v.key.index {
		v.fail(path, 1, WrongKey, "key is for file %d and later, not file %d", v.key.index, index)
		return nil
	}
	for v.key.index < index {
		v.key = v.key.evolve()
	}

	mac := prev
	for i, ln := range lines {
		n := i + 1
		if !ln.complete {
			v.fail(path, n, Truncated, "last record is cut short")
			return nil
		}
		body, stored, ok := splitSeal(ln.text)
		rec, perr := ParseRecord(ln.text)
		if !ok || perr != nil {
			v.fail(path, n, Modified, "record does not parse or has no MAC")
			return nil
		}
		sum := v.key.seal(&mac, body)
		if sum == stored && rec.Seq == uint64(n) {
			mac = stored
			v.report.Records++
			v.note(&rec)
			continue
		}
		v.classify(path, lines, i, rec.Seq, &mac, &stored)
		return nil
	}
	v.lastIndex, v.lastMAC, v.lastFile, v.lastLine = index, mac, path, len(lines)
	return nil
}

// note takes what the verifier needs from a verified record.
func (v *verifier) note(rec *Record) {
	if rec.Event.Time.After(v.report.Newest) {
		v.report.Newest = rec.Event.Time
	}
	if rec.Event.Type != RetentionPrune {
		return
	}
	var index uint64
	var cut [macSize]byte
	okIndex, okCut := false, false
	for i := range rec.Event.NumFields() {
		f := rec.Event.Field(i)
		switch f.Key {
		case "cut-file":
			_, err := fmt.Sscan(f.Value, &index)
			okIndex = err == nil
		case "cut":
			n, err := hex.Decode(cut[:], []byte(f.Value))
			okCut = err == nil && n == macSize && len(f.Value) == 2*macSize
		}
	}
	if okIndex && okCut {
		if v.cuts == nil {
			v.cuts = map[uint64][macSize]byte{}
		}
		v.cuts[index] = cut
		v.report.Pruned = append(v.report.Pruned, splitNames(rec.Event.Object)...)
	}
}

// classify names the problem at lines[i], whose MAC or sequence number is
// not the expected one.
func (v *verifier) classify(path string, lines []line, i int, seq uint64, prev, stored *[macSize]byte) {
	want := uint64(i + 1)
	seqAt := func(j int) uint64 {
		r, err := ParseRecord(lines[j].text)
		if err != nil {
			return 0
		}
		return r.Seq
	}
	switch {
	case seq == want:
		if i+1 < len(lines) && seqAt(i+1) == want {
			v.fail(path, i+1, Inserted, "two records carry sequence number %d", want)
			return
		}
		if i == 0 && v.report.Records == 0 && v.chainsOn(lines, stored) {
			v.fail(path, i+1, WrongKey, "no record verifies with this key")
			return
		}
		v.fail(path, i+1, Modified, "record %d does not match its MAC", want)
	case seq < want:
		if seq+1 == want {
			v.fail(path, i+1, Inserted, "record %d appears again", seq)
		} else {
			v.fail(path, i+1, Reordered, "record %d stands after record %d", seq, want-1)
		}
	default:
		for j := i + 1; j < len(lines); j++ {
			if seqAt(j) == want {
				v.fail(path, i+1, Reordered, "record %d stands before record %d", seq, want)
				return
			}
		}
		v.fail(path, i+1, Removed, "records %d to %d are missing", want, seq-1)
	}
}

// chainsOn reports whether the record after the first also fails when
// chained to the first's stored MAC: then the key, not the record, is wrong.
func (v *verifier) chainsOn(lines []line, stored *[macSize]byte) bool {
	if len(lines) < 2 {
		return true
	}
	body, mac, ok := splitSeal(lines[1].text)
	return ok && v.key.seal(stored, body) != mac
}

// checkStart checks that the first file starts the chain, or follows a cut
// that retention recorded.
func (v *verifier) checkStart() {
	if !v.started {
		return
	}
	var zero [macSize]byte
	if v.firstIndex == 0 && v.firstPrev == zero {
		return
	}
	if cut, ok := v.cuts[v.firstIndex-1]; ok && v.firstIndex > 0 && cut == v.firstPrev {
		return
	}
	v.fail(v.firstFile, 0, FileMissing,
		"the oldest file is file %d of the sequence, and no retention record accounts for the files before it", v.firstIndex)
}

func splitNames(s string) []string {
	var out []string
	for f := range bytes.FieldsSeq([]byte(s)) {
		out = append(out, string(f))
	}
	return out
}
