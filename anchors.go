package audit

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// Shipped anchors.
//
// The head file vouches for the newest record a Logger made durable, but it
// lives on the host: whoever deletes the newest files and puts back an older
// copy of the head leaves a shorter chain that verifies. Records shipped off
// the host are the anchor against that. Each of them is an anchor as far as
// it is itself sealed: its MAC must verify with the module's key, a
// FileStart record on its own (its prev field holds the chain value before
// it), any other record chained to the record of its module received just
// before it in the same file. A line that does not verify (of another
// chain, or forged, since without the key nobody can make a MAC) is not an
// anchor. Verification then requires the local files to hold the newest
// anchor of the module, with the same MAC.

// Anchor is a record of a module that was shipped off the host and that
// verifies with the module's key (see [Anchors]).
type Anchor struct {
	// Module is the module that wrote the record.
	Module string
	// File is the index, in the module's sequence of files, of the audit
	// file that holds the record, and Seq its sequence number there.
	File uint64
	Seq  uint64
	// MAC is the record's integrity chain value in lower-case hex.
	MAC string
	// Type and Time are the record's event type and time.
	Type EventType
	Time time.Time
	// Source is where the record was read: "path:line".
	Source string
	// Host is the host of the RFC 5424 message that carried the record
	// (its HOSTNAME, or the host parameter of the structured data); ""
	// for a raw record line, which carries no host.
	Host string

	mac [macSize]byte
}

// maxAnchorModules bounds the modules that one [Anchors] reads records of,
// so that its memory stays bounded whatever it reads.
const maxAnchorModules = 4096

// Anchors reads what a collector received from the hosts and keeps, for
// each module, the newest record that verifies with the module's key: an
// anchor for [VerifyWith]. Read it with [Anchors.Read] or
// [Anchors.ReadPath], which take lines that are either audit records as
// written in the audit files (a collector's mirror files, or rsyslog's
// output with a template that writes the message alone) or RFC 5424
// messages whose MSG is a record line, as package ship sends them (rsyslog's
// RSYSLOG_SyslogProtocol23Format, for example). Other lines are skipped. A
// source that starts with an RFC 6587 octet-counted frame is read as a
// stream of such frames instead (a capture of what the shipper sent over
// TCP); a frame cut short at its end is left out.
//
// Every record that verifies is an anchor, and the newest (the highest
// file index, then sequence number) is kept. The shipper sends a CHECKPOINT
// at every CheckpointInterval, even when nothing else is written, and every
// file starts with a FILE_START record, so the newest anchor is at most a
// checkpoint interval behind what the host wrote. A record is trusted only
// as far as its own MAC: a FILE_START record verifies alone; any other
// record needs the line of its module just before it in the same file (its
// chain predecessor) and the index of its file, from the FILE_START record
// read before it in the same file or, in an RFC 5424 message, from the
// file parameter. Without a key the chain is plain SHA-256, which anyone
// can compute: such anchors catch accidents, not a forger.
//
// Anchors are matched by module, file index, sequence number and MAC. When
// several hosts run a module of the same name, give each its own key (then
// the other hosts' records do not verify) or set Host. Memory is bounded by
// the number of modules (at most 4096) and [MaxRecordSize]. An Anchors is
// not safe for concurrent use.
type Anchors struct {
	// Key returns the original key of module's chain, as [Verify] takes
	// it, and whether module's records are read at all. Nil reads every
	// module as a plain SHA-256 chain (no key).
	Key func(module string) (key []byte, ok bool)
	// Host, when not empty, reads only the RFC 5424 messages of that host
	// (its HOSTNAME, or the host parameter of the structured data). Raw
	// record lines carry no host and are read whatever Host is.
	Host string

	mods    map[string]*anchorModule
	hosts   map[string]bool // hosts of the RFC 5424 messages read, at most maxAnchorModules
	sources int             // files read so far
}

// anchorModule is what Anchors keeps of a module.
type anchorModule struct {
	name       string
	skip       bool        // Key said not to read the module
	keys       [][]byte    // the readings of the key still possible
	cks        []*chainKey // for each reading, the key of the last file index used
	found      bool        // newest holds an anchor:
	newest     Anchor      // its module, file, seq and mac
	newestLine []byte      // its record, parsed for the rest by Newest
	source     string      // where it was read: file and line
	line       int
	host       string // the host of its message, "" for a raw line

	src      int    // the file read (Anchors.sources), and the state of the module in it:
	file     uint64 // index of the current file, from its FILE_START
	haveFile bool
	prev     [macSize]byte // MAC of the module's previous line
	havePrev bool
}

