package audit

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// bcmFormatter renders the BCM line format, a line for people and grep:
//
//	TIME MODULE TYPE OUTCOME seq=N[ key=value]...
//
// for example
//
//	2026-11-25T09:14:40.123456Z AgentServer LOGON FAILURE seq=3 actor=alice client=10.1.2.3:5060 session=S-77 reason="bad password" attempt=2
//
// TIME is RFC 3339 in UTC with six fraction digits. MODULE is a value. TYPE
// is [EventType.String] and OUTCOME is SUCCESS or FAILURE. After seq come the
// non-empty standard fields in the fixed order actor, subject, object, old,
// new, client, session, reason; then every extra field, even empty, in order;
// then mac when the record has one. Tokens are separated by single spaces.
//
// A value is written bare when it is not empty and holds only printable
// runes ([unicode.IsPrint]) other than space, '"', '\\' and '='. Any other
// value is quoted: between '"' with the escapes \" \\ \n \r \t, \xHH for each
// byte of invalid UTF-8, and \uHHHH or \UHHHHHHHH (lower-case hex, fixed
// width) for any other rune that is not printable, such as C0 and C1
// controls, DEL, U+2028 and bidirectional controls. Spaces and printable
// non-ASCII runes stay literal inside quotes. The empty value is "".
type bcmFormatter struct{}

// Append implements [Formatter].
func (bcmFormatter) Append(dst []byte, r *Record) ([]byte, error) {
	if err := checkRecord(r); err != nil {
		return dst, err
	}
	dst, ok := appendBCM(dst, r.Seq, r.Module, &r.Event, r.MAC)
	if !ok {
		return dst, timeError(r)
	}
	return dst, nil
}

// appendBCM appends the record of e with sequence number seq, module and mac.
// e must have passed checkRecord's checks; ok is false if its time cannot
// be written (and nothing was appended).
func appendBCM(dst []byte, seq uint64, module string, e *Event, mac string) ([]byte, bool) {
	dst, ok := appendTime(dst, e.Time)
	if !ok {
		return dst, false
	}
	dst = append(dst, ' ')
	dst = appendBCMValue(dst, module)
	dst = append(dst, ' ')
	dst = append(dst, eventTypeInfo[e.Type].name...)
	dst = append(dst, ' ')
	dst = appendOutcome(dst, e.Outcome)
	dst = append(dst, " seq="...)
	dst = strconv.AppendUint(dst, seq, 10)
	for i, v := range standardValues(e) {
		if *v == "" {
			continue
		}
		dst = append(dst, ' ')
		dst = append(dst, standardKeys[i]...)
		dst = append(dst, '=')
		dst = appendBCMValue(dst, *v)
	}
	for i := range e.NumFields() {
		f := e.Field(i)
		dst = append(dst, ' ')
		dst = append(dst, f.Key...)
		dst = append(dst, '=')
		dst = appendBCMValue(dst, f.Value)
	}
	if mac != "" {
		dst = append(dst, " mac="...)
		dst = appendBCMValue(dst, mac)
	}
	return dst, true
}

// Parse implements [Parser] with [ParseBCM].
func (bcmFormatter) Parse(line []byte) (Record, error) { return ParseBCM(line) }

// appendBCMValue appends s bare when it may be, else quoted.
func appendBCMValue(dst []byte, s string) []byte {
	n := bareLen(s)
	switch {
	case n == len(s) && n > 0: // all bare ASCII: the common case
		return append(dst, s...)
	case n < len(s) && s[n] < utf8.RuneSelf: // an ASCII byte that needs quotes
		return appendBCMQuoted(dst, s)
	case bcmBare(s): // printable non-ASCII runes
		return append(dst, s...)
	}
	return appendBCMQuoted(dst, s)
}

// bcmBare reports whether s may be written without quotes.
func bcmBare(s string) bool {
	if s == "" {
		return false
	}
	for i := bareLen(s); i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if !bareASCII[c] {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !isPrintRune(r) {
			return false
		}
		i += size
	}
	return true
}

// appendBCMQuoted appends s quoted with the BCM escapes.
func appendBCMQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; ; {
		i += plainLen(s[i:])
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			dst = appendEscapedByte(append(dst, s[start:i]...), c)
			i++
			start = i
			continue
		}
		dst, i, start = appendEscapedRune(dst, s, start, i)
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendHexRune appends r as n lower-case hex digits.
func appendHexRune(dst []byte, r rune, n int) []byte {
	for shift := 4 * (n - 1); shift >= 0; shift -= 4 {
		dst = append(dst, lowerHex[(r>>shift)&0xf])
	}
	return dst
}

