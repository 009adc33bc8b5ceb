package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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
	// Replaced: a file belongs to another module, another chain or another
	// place in the sequence.
	Replaced
	// WrongKey: the files were sealed with another key (or without one).
	WrongKey
	// Unprotected: a file that must be sealed has no integrity chain.
	Unprotected
	// HeadMissing: the head file, which names the newest record the
	// writer made durable, is missing or is not a head file.
	HeadMissing
)

var problemNames = [...]string{Modified: "modified", Inserted: "inserted", Removed: "removed",
	Reordered: "reordered", Truncated: "truncated", FileMissing: "file missing", Replaced: "replaced",
	WrongKey: "wrong key", Unprotected: "unprotected", HeadMissing: "head missing"}

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

// VerifyReport is the result of [Verify] for one module.
type VerifyReport struct {
	Module string
	// Sealed is true when the module's files carry an integrity chain.
	// When it is false the files were written without integrity
	// protection: there is nothing to verify, and Problem is nil.
	Sealed bool
	// Files is the number of files read; Records the number of records
	// whose MAC was checked.
	Files   int
	Records int
	// Pruned lists the files that retention recorded removing.
	Pruned []string
	// Unsealed lists the files that carry no chain because they were
	// written while integrity protection was off (before it was turned
	// on, or after it was turned off). Their records are not vouched for.
	Unsealed []string
	// LastFile and LastSeq name the newest record the verdict vouches
	// for, and Newest is the newest time of the records checked.
	LastFile string
	LastSeq  uint64
	Newest   time.Time
	// FirstIndex and LastIndex are the indexes, in the module's sequence
	// of files, of the oldest and the newest sealed file read.
	FirstIndex uint64
	LastIndex  uint64
	// Stream is true for a report of [VerifyReader] or [VerifyFile]: a
	// copy of the records of consecutive files (as a collector writes
	// them), which has no head file. Its verdict vouches for the chain from
	// the first record of file FirstIndex up to LastSeq of file LastIndex;
	// records cut from its end are not detected by the chain (shipped
	// anchors are what catches that, see [Anchors]).
	Stream bool
	// HeadFile and HeadSeq name the record that the head file vouches
	// for: the newest that the writer made durable at its last rotation,
	// sync, checkpoint or close. Every record up to it was found.
	HeadFile string
	HeadSeq  uint64
	// Torn describes an incomplete last record at the end of the active
	// file: a crash in the middle of a write, which the writer moves aside
	// (and records) when it next starts. It is not counted as tampering,
	// since no record the writer acknowledged is cut; "" when there is
	// none.
	Torn string
	// Anchor is the newest record of the module that was shipped off the
	// host and verifies with the module's key, as [VerifyWith] was given
	// it in [VerifyOptions.Anchors]; nil when none was given. With a nil
	// Problem, AnchorMatched tells whether the local files hold that very
	// record (same file index, sequence number and MAC), so that no record
	// up to it was deleted or cut; when it is false the anchor lies in
	// files that retention removed, older than every local file.
	Anchor        *Anchor
	AnchorMatched bool
	// Problem is the first problem found, nil if none.
	Problem *Problem
}

// OK reports whether no problem was found.
func (r *VerifyReport) OK() bool { return r.Problem == nil }

// Verify checks the integrity of module's audit files in dir: the chain of
// every record (its MAC and sequence number), from file to file in the
// order of their indexes, compressed backups included, and the head file,
// which names the newest record the writer made durable (so that deleting
// the newest files or cutting the active one is detected).
//
// key is the original key the chain was started with (the key of file 0):
// its bytes, or the contents of the original key file as [NewKey] writes
// it; nil verifies a plain SHA-256 chain. A key file that the library has
// already evolved (the key of a later file) is an error wrapping
// [ErrBadKey]: verifying needs the original key.
//
// Files that retention removed are accounted for by the [RetentionPrune]
// records of the chain; files written while integrity protection was off
// are listed in Unsealed; a module without any sealed file is reported
// with Sealed false. Verify stops at the first problem and reports its
// file, line and kind. The error is for what prevents checking: an
// unreadable directory or file, an unusable key, no files at all.
//
// Verify reads in memory bounded by a small multiple of [MaxRecordSize],
// whatever the files hold, and can run while the module's Logger writes:
// when it finds a problem and the files changed meanwhile (a rotation), it
// verifies them again.
func Verify(dir, module string, key []byte) (*VerifyReport, error) {
	return VerifyWith(dir, module, key, VerifyOptions{})
}

// VerifyOptions are the further checks of [VerifyWith]. The zero value
// adds none.
type VerifyOptions struct {
	// Anchors holds records shipped off the host, as a collector received
	// them (see [Anchors]). The newest of the module's is required in the
	// local files, with the same file index, sequence number and MAC: a
	// local chain that lacks it (its newest files deleted, the active file
	// cut behind it, even with an older copy of the head file put back) is
	// reported as [FileMissing] or [Truncated], and one that holds another
	// record in its place as [Modified]. An anchor in files that retention
	// removed is not a problem.
	Anchors *Anchors

	// hook, when set, is called at the named steps of a verification
	// (stepListed, stepClassified): the tests change the files there.
	hook func(step string)
}