// Newest returns the newest anchor of module read so far.
func (a *Anchors) Newest(module string) (Anchor, bool) {
	m := a.mods[module]
	if m == nil || !m.found {
		return Anchor{}, false
	}
	n := m.newest
	n.MAC = hex.EncodeToString(n.mac[:])
	n.Source, n.Host = m.source+":"+strconv.Itoa(m.line), m.host
	if rec, err := ParseRecord(m.newestLine); err == nil {
		n.Type, n.Time = rec.Event.Type, rec.Event.Time
	}
	return n, true
}

// Modules returns the modules that have an anchor, sorted by name.
func (a *Anchors) Modules() []string {
	var mods []string
	for name, m := range a.mods {
		if m.found {
			mods = append(mods, name)
		}
	}
	slices.Sort(mods)
	return mods
}

// Hosts returns the hosts of the RFC 5424 messages read (those that Host
// lets through), sorted; raw record lines add none. It names at most 4096.
func (a *Anchors) Hosts() []string {
	hosts := make([]string, 0, len(a.hosts))
	for h := range a.hosts {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	return hosts
}

// Read reads the lines of r, named name in the anchors' Source.
func (a *Anchors) Read(r io.Reader, name string) error {
	lr := &LineReader{br: bufio.NewReaderSize(r, readBufferSize), close: func() error { return nil }, path: name}
	return a.readLines(lr, name)
}

// ReadPath reads the file at path, or every regular file in the directory
// at path and its subdirectories in lexical order. Files whose names end in
// ".gz" are decompressed.
func (a *Anchors) ReadPath(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("audit: anchors: %w", err)
	}
	if !st.IsDir() {
		return a.readFile(path)
	}
	return filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("audit: anchors: %w", err)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return a.readFile(p)
	})
}

func (a *Anchors) readFile(path string) error {
	r, err := OpenFile(File{Path: path, Active: true})
	if err != nil {
		return fmt.Errorf("audit: anchors: %w", err)
	}
	defer r.Close()
	return a.readLines(r, path)
}

// readLines reads the lines of lr, named name, or its frames if it holds
// RFC 6587 octet-counted messages (a capture of what a shipper sent).
func (a *Anchors) readLines(lr *LineReader, name string) error {
	a.sources++
	if head, _ := lr.br.Peek(maxFrameDigits + 2); octetCounted(head) {
		return a.readFrames(lr.br, name)
	}
	for {
		ln, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if errors.Is(err, ErrLineTooLong) {
			continue // no record is that long
		}
		if err != nil {
			return fmt.Errorf("audit: anchors: %w", err)
		}
		if !ln.Complete {
			continue // a collector stopped in the middle of a write
		}
		if err := a.readLine(ln.Text, name, ln.Number); err != nil {
			return err
		}
	}
}

// maxFrameDigits is the most digits of an octet-counted frame's length
// that anchors read: a message holds one record, at most MaxRecordSize
// bytes, and its syslog header.
const maxFrameDigits = 8

// maxFrameSize bounds an octet-counted frame read for anchors.
const maxFrameSize = MaxRecordSize + 64<<10

// octetCounted reports whether head starts an RFC 6587 octet-counted
// frame of a syslog message: a length without leading zero, a space and
// the message's "<".
func octetCounted(head []byte) bool {
	i := 0
	for i < len(head) && i < maxFrameDigits && head[i] >= '0' && head[i] <= '9' {
		i++
	}
	return i > 0 && head[0] != '0' && i+1 < len(head) && head[i] == ' ' && head[i+1] == '<'
}

// readFrames reads the octet-counted frames of br, named name; their
// numbers stand for line numbers in the anchors' sources. A frame cut
// short at the end (a capture stopped in the middle of a message) is
// left out; a frame that is not one is an error naming its number.
func (a *Anchors) readFrames(br *bufio.Reader, name string) error {
	var buf []byte
	for n := 1; ; n++ {
		digits, err := br.ReadSlice(' ')
		if err == io.EOF && len(digits) == 0 {
			return nil
		}
		if err == io.EOF {
			return nil // cut in the length
		}
		if err != nil && err != bufio.ErrBufferFull {
			return fmt.Errorf("audit: anchors: %s: %w", name, err)
		}
		size, perr := strconv.Atoi(string(bytes.TrimSuffix(digits, []byte(" "))))
		if err != nil || perr != nil || size <= 0 || size > maxFrameSize || digits[0] == '0' {
			return fmt.Errorf("audit: anchors: %s: frame %d: %w: not an octet-counted syslog frame (RFC 6587)", name, n, ErrBadRecord)
		}
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(br, buf); err != nil {
			if err == io.ErrUnexpectedEOF || err == io.EOF {
				return nil // cut in the message
			}
			return fmt.Errorf("audit: anchors: %s: %w", name, err)
		}
		if err := a.readLine(bytes.TrimSuffix(buf, []byte("\n")), name, n); err != nil {
			return err
		}
	}
}