// ParseBCM parses one BCM line, without its newline, as written by the BCM
// formatter (see [FormatBCM]).
//
// It is strict, since it is used to check evidence: it accepts exactly the
// lines that a [Logger] writes, and whatever it accepts formats back to the
// same bytes. The line must be the formatter's rendering of its record (the
// time in UTC with six fraction digits, a value quoted only when it must be,
// the escapes the formatter writes), and the record must be one a Logger
// writes: seq from 1, a module name that [New] accepts, a mac of 64
// lower-case hex digits when present, a [ChannelReject] that failed, the
// fields its type requires and a time other than the zero Time. A line that
// breaks a rule gives an error that wraps [ErrBadRecord], names the byte
// offset of the fault and says why.
func ParseBCM(line []byte) (Record, error) {
	p := bcmParser{s: string(line)}
	var r Record
	if err := p.parse(&r); err != nil {
		return Record{}, err
	}
	if why, part := unwritten(&r); why != "" {
		return Record{}, p.errorf(p.at[part], "%s", why)
	}
	var stack [512]byte
	out, _ := appendBCM(stack[:0], r.Seq, r.Module, &r.Event, r.MAC)
	if string(out) != p.s {
		return Record{}, notCanonical("bcm", out, line)
	}
	return r, nil
}

// notCanonical returns the error of a parser given a line that reads as a
// record but is not the line the formatter writes for that record, naming
// the first byte that differs.
func notCanonical(format string, want, line []byte) error {
	off := firstDiff(want, line)
	return fmt.Errorf("audit: %w: %s byte %d: not as the formatter writes this record (%q where it writes %q)",
		ErrBadRecord, format, off, snip(string(line[off:])), snip(string(want[off:])))
}

// bcmParser reads one BCM line.
type bcmParser struct {
	s    string
	i    int           // offset of the next byte to read
	at   [numParts]int // offsets of the parts that unwritten checks
	keys fieldKeys     // the extra field keys read
}

// errorf returns an error wrapping ErrBadRecord about the byte at off.
func (p *bcmParser) errorf(off int, format string, args ...any) error {
	return fmt.Errorf("audit: %w: bcm byte %d: %s", ErrBadRecord, off, fmt.Sprintf(format, args...))
}

// word returns the bytes up to the next space or the end of the line.
func (p *bcmParser) word() (string, int) {
	start := p.i
	n := strings.IndexByte(p.s[start:], ' ')
	if n < 0 {
		p.i = len(p.s)
	} else {
		p.i = start + n
	}
	return p.s[start:p.i], start
}

// next consumes the single space before the next token, and reports false
// at the end of the line. A token must follow the space. If what is not
// empty, a token is required and the end of the line is an error naming it.
func (p *bcmParser) next(what string) (bool, error) {
	if p.i == len(p.s) {
		if what != "" {
			return false, p.errorf(p.i, "line ends before %s", what)
		}
		return false, nil
	}
	if p.s[p.i] != ' ' {
		return false, p.errorf(p.i, "unexpected byte %q after value", p.s[p.i])
	}
	p.i++
	if p.i == len(p.s) {
		return false, p.errorf(p.i-1, "trailing space")
	}
	if p.s[p.i] == ' ' {
		return false, p.errorf(p.i, "double space")
	}
	return true, nil
}