// Steps of a verification, for VerifyOptions.hook.
const (
	stepListed     = "listed"     // the files are listed, none read yet
	stepClassified = "classified" // each file's first record is read
)

// step calls the hook of opts, if any.
func (opts *VerifyOptions) step(name string) {
	if opts.hook != nil {
		opts.hook(name)
	}
}

// VerifyWith is [Verify] with further checks.
func VerifyWith(dir, module string, key []byte, opts VerifyOptions) (*VerifyReport, error) {
	if !moduleRE.MatchString(module) {
		return &VerifyReport{Module: module}, fmt.Errorf("audit: verify: module %q: %w", module, ErrBadConfig)
	}
	keys, err := verifyKeys(key)
	if err != nil {
		return &VerifyReport{Module: module}, err
	}
	var r *VerifyReport
	for attempt := 0; attempt < 3; attempt++ {
		before := filesSnapshot(dir, module)
		r, err = verifyOnce(dir, module, keys, opts)
		if err == nil && r.OK() || filesSnapshot(dir, module) == before {
			break
		}
	}
	return r, err
}

// verifyKeys returns the readings of key to try: the key as given and, if
// it is the text of an original key file, the key it holds.
func verifyKeys(key []byte) ([][]byte, error) {
	if key == nil {
		return [][]byte{nil}, nil
	}
	keys := [][]byte{key}
	if index, k, ok := parseHexKey(key); ok {
		if index != 0 {
			return nil, fmt.Errorf("audit: verify: %w: the key given is the key of file %d, which the library evolved from the original; verifying needs the original key (of file 0), kept when the key was made", ErrBadKey, index)
		}
		keys = append(keys, k)
	}
	if len(key) < 16 {
		return nil, fmt.Errorf("audit: verify: %w: a key has at least 16 bytes", ErrBadKey)
	}
	return keys, nil
}

// filesSnapshot describes the names and sizes of module's files in dir, to tell
// whether they changed.
func filesSnapshot(dir, module string) string {
	files, err := ListFiles(dir, module)
	if err != nil {
		return ""
	}
	var b []byte
	for _, f := range files {
		b = append(b, f.Path...)
		if st, err := os.Stat(f.Path); err == nil {
			b = append(b, ' ')
			b = strconv.AppendInt(b, st.Size(), 10)
		}
		b = append(b, '\n')
	}
	if data, _ := readHeadFile(dir, module); data != nil {
		b = append(b, data...)
	}
	return string(b)
}

// chainFile is a file of the chain, as its first record describes it.
type chainFile struct {
	File
	index   uint64
	prev    [macSize]byte
	first   []byte // the first line
	firstOK bool   // the first record verifies with the chain's key for index
	// unsealedBefore counts the unsealed files listed between the sealed
	// file before this one and it; afterSealed says there is such a file.
	unsealedBefore int
	afterSealed    bool
	base           int // lines before the file's first line where it is read (a stream of files)
}

// at returns the line of the file's line n where the file is read: n
// itself in an audit file, n after the lines of the files before it in a
// stream. 0 (the file as a whole) stays 0.
func (cf *chainFile) at(n int) int {
	if n == 0 {
		return 0
	}
	return cf.base + n
}

// lineSource is what the verifier reads a file's lines from: a
// [LineReader], or one file's part of a stream of files.
type lineSource interface {
	Next() (Line, error)
}

// verifier holds the state of one verification.
type verifier struct {
	report *VerifyReport
	module string
	orig   []byte    // the original key; nil for plain SHA-256
	key    *chainKey // the key of file key.index, evolved forward as files go by

	head      *head
	headSeen  bool          // the head's record (or position) was found
	headMAC   [macSize]byte // the MAC found at the head's position
	lastIndex uint64        // index and last MAC of the previous chain file
	lastMAC   [macSize]byte
	lastFile  *chainFile
	lastLine  int
	newest    []byte                   // time text of the newest record
	cuts      map[uint64][macSize]byte // RetentionPrune: file index -> chain value at its end
	ends      map[uint64][macSize]byte // chain value at the end of each file read
	tornLine  int                      // line of an incomplete last record of the active file

	active      *os.File // the active file as listed, read through this descriptor
	activeEmpty bool     // the active file was listed and held nothing

	anchor     *Anchor       // the newest shipped anchor, nil if none
	anchorSeen bool          // its position was found
	anchorMAC  [macSize]byte // the MAC found there
}