// readLine takes one line of the file name. Only a FileStart record is
// parsed; of other lines the module, sequence number and MAC are read in
// place, which is all that verifying them needs.
func (a *Anchors) readLine(line []byte, name string, number int) error {
	record, module, hint, host := line, "", "", ""
	if len(line) > 0 && line[0] == '<' {
		m, ok := parseSyslog(line)
		if !ok {
			return nil
		}
		if a.Host != "" && m.host != a.Host {
			return nil
		}
		record, module, hint, host = m.msg, m.module, m.file, m.host
		if !a.hosts[host] && len(a.hosts) < maxAnchorModules {
			if a.hosts == nil {
				a.hosts = map[string]bool{}
			}
			a.hosts[host] = true
		}
	}
	bodyA, bodyB, stored, ok := sealedParts(record)
	if !ok {
		return nil
	}
	recModule := quickModule(record)
	seq, okSeq := quickSeq(record)
	if recModule == nil || !okSeq || module != "" && module != string(recModule) {
		return nil // not a record, or the message and its record disagree
	}
	m, err := a.module(recModule)
	if m == nil || err != nil {
		return err
	}
	if m.src != a.sources {
		m.src, m.haveFile, m.havePrev = a.sources, false, false
	}
	var index uint64
	var prev [macSize]byte
	known := false
	if bytes.Equal(quickType(record, m.name), []byte("FILE_START")) {
		rec, err := ParseRecord(record)
		var alg string
		if err == nil {
			index, prev, alg, err = fileStartInfo(&rec.Event)
		}
		known = err == nil && rec.Seq == seq && (alg == chainHMAC) == (m.keys[0] != nil)
		m.file, m.haveFile = index, err == nil
	} else {
		if m.haveFile {
			index, known = m.file, true
		} else if n, err := strconv.ParseUint(hint, 10, 64); err == nil {
			index, known = n, true
		}
		prev, known = m.prev, known && m.havePrev
	}
	m.prev, m.havePrev = stored, true
	if !known || index > maxFileIndex || !m.verify(index, &prev, bodyA, bodyB, stored) {
		return nil
	}
	if m.found && (m.newest.File > index || m.newest.File == index && m.newest.Seq >= seq) {
		return nil
	}
	m.found = true
	m.newest = Anchor{Module: m.name, File: index, Seq: seq, mac: stored}
	m.newestLine = append(m.newestLine[:0], record...)
	m.source, m.line, m.host = name, number, host
	return nil
}

// quickModule returns the module of a record of a built-in format without
// parsing the rest of it, nil if there is none.
func quickModule(line []byte) []byte {
	if bytes.HasPrefix(line, []byte(jsonTimePrefix)) {
		const key = `,"module":"`
		i := bytes.Index(line, []byte(key))
		if i < 0 {
			return nil
		}
		rest := line[i+len(key):]
		if j := bytes.IndexByte(rest, '"'); j > 0 {
			return rest[:j]
		}
		return nil
	}
	if len(line) <= timeLen || line[timeLen] != ' ' {
		return nil
	}
	rest := line[timeLen+1:]
	if j := bytes.IndexByte(rest, ' '); j > 0 {
		return rest[:j]
	}
	return nil
}

// module returns the state of module, nil when its records are not read.
func (a *Anchors) module(name []byte) (*anchorModule, error) {
	if m, ok := a.mods[string(name)]; ok {
		if m.skip {
			return nil, nil
		}
		return m, nil
	}
	module := string(name)
	if !moduleRE.MatchString(module) {
		return nil, nil
	}
	if len(a.mods) >= maxAnchorModules {
		return nil, fmt.Errorf("audit: anchors: records of more than %d modules", maxAnchorModules)
	}
	if a.mods == nil {
		a.mods = map[string]*anchorModule{}
	}
	var key []byte
	ok := true
	if a.Key != nil {
		key, ok = a.Key(module)
	}
	m := &anchorModule{name: module, skip: !ok}
	a.mods[module] = m
	if !ok {
		return nil, nil
	}
	keys, err := verifyKeys(key)
	if err != nil {
		return nil, fmt.Errorf("audit: anchors: module %s: %w", module, err)
	}
	m.keys, m.cks = keys, make([]*chainKey, len(keys))
	return m, nil
}