// parse reads the line into r, which is the zero Record.
func (p *bcmParser) parse(r *Record) error {
	s := p.s
	if s == "" {
		return p.errorf(0, "empty line")
	}
	if s[0] == ' ' {
		return p.errorf(0, "line starts with a space")
	}
	word, off := p.word()
	t, err := parseTime(word)
	if err != nil {
		return fmt.Errorf("audit: %w: bcm byte %d: time: %w", ErrBadRecord, off, err)
	}
	r.Event.Time = t

	if _, err := p.next("module"); err != nil {
		return err
	}
	p.at[partModule] = p.i
	if r.Module, err = p.value(); err != nil {
		return err
	}

	if _, err := p.next("event type"); err != nil {
		return err
	}
	word, off = p.word()
	typ, ok := lookupType(word)
	if !ok {
		return p.errorf(off, "unknown event type %q", snip(word))
	}
	r.Event.Type = typ

	if _, err := p.next("outcome"); err != nil {
		return err
	}
	word, off = p.word()
	p.at[partOutcome] = off
	outcome, ok := lookupOutcome(word)
	if !ok {
		return p.errorf(off, "outcome %q: want SUCCESS or FAILURE", snip(word))
	}
	r.Event.Outcome = outcome

	if _, err := p.next("seq"); err != nil {
		return err
	}
	word, off = p.word()
	p.at[partSeq] = off
	digits, found := strings.CutPrefix(word, "seq=")
	if !found {
		return p.errorf(off, "want seq=N after the outcome, found %q", snip(word))
	}
	if r.Seq, ok = parseSeq(digits); !ok {
		for j := 0; j < len(digits); j++ {
			if c := digits[j]; c < '0' || c > '9' {
				return p.errorf(off+4+j, "byte %q not allowed in seq", c)
			}
		}
		return p.errorf(off+4, "seq %q: want a decimal number without leading zeros that fits 64 bits", snip(digits))
	}

	std := standardValues(&r.Event)
	// stage is the index in standardKeys of the last standard key read,
	// len(standardKeys) once an extra field is read, and one more after mac.
	stage := -1
	const extraStage = len(standardKeys)
	const macStage = extraStage + 1
	for {
		more, err := p.next("")
		if err != nil {
			return err
		}
		if !more {
			p.at[partEnd] = len(s)
			return nil
		}
		keyOff := p.i
		key, err := p.key()
		if err != nil {
			return err
		}
		valOff := p.i
		val, err := p.value()
		if err != nil {
			return err
		}
		if stage == macStage {
			if key == "mac" {
				return p.errorf(keyOff, "duplicate key %q", key)
			}
			return p.errorf(keyOff, "key %q after mac, which must be last", snip(key))
		}
		if key == "mac" {
			if val == "" {
				return p.errorf(valOff, "empty mac (an empty mac is omitted)")
			}
			r.MAC = val
			p.at[partMAC] = valOff
			stage = macStage
			continue
		}
		if i := standardIndex(key); i >= 0 {
			switch {
			case *std[i] != "":
				return p.errorf(keyOff, "duplicate key %q", key)
			case stage == extraStage:
				return p.errorf(keyOff, "standard key %q after extra fields", key)
			case i < stage:
				return p.errorf(keyOff, "key %q out of order: %s comes before %s", key, key, standardKeys[stage])
			case val == "":
				return p.errorf(valOff, "empty %s (an empty standard field is omitted)", key)
			}
			*std[i] = val
			stage = i
			continue
		}
		if err := checkFieldKey(key); err != nil {
			if isPositionalKey(key) {
				return p.errorf(keyOff, "duplicate key %q", key)
			}
			return p.errorf(keyOff, "%v", err)
		}
		r.Event.AddField(key, val)
		if p.keys.repeated(&r.Event, r.Event.NumFields()-1) {
			return p.errorf(keyOff, "duplicate key %q", key)
		}
		stage = extraStage
	}
}

// isPositionalKey reports whether key names a field that BCM writes before
// the key=value pairs.
func isPositionalKey(key string) bool {
	switch key {
	case "time", "seq", "module", "type", "outcome":
		return true
	}
	return false
}

// key reads a key and the '=' after it.
func (p *bcmParser) key() (string, error) {
	start := p.i
	for p.i < len(p.s) && keyASCII[p.s[p.i]] {
		p.i++
	}
	if p.i == start {
		return "", p.errorf(p.i, "want key=value, found byte %q", p.s[p.i])
	}
	if p.i == len(p.s) || p.s[p.i] != '=' {
		if p.i < len(p.s) && p.s[p.i] != ' ' {
			return "", p.errorf(p.i, "byte %q not allowed in key", p.s[p.i])
		}
		return "", p.errorf(start, "want key=value, found %q without '='", snip(p.s[start:p.i]))
	}
	key := p.s[start:p.i]
	p.i++
	return key, nil
}