func (v *verifier) fail(file string, line int, kind ProblemKind, format string, args ...any) {
	if v.report.Problem == nil {
		v.report.Problem = &Problem{File: file, Line: line, Kind: kind, Detail: fmt.Sprintf(format, args...)}
	}
}

// verifyOnce is one verification of module's files with each reading of
// the key, the first that is not the wrong key deciding.
func verifyOnce(dir, module string, keys [][]byte, opts VerifyOptions) (*VerifyReport, error) {
	headData, err := readHeadFile(dir, module)
	if err != nil {
		return &VerifyReport{Module: module}, err
	}
	files, active, err := listForVerify(dir, module)
	if err != nil {
		return &VerifyReport{Module: module}, err
	}
	if active != nil {
		defer active.Close()
	}
	if len(files) == 0 && headData == nil {
		return &VerifyReport{Module: module}, fmt.Errorf("audit: verify %s: no audit files of module %s", dir, module)
	}
	opts.step(stepListed)
	var r *VerifyReport
	for _, k := range keys {
		r, err = verifyFiles(dir, module, files, active, headData, k, opts)
		if err != nil || r.OK() || r.Problem.Kind != WrongKey {
			break
		}
	}
	return r, err
}

// verifyFiles verifies files with one key.
func verifyFiles(dir, module string, files []File, active *os.File, headData []byte, key []byte, opts VerifyOptions) (*VerifyReport, error) {
	r := &VerifyReport{Module: module}
	v := &verifier{report: r, module: module, orig: key, key: keyAt(key, 0), active: active}
	if opts.Anchors != nil {
		if a, ok := opts.Anchors.Newest(module); ok {
			v.anchor, r.Anchor = &a, &a
		}
	}
	chain, err := v.classify(files)
	if err != nil || r.Problem != nil {
		return r, err
	}
	opts.step(stepClassified)
	r.Sealed = len(chain) > 0 || headData != nil
	if !r.Sealed {
		r.Files = len(files)
		return r, nil
	}
	if !v.readHead(dir, headData) {
		return r, nil
	}
	if len(chain) == 0 {
		var zero [macSize]byte
		if h := v.head; h.key == 0 && h.file == 0 && h.seq == 0 && h.mac == zero {
			r.Files = len(files)
			return r, nil // a new module: nothing written yet
		}
		v.fail(headPath(dir, module), 0, FileMissing, "the head vouches for record %d of file %d, but no sealed file of module %s is left", v.head.seq, v.head.file, module)
		return r, nil
	}
	// Chain order is the order of the files' indexes, whatever their names.
	slices.SortStableFunc(chain, func(a, b *chainFile) int {
		switch {
		case a.index < b.index:
			return -1
		case a.index > b.index:
			return 1
		}
		return 0
	})
	for i, cf := range chain {
		if !v.link(cf, i == 0) {
			return r, nil
		}
		if err := v.walk(cf, i == len(chain)-1); err != nil || r.Problem != nil {
			return r, err
		}
		r.Files++
		v.lastIndex, v.lastFile = cf.index, cf
	}
	r.Files += len(r.Unsealed)
	r.FirstIndex = chain[0].index
	v.checkStart(chain[0])
	v.checkHead(dir, chain)
	v.checkAnchor(chain)
	if len(v.newest) > 0 {
		r.Newest, _ = time.Parse(time.RFC3339Nano, string(v.newest))
	}
	return r, nil
}

// maxFileIndex is the largest file index the verifier accepts. Reaching
// the key of file n takes n steps of SHA-256 from the original key, so a
// forged FILE_START record or head naming an index near 2^64 would keep
// the verifier busy for ever; no chain has this many files.
const maxFileIndex = 1 << 24

// keyAt returns the chain key of file index derived from the original key
// orig (nil: plain SHA-256), index at most maxFileIndex.
func keyAt(orig []byte, index uint64) *chainKey {
	if orig == nil {
		return newChainKey(index, nil)
	}
	k := slices.Clone(orig)
	h := sha256.New()
	for range index {
		h.Reset()
		h.Write([]byte(keyLabel))
		h.Write(k)
		k = h.Sum(k[:0])
	}
	return newChainKey(index, k)
}

// advanceKey returns the key of file index, from k (the key of an earlier
// file of the chain started with orig).
func advanceKey(k *chainKey, orig []byte, index uint64) *chainKey {
	switch {
	case k.index == index:
		return k
	case k.index+1 == index:
		return k.evolve()
	}
	k.wipe()
	return keyAt(orig, index)
}