// verify reports whether a record of file index whose body is a and b and MAC
// mac verifies chained to prev with one of the readings of the key; the
// first that does is kept as the only one.
func (m *anchorModule) verify(index uint64, prev *[macSize]byte, a, b []byte, mac [macSize]byte) bool {
	for i, k := range m.keys {
		ck := m.cks[i]
		if ck == nil || ck.index > index {
			ck = keyAt(k, index)
		} else {
			ck = advanceKey(ck, k, index)
		}
		m.cks[i] = ck
		if ck.sealParts(prev, a, b) == mac {
			m.keys, m.cks = m.keys[i:i+1], m.cks[i:i+1]
			return true
		}
	}
	return false
}

// syslogMessage is what an RFC 5424 message says of the record it carries.
type syslogMessage struct {
	msg                []byte // MSG, without a byte-order mark
	host, module, file string // HOSTNAME (or the host parameter), APP-NAME (or the module parameter), the file parameter
}

// parseSyslog parses an RFC 5424 message (RFC 5424, section 6):
//
//	<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]
//
// taking the host, module and file parameters of any structured-data
// element. ok is false for anything else.
func parseSyslog(line []byte) (m syslogMessage, ok bool) {
	if len(line) < 3 || line[0] != '<' {
		return m, false
	}
	i := 1
	for i < len(line) && i <= 4 && '0' <= line[i] && line[i] <= '9' {
		i++
	}
	if i == 1 || i > 4 || i >= len(line) || line[i] != '>' {
		return m, false
	}
	rest := line[i+1:]
	for f := range 6 {
		j := bytes.IndexByte(rest, ' ')
		if j <= 0 {
			return m, false
		}
		tok := rest[:j]
		switch f {
		case 0:
			for _, c := range tok {
				if c < '0' || c > '9' {
					return m, false
				}
			}
		case 2:
			if !bytes.Equal(tok, []byte("-")) {
				m.host = string(tok)
			}
		case 3:
			if !bytes.Equal(tok, []byte("-")) {
				m.module = string(tok)
			}
		}
		rest = rest[j+1:]
	}
	switch {
	case len(rest) > 0 && rest[0] == '-':
		rest = rest[1:]
	case len(rest) > 0 && rest[0] == '[':
		var ok bool
		if rest, ok = m.structuredData(rest); !ok {
			return m, false
		}
	default:
		return m, false
	}
	if len(rest) > 0 {
		if rest[0] != ' ' {
			return m, false
		}
		rest = bytes.TrimPrefix(rest[1:], []byte("\xef\xbb\xbf"))
	}
	m.msg = rest
	return m, true
}

// structuredData parses the SD-ELEMENTs at the start of sd and returns
// what follows them.
func (m *syslogMessage) structuredData(sd []byte) ([]byte, bool) {
	for len(sd) > 0 && sd[0] == '[' {
		sd = sd[1:]
		j := bytes.IndexAny(sd, " ]")
		if j <= 0 || !sdName(sd[:j]) {
			return nil, false
		}
		sd = sd[j:]
		for len(sd) > 0 && sd[0] == ' ' {
			sd = sd[1:]
			eq := bytes.IndexByte(sd, '=')
			if eq <= 0 || !sdName(sd[:eq]) || eq+1 >= len(sd) || sd[eq+1] != '"' {
				return nil, false
			}
			name := string(sd[:eq])
			sd = sd[eq+2:]
			var value []byte
			k := 0
			for ; k < len(sd) && sd[k] != '"'; k++ {
				if sd[k] == '\\' && k+1 < len(sd) && (sd[k+1] == '"' || sd[k+1] == '\\' || sd[k+1] == ']') {
					k++
				}
				value = append(value, sd[k])
			}
			if k >= len(sd) {
				return nil, false
			}
			sd = sd[k+1:]
			switch name {
			case "host":
				m.host = string(value)
			case "module":
				m.module = string(value)
			case "file":
				m.file = string(value)
			}
		}
		if len(sd) == 0 || sd[0] != ']' {
			return nil, false
		}
		sd = sd[1:]
	}
	return sd, true
}

// sdName reports whether b is an SD-NAME: 1 to 32 printable US-ASCII
// bytes but '=', ' ', ']' and '"'.
func sdName(b []byte) bool {
	if len(b) == 0 || len(b) > 32 {
		return false
	}
	for _, c := range b {
		if c < 33 || c > 126 || c == '=' || c == ']' || c == '"' {
			return false
		}
	}
	return true
}