// value reads a bare or quoted value.
func (p *bcmParser) value() (string, error) {
	if p.i < len(p.s) && p.s[p.i] == '"' {
		return p.quoted()
	}
	s := p.s
	start := p.i
	i := start
	for i < len(s) && s[i] != ' ' {
		c := s[i]
		if c < utf8.RuneSelf {
			if !bareASCII[c] {
				return "", p.errorf(i, "byte %q not allowed in an unquoted value", c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return "", p.errorf(i, "invalid UTF-8 in an unquoted value")
		}
		if !isPrintRune(r) {
			return "", p.errorf(i, "rune %U not allowed in an unquoted value", r)
		}
		i += size
	}
	if i == start {
		return "", p.errorf(i, "empty value (write \"\")")
	}
	p.i = i
	return s[start:i], nil
}

// quoted reads a quoted value whose opening quote is at p.i.
func (p *bcmParser) quoted() (string, error) {
	s := p.s
	open := p.i
	i := open + 1 + plainLen(s[open+1:])
	// Fast path: no escapes, so the value is a substring of the line.
	if i < len(s) && s[i] == '"' {
		return p.endQuoted(s[open+1:i], i)
	}
	buf := make([]byte, 0, len(s)-open)
	buf = append(buf, s[open+1:i]...)
	hasX := false
	for {
		if i >= len(s) {
			return "", p.errorf(open, "unterminated quoted value")
		}
		c := s[i]
		switch {
		case c == '"':
			v := string(buf)
			if hasX && string(appendBCMQuoted(nil, v)) != s[open:i+1] {
				return "", p.errorf(open, "\\x escapes of bytes that form valid UTF-8")
			}
			return p.endQuoted(v, i)
		case c == '\\':
			if i+1 >= len(s) {
				return "", p.errorf(open, "unterminated quoted value")
			}
			esc := i
			i += 2
			switch s[esc+1] {
			case '"', '\\':
				buf = append(buf, s[esc+1])
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'x':
				b, ok := parseLowerHex(s, i, 2)
				if !ok {
					return "", p.errorf(esc, "\\x wants 2 lower-case hex digits")
				}
				if b < 0x80 {
					return "", p.errorf(esc, "\\x%02x escapes an ASCII byte", b)
				}
				buf = append(buf, byte(b))
				hasX = true
				i += 2
			case 'u', 'U':
				n := 4
				if s[esc+1] == 'U' {
					n = 8
				}
				r, ok := parseLowerHex(s, i, n)
				if !ok {
					return "", p.errorf(esc, "\\%c wants %d lower-case hex digits", s[esc+1], n)
				}
				i += n
				switch {
				case n == 8 && r <= 0xffff:
					return "", p.errorf(esc, "\\U escapes %U, which wants \\u", r)
				case r > utf8.MaxRune || 0xd800 <= r && r <= 0xdfff:
					return "", p.errorf(esc, "\\%c escapes %#x, which is not a Unicode scalar value", s[esc+1], r)
				case r == '\n' || r == '\r' || r == '\t':
					return "", p.errorf(esc, "\\u escapes %U, which wants \\n, \\r or \\t", r)
				case isPrintRune(rune(r)):
					return "", p.errorf(esc, "\\%c escapes the printable rune %U", s[esc+1], r)
				}
				buf = utf8.AppendRune(buf, rune(r))
			default:
				return "", p.errorf(esc, "unknown escape \\%c", s[esc+1])
			}
		case c < utf8.RuneSelf:
			if !plainASCII[c] {
				return "", p.errorf(i, "byte %q must be escaped in a quoted value", c)
			}
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return "", p.errorf(i, "invalid UTF-8 in a quoted value (write \\xHH)")
			}
			if !isPrintRune(r) {
				return "", p.errorf(i, "rune %U must be escaped in a quoted value", r)
			}
			buf = append(buf, s[i:i+size]...)
			i += size
		}
	}
}

// endQuoted returns v after the closing quote at offset close.
func (p *bcmParser) endQuoted(v string, close int) (string, error) {
	p.i = close + 1
	if p.i < len(p.s) && p.s[p.i] != ' ' {
		return "", p.errorf(p.i, "unexpected byte %q after closing quote", p.s[p.i])
	}
	return v, nil
}

// parseLowerHex parses n lower-case hex digits at s[i:].
func parseLowerHex(s string, i, n int) (uint32, bool) {
	if len(s)-i < n {
		return 0, false
	}
	var v uint32
	for _, c := range []byte(s[i : i+n]) {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | uint32(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | uint32(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// appendEscapedByte appends the escape of the ASCII byte c, which a
// format's quoted value cannot hold as it is: \n, \r and \t, \u00XX for
// the other C0 controls and DEL, and a backslash before any other byte
// (the format's quote, backslash or separator). BCM, JSON and CEF share it.
func appendEscapedByte(dst []byte, c byte) []byte {
	switch c {
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	if c < 0x20 || c == 0x7f {
		return append(dst, '\\', 'u', '0', '0', lowerHex[c>>4], lowerHex[c&0xf])
	}
	return append(dst, '\\', c)
}

// appendEscapedRune handles the byte s[i] >= utf8.RuneSelf inside a quoted
// BCM or CEF value, whose text since start is still to be copied: a
// printable rune is left in place; a byte of invalid UTF-8 is written as
// \xHH and any other rune as \uHHHH or \UHHHHHHHH, after the pending text.
// It returns dst and the new i and start.
func appendEscapedRune(dst []byte, s string, start, i int) ([]byte, int, int) {
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size == 1 {
		c := s[i]
		dst = append(dst, s[start:i]...)
		dst = append(dst, '\\', 'x', lowerHex[c>>4], lowerHex[c&0xf])
		return dst, i + 1, i + 1
	}
	if isPrintRune(r) {
		return dst, i + size, start
	}
	dst = append(dst, s[start:i]...)
	if r <= 0xffff {
		dst = append(dst, '\\', 'u')
		dst = appendHexRune(dst, r, 4)
	} else {
		dst = append(dst, '\\', 'U')
		dst = appendHexRune(dst, r, 8)
	}
	return dst, i + size, i + size
}