// classify reads the first record of each file and returns the sealed
// ones; the others are listed as unsealed.
func (v *verifier) classify(files []File) ([]*chainFile, error) {
	var chain []*chainFile
	var other *File // the first sealed file of another chain algorithm
	var otherAlg string
	unsealedRun := 0 // unsealed files since the last sealed one
	for _, f := range files {
		first, err := v.firstLine(f)
		if err != nil {
			return nil, v.readError(f.Path, 1, err)
		}
		if v.report.Problem != nil {
			return nil, nil
		}
		if !f.Active && !f.Compressed {
			if err := v.checkTwin(f.Path); err != nil || v.report.Problem != nil {
				return nil, err
			}
		}
		if first == nil {
			if !f.Active {
				v.fail(f.Path, 0, Truncated, "empty rotated file")
				return nil, nil
			}
			v.activeEmpty = true
			continue // just created: its first record comes with the next event
		}
		_, _, sealed := splitSeal(first)
		if !sealed {
			v.report.Unsealed = append(v.report.Unsealed, f.Path)
			unsealedRun++
			continue
		}
		v.report.Sealed = true
		head, err := ParseRecord(first)
		if err != nil {
			v.fail(f.Path, 1, Modified, "first record does not parse: %v", err)
			return nil, nil
		}
		if head.Module != v.module {
			v.fail(f.Path, 1, Replaced, "file of module %q, not %q", head.Module, v.module)
			return nil, nil
		}
		index, prev, alg, err := fileStartInfo(&head.Event)
		if err != nil {
			v.fail(f.Path, 1, Modified, "%v", err)
			return nil, nil
		}
		if index > maxFileIndex {
			v.fail(f.Path, 1, Modified, "file index %d is larger than %d, the most files a chain can have", index, maxFileIndex)
			return nil, nil
		}
		if alg != v.key.algorithm() {
			if other == nil {
				other, otherAlg = &f, alg
			}
			continue
		}
		chain = append(chain, &chainFile{File: f, index: index, prev: prev, first: first,
			unsealedBefore: unsealedRun, afterSealed: len(chain) > 0})
		unsealedRun = 0
	}
	if other != nil && (v.orig == nil || !v.anyFirstOK(chain)) {
		if v.orig == nil {
			v.fail(other.Path, 1, WrongKey, "file is sealed with %s: verifying it needs the original key", otherAlg)
		} else {
			v.fail(other.Path, 1, WrongKey, "file is sealed with %s (no key); verifying with a key", otherAlg)
		}
		return nil, nil
	}
	if other != nil {
		// Among files that this key seals, a file sealed without a key
		// is a forgery: anyone can compute a plain SHA-256 chain.
		v.fail(other.Path, 1, Replaced, "file is sealed with %s (no key), but the other files of the chain are sealed with this key: it was replaced", otherAlg)
		return nil, nil
	}
	if len(chain) == 0 {
		return nil, nil
	}
	// Which files' first records verify with the chain's key for their
	// index: a file that does not belongs to another chain.
	ok := 0
	for _, cf := range chain {
		k := keyAt(v.orig, cf.index)
		body, stored, _ := splitSeal(cf.first)
		cf.firstOK = k.seal(&cf.prev, body) == stored
		if cf.firstOK {
			ok++
		}
	}
	if ok == 0 {
		v.fail(chain[0].Path, 1, WrongKey, "no file's first record verifies with this key")
		return nil, nil
	}
	v.checkUnsealed(chain)
	return chain, nil
}

// checkUnsealed compares the unsealed files listed between two sealed files
// with what the second one's FileStart record says the logger found when it
// started: an unsealed file it did not count was put there afterwards (it
// could hold anything: nothing seals it), one it counted that is gone was
// removed. Only FileStart records that verify are trusted, and only those
// that carry the count (written since it exists).
func (v *verifier) checkUnsealed(chain []*chainFile) {
	for _, cf := range chain {
		if !cf.afterSealed || !cf.firstOK || v.report.Problem != nil {
			continue
		}
		rec, err := ParseRecord(cf.first)
		if err != nil {
			continue // reported when the file is read
		}
		want, ok := fileStartUnsealed(&rec.Event)
		switch {
		case !ok || cf.unsealedBefore == want:
		case cf.unsealedBefore > want:
			v.fail(cf.Path, 1, Inserted, "%d unsealed file(s) lie before this file since the sealed file before it, but the logger wrote %d (integrity off): unsealed files were put among the sealed ones", cf.unsealedBefore, want)
		default:
			v.fail(cf.Path, 1, FileMissing, "the logger wrote %d unsealed file(s) (integrity off) between the sealed file before this one and it, and %d are left", want, cf.unsealedBefore)
		}
	}
}

// readError turns an error of reading path into a problem (a damaged
// compressed file, a line too long to be a record) or returns it.
func (v *verifier) readError(path string, line int, err error) error {
	var damaged *DamagedError
	switch {
	case errors.As(err, &damaged):
		if errors.Is(err, io.ErrUnexpectedEOF) {
			v.fail(path, 0, Truncated, "compressed file is cut short: %v", damaged.Err)
		} else {
			v.fail(path, 0, Modified, "compressed file is damaged: %v", damaged.Err)
		}
		return nil
	case errors.Is(err, ErrLineTooLong):
		v.fail(path, line, Modified, "line is longer than %d bytes, the largest record", MaxRecordSize)
		return nil
	}
	return fmt.Errorf("audit: verify: %w", err)
}

// link checks that cf continues the chain after the previous file.
func (v *verifier) link(cf *chainFile, first bool) bool {
	if !cf.firstOK {
		v.fail(cf.Path, cf.at(1), Replaced, "the first record of file %d does not verify with this chain's key for file %d: the file belongs to another chain (another deployment, module or key)", cf.index, cf.index)
		return false
	}
	if first {
		return true
	}
	switch {
	case cf.index < v.lastIndex:
		v.fail(cf.Path, cf.at(1), Reordered, "file %d stands after file %d", cf.index, v.lastIndex)
		return false
	case cf.index == v.lastIndex:
		v.fail(cf.Path, cf.at(1), Replaced, "file %d appears twice (also as %s)", cf.index, filepath.Base(v.lastFile.Path))
		return false
	case cf.index > v.lastIndex+1:
		line := 0 // the file as a whole; in a stream, its first line
		if v.report.Stream {
			line = cf.at(1)
		}
		v.fail(cf.Path, line, FileMissing, "files %d to %d of the sequence are missing before this one", v.lastIndex+1, cf.index-1)
		return false
	case cf.prev != v.lastMAC:
		v.fail(v.lastFile.Path, v.lastLine, Truncated, "the next file's chain starts from a record that is not this file's last: records are missing at the end of this file")
		return false
	}
	return true
}

// walk verifies the records of cf, the last file of the chain when last.
func (v *verifier) walk(cf *chainFile, last bool) error {
	r, err := v.open(cf.File)
	if err != nil {
		return v.readError(cf.Path, 0, err)
	}
	defer r.Close()
	return v.walkLines(cf, r, last && cf.Active)
}

// walkLines verifies the records of cf read from src. An incomplete last
// line is a torn record, not a problem, when torn is true.
func (v *verifier) walkLines(cf *chainFile, src lineSource, torn bool) error {
	if v.key.index < cf.index {
		v.key = advanceKey(v.key, v.orig, cf.index)
	}
	mac := cf.prev
	if v.head != nil && v.head.file == cf.index && v.head.seq == 0 {
		v.headSeen, v.headMAC = true, mac
	}
	n := 0
	for {
		ln, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return v.readError(cf.Path, cf.at(ln.Number), err)
		}
		if !ln.Complete {
			if torn && !tornRecord(ln.Text, v.module) {
				v.fail(cf.Path, cf.at(ln.Number), Modified, "incomplete last line that is not the beginning of a record of module %s: a crash during a write leaves the beginning of a record", v.module)
				return nil
			}
			if torn {
				v.report.Torn = fmt.Sprintf("%s:%d: an incomplete last record of %d bytes, left by a crash during a write", cf.Path, cf.at(ln.Number), len(ln.Text))
				v.tornLine = cf.at(ln.Number)
				break
			}
			v.fail(cf.Path, cf.at(ln.Number), Truncated, "last record is cut short")
			return nil
		}
		a, b, stored, ok := sealedParts(ln.Text)
		if !ok {
			v.fail(cf.Path, cf.at(ln.Number), Modified, "record does not parse or has no MAC")
			return nil
		}
		seq, _ := quickSeq(ln.Text)
		if v.key.sealParts(&mac, a, b) != stored || seq != uint64(ln.Number) {
			return v.classifyAt(cf, src, ln.Number, seq, &mac, &stored)
		}
		mac = stored
		n = ln.Number
		v.report.Records++
		if t := quickTime(ln.Text); bytes.Compare(t, v.newest) > 0 {
			v.newest = append(v.newest[:0], t...)
		}
		if bytes.Equal(quickType(ln.Text, v.module), []byte("RETENTION_PRUNE")) {
			v.notePrune(ln.Text)
		}
		if v.head != nil && v.head.file == cf.index && v.head.seq == seq {
			v.headSeen, v.headMAC = true, stored
		}
		if v.anchor != nil && v.anchor.File == cf.index && v.anchor.Seq == seq {
			v.anchorSeen, v.anchorMAC = true, stored
		}
	}
	v.lastMAC, v.lastLine = mac, cf.at(n)
	if v.ends == nil {
		v.ends = map[uint64][macSize]byte{}
	}
	v.ends[cf.index] = mac
	if n > 0 {
		v.report.LastFile, v.report.LastSeq, v.report.LastIndex = cf.Path, uint64(n), cf.index
	}
	return nil
}

// notePrune takes the cut of a verified RetentionPrune record.
func (v *verifier) notePrune(line []byte) {
	rec, err := ParseRecord(line)
	if err != nil {
		return
	}
	var index uint64
	var cut [macSize]byte
	okIndex, okCut := false, false
	for i := range rec.Event.NumFields() {
		f := rec.Event.Field(i)
		switch f.Key {
		case "cut-file":
			var err error
			index, err = strconv.ParseUint(f.Value, 10, 64)
			okIndex = err == nil
		case "cut":
			// hex.Decode writes past cut for a longer value: check first.
			if len(f.Value) == 2*macSize {
				_, err := hex.Decode(cut[:], []byte(f.Value))
				okCut = err == nil
			}
		}
	}
	if okIndex && okCut {
		if v.cuts == nil {
			v.cuts = map[uint64][macSize]byte{}
		}
		v.cuts[index] = cut
		for f := range bytes.FieldsSeq([]byte(rec.Event.Object)) {
			v.report.Pruned = append(v.report.Pruned, string(f))
		}
	}
}

// classifyAt names the problem at line n of cf, whose MAC or sequence
// number is not the expected one. It reads on from line n in src, the
// file's lines after it, to tell a duplicate, a reordering and a removal
// apart; verification stops at this problem, so nothing else needs them.
func (v *verifier) classifyAt(cf *chainFile, src lineSource, n int, seq uint64, prev, stored *[macSize]byte) error {
	want := uint64(n)
	var next []byte // the line after n
	nextSeq, found := uint64(0), false
	for {
		ln, err := src.Next()
		if err != nil {
			break // what could be read decides
		}
		if ln.Number <= n {
			continue
		}
		s, _ := quickSeq(ln.Text)
		if ln.Number == n+1 {
			next, nextSeq = bytes.Clone(ln.Text), s
		}
		if s == want {
			found = true
			break
		}
	}
	line := cf.at(n)
	switch {
	case seq == want:
		if next != nil && nextSeq == want {
			v.fail(cf.Path, line, Inserted, "two records carry sequence number %d", want)
			return nil
		}
		if n == 1 && v.report.Records == 0 && v.chainsOn(next, stored) {
			v.fail(cf.Path, line, WrongKey, "no record verifies with this key")
			return nil
		}
		v.fail(cf.Path, line, Modified, "record %d does not match its MAC", want)
	case seq < want:
		if seq+1 == want {
			v.fail(cf.Path, line, Inserted, "record %d appears again", seq)
		} else {
			v.fail(cf.Path, line, Reordered, "record %d stands after record %d", seq, want-1)
		}
	case found:
		v.fail(cf.Path, line, Reordered, "record %d stands before record %d", seq, want)
	default:
		v.fail(cf.Path, line, Removed, "records %d to %d are missing", want, seq-1)
	}
	return nil
}

// chainsOn reports whether the record next also fails when chained to the
// stored MAC of the record before it: then the key, not the record, is
// wrong.
func (v *verifier) chainsOn(next []byte, stored *[macSize]byte) bool {
	if next == nil {
		return true
	}
	a, b, mac, ok := sealedParts(next)
	return ok && v.key.sealParts(stored, a, b) != mac
}

// checkStart checks that the first file starts the chain, or follows a cut
// that retention recorded.
func (v *verifier) checkStart(first *chainFile) {
	if v.report.Problem != nil {
		return
	}
	var zero [macSize]byte
	if first.index == 0 && first.prev == zero {
		return
	}
	if first.index > 0 {
		if cut, ok := v.cuts[first.index-1]; ok && cut == first.prev {
			return
		}
	}
	// A prune that removed only part of the files it recorded (it was
	// interrupted): the files it left must end where it cut.
	for index, cut := range v.cuts {
		if index >= first.index {
			if end, ok := v.ends[index]; ok && end == cut {
				return
			}
		}
	}
	v.fail(first.Path, 0, FileMissing,
		"the oldest file is file %d of the sequence, and no retention record accounts for the files before it", first.index)
}

// readHead parses and checks the seal of the head file. It reports false
// when that is a problem.
func (v *verifier) readHead(dir string, data []byte) bool {
	path := headPath(dir, v.module)
	if data == nil {
		v.fail(path, 0, HeadMissing, "the head file, which names the newest record the writer made durable, is missing: the newest files may have been deleted")
		return false
	}
	h, body, seal, err := parseHead(data)
	if err != nil {
		v.fail(path, 0, HeadMissing, "%v", err)
		return false
	}
	if h.module != v.module {
		v.fail(path, 0, Replaced, "head file of module %q, not %q", h.module, v.module)
		return false
	}
	if h.key > maxFileIndex {
		v.fail(path, 0, Modified, "the head names file index %d, larger than %d, the most files a chain can have", h.key, maxFileIndex)
		return false
	}
	if want := v.key.algorithm(); h.chain != want {
		v.fail(path, 0, WrongKey, "the head is sealed with %s; verifying with %s", h.chain, want)
		return false
	}
	if sealHead(keyAt(v.orig, h.key), body) != seal {
		v.fail(path, 0, Modified, "the head file does not match its seal: it was changed, or it is not this chain's")
		return false
	}
	v.head = &h
	v.report.HeadSeq = h.seq
	return true
}

// checkHead checks that the files hold the record that the head vouches
// for, and every file up to the key that sealed the head.
func (v *verifier) checkHead(dir string, chain []*chainFile) {
	if v.report.Problem != nil {
		return
	}
	h := v.head
	path := headPath(dir, v.module)
	newest := chain[len(chain)-1]
	for _, cf := range chain {
		if cf.index == h.file {
			v.report.HeadFile = cf.Path
		}
	}
	switch {
	case h.key > newest.index+1 || h.key == newest.index+1 && !v.activeEmpty:
		v.fail(path, 0, FileMissing, "the head was sealed with the key of file %d, but the newest file is file %d: the newest files are missing", h.key, newest.index)
	case h.file > newest.index:
		// Written between a rotation and the new file's first record:
		// the head names the end of the newest file.
		if h.seq != 0 || h.mac != v.lastMAC {
			v.fail(path, 0, FileMissing, "the head vouches for file %d, but the newest file is file %d", h.file, newest.index)
		}
	case h.file < chain[0].index:
		if _, ok := v.cuts[h.file]; !ok && !v.prunedAfter(h.file) {
			v.fail(path, 0, Replaced, "the head names file %d, older than the oldest file %d: it is an older copy of the head", h.file, chain[0].index)
		}
	case !v.headSeen:
		file := v.report.HeadFile
		switch {
		case file == "":
			v.fail(path, 0, FileMissing, "the head vouches for record %d of file %d, which is missing", h.seq, h.file)
		case v.tornLine > 0 && file == newest.Path:
			v.fail(file, v.tornLine, Truncated, "last record is cut short, and the head vouches for record %d of this file", h.seq)
		default:
			v.fail(file, 0, Truncated, "the head vouches for record %d of this file (file %d), which is missing: records were cut from its end", h.seq, h.file)
		}
	case v.headMAC != h.mac:
		v.fail(v.report.HeadFile, int(h.seq), Modified, "record %d is not the record the head vouches for", h.seq)
	}
}

// checkAnchor checks that the files hold the newest shipped anchor, with
// its MAC.
func (v *verifier) checkAnchor(chain []*chainFile) {
	a := v.anchor
	if a == nil || v.report.Problem != nil {
		return
	}
	newest := chain[len(chain)-1]
	var file *chainFile
	for _, cf := range chain {
		if cf.index == a.File {
			file = cf
		}
	}
	switch {
	case v.anchorSeen && v.anchorMAC == a.mac:
		v.report.AnchorMatched = true
	case v.anchorSeen:
		v.fail(file.Path, int(a.Seq), Modified, "record %d is not the record shipped off the host (%s)", a.Seq, a.Source)
	case a.File > newest.index:
		v.fail(newest.Path, 0, FileMissing, "a record shipped off the host (%s) is record %d of file %d, but the newest file is file %d: the newest files are missing", a.Source, a.Seq, a.File, newest.index)
	case a.File < chain[0].index:
		// In files that retention removed: checkStart accounted for them.
	case file == nil:
		v.fail(newest.Path, 0, FileMissing, "a record shipped off the host (%s) is record %d of file %d, which is missing", a.Source, a.Seq, a.File)
	case v.tornLine > 0 && file == newest:
		v.fail(file.Path, v.tornLine, Truncated, "last record is cut short, and a record shipped off the host (%s) is record %d of this file", a.Source, a.Seq)
	default:
		v.fail(file.Path, 0, Truncated, "a record shipped off the host (%s) is record %d of this file (file %d), which is missing: records were cut from its end", a.Source, a.Seq, a.File)
	}
}

// prunedAfter reports whether a retention cut covers file index.
func (v *verifier) prunedAfter(index uint64) bool {
	for c := range v.cuts {
		if c >= index {
			return true
		}
	}
	return false
}

// checkTwin checks the compressed copy of the plain backup at path, if
// there is one: a crash during compression leaves both files, and readers
// take the plain one, so a forged copy would otherwise go unseen. The
// compressor names its copy only once it is complete, so the two must hold
// the same bytes. A plain file or copy that is gone meanwhile (the
// compression finished) is not a problem.
func (v *verifier) checkTwin(path string) error {
	twin := path + gzExt
	zr, err := OpenFile(File{Path: twin, Module: v.module, Compressed: true})
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return v.readError(twin, 0, err)
	}
	defer zr.Close()
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("audit: verify: %w", err)
	}
	defer fh.Close()
	pr := NewLineReader(fh, path)
	for {
		want, werr := pr.Next()
		got, gerr := zr.Next()
		if gerr != nil && !errors.Is(gerr, io.EOF) {
			return v.readError(twin, got.Number, gerr)
		}
		if werr != nil && !errors.Is(werr, io.EOF) {
			return v.readError(path, want.Number, werr)
		}
		if werr != nil || gerr != nil {
			if werr == nil || gerr == nil {
				v.fail(twin, 0, Modified, "the compressed copy of %s, left beside it by a crash during compression, does not hold the same records", filepath.Base(path))
			}
			return nil
		}
		if want.Complete != got.Complete || !bytes.Equal(want.Text, got.Text) {
			v.fail(twin, got.Number, Modified, "line %d differs from line %d of %s, the plain file that this compressed copy was made from", got.Number, want.Number, filepath.Base(path))
			return nil
		}
	}
}

// anyFirstOK reports whether the first record of a file of chain verifies
// with the chain's key for its index.
func (v *verifier) anyFirstOK(chain []*chainFile) bool {
	for _, cf := range chain {
		body, stored, _ := splitSeal(cf.first)
		if keyAt(v.orig, cf.index).seal(&cf.prev, body) == stored {
			return true
		}
	}
	return false
}

// timePattern is the form of a record's time: 'd' stands for a digit.
const timePattern = "dddd-dd-ddTdd:dd:dd.ddddddZ"

// tornRecord reports whether text, an incomplete last line, can be what a
// crash during a write leaves: the beginning of a record of module in a
// built-in format (its time and module, as far as they go), or zeros
// where a power loss left the file longer than the data written.
func tornRecord(text []byte, module string) bool {
	text = bytes.TrimRight(text, "\x00")
	if len(text) == 0 {
		return true
	}
	if text[0] == '{' { // {"time":"T","seq":N,"module":"M"
		rest, ok := matchLiteral(text, jsonTimePrefix)
		if ok && rest != nil {
			rest, ok = matchTime(rest)
		}
		if ok && rest != nil {
			rest, ok = matchLiteral(rest, `","seq":`)
		}
		if ok && rest != nil {
			i := 0
			for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
				i++
			}
			if i == len(rest) {
				return true
			}
			_, ok = matchLiteral(rest[i:], `,"module":"`+module+`"`)
		}
		return ok
	}
	rest, ok := matchTime(text) // T M
	if ok && rest != nil {
		_, ok = matchLiteral(rest, " "+module+" ")
	}
	return ok
}

// matchLiteral matches the beginning of b against lit. rest is what
// follows lit in b, nil when b ends first.
func matchLiteral(b []byte, lit string) (rest []byte, ok bool) {
	if len(b) <= len(lit) {
		return nil, string(b) == lit[:len(b)]
	}
	return b[len(lit):], string(b[:len(lit)]) == lit
}

// matchTime matches the beginning of b against timePattern, as
// matchLiteral does.
func matchTime(b []byte) (rest []byte, ok bool) {
	n := min(len(b), len(timePattern))
	for i := range n {
		if p := timePattern[i]; p == 'd' && (b[i] < '0' || b[i] > '9') || p != 'd' && b[i] != p {
			return nil, false
		}
	}
	if len(b) <= len(timePattern) {
		return nil, true
	}
	return b[len(timePattern):], true
}

// listForVerify lists module's files in dir and opens the active file, so
// that the file read as the active one is the one listed with those
// backups: a rotation while the files are verified renames it (and
// compression may replace it), but the descriptor still reads it, so the
// files read are always consecutive. It lists again until the backups are
// the same before and after the active file is opened (a rotation in
// between changes them).
func listForVerify(dir, module string) ([]File, *os.File, error) {
	for attempt := 0; ; attempt++ {
		files, err := ListFiles(dir, module)
		if err != nil {
			return nil, nil, err
		}
		if len(files) == 0 || !files[len(files)-1].Active {
			return files, nil, nil
		}
		fh, err := os.Open(files[len(files)-1].Path)
		if errors.Is(err, fs.ErrNotExist) && attempt < 20 {
			continue // renamed by a rotation; its successor is being created
		}
		if err != nil {
			return nil, nil, fmt.Errorf("audit: verify: %w", err)
		}
		again, err := ListFiles(dir, module)
		if err == nil && !slices.EqualFunc(files, again, func(a, b File) bool { return a.Active == b.Active && a.Rotated.Equal(b.Rotated) }) && attempt < 20 {
			fh.Close()
			continue
		}
		return files, fh, nil
	}
}

// firstLine is firstLine of f, the active file read through v.active.
func (v *verifier) firstLine(f File) ([]byte, error) {
	if !f.Active || v.active == nil {
		return firstLine(f)
	}
	lr, _ := v.open(f)
	ln, err := lr.Next()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return bytes.Clone(ln.Text), nil
}

// open is OpenFile of f, the active file read through v.active.
func (v *verifier) open(f File) (*LineReader, error) {
	if !f.Active || v.active == nil {
		return OpenFile(f)
	}
	return NewLineReader(io.NewSectionReader(v.active, 0, math.MaxInt64), f.Path), nil
}
