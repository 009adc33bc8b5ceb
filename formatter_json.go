package audit

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonFormatter renders JSON Lines: one object per line, without spaces,
// whose members are in this order: time, seq (a number), module, type,
// outcome, then the non-empty standard fields actor, subject, object, old,
// new, client, session, reason, then every extra field as a string member,
// even empty, in order, then mac when the record has one.
//
//	{"time":"2026-11-25T09:14:40.123456Z","seq":3,"module":"AgentServer","type":"LOGON","outcome":"FAILURE","actor":"alice","reason":"bad password","attempt":"2"}
//
// Strings are escaped as described at [ParseJSON].
type jsonFormatter struct{}

// Append implements [Formatter].
func (jsonFormatter) Append(dst []byte, r *Record) ([]byte, error) {
	if err := checkRecord(r); err != nil {
		return dst, err
	}
	dst, ok := appendJSON(dst, r.Seq, r.Module, &r.Event, r.MAC)
	if !ok {
		return dst, timeError(r)
	}
	return dst, nil
}

// appendJSON appends the record of e with sequence number seq, module and mac.
// e must have passed checkRecord's checks; ok is false if its time cannot
// be written (and nothing was appended).
func appendJSON(dst []byte, seq uint64, module string, e *Event, mac string) ([]byte, bool) {
	start := len(dst)
	dst = append(dst, `{"time":"`...)
	dst, ok := appendTime(dst, e.Time)
	if !ok {
		return dst[:start], false
	}
	dst = append(dst, `","seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"module":`...)
	dst = appendJSONString(dst, module)
	dst = append(dst, `,"type":"`...)
	dst = append(dst, eventTypeInfo[e.Type].name...)
	dst = append(dst, `","outcome":"`...)
	dst = appendOutcome(dst, e.Outcome)
	dst = append(dst, '"')
	for i, v := range standardValues(e) {
		if *v == "" {
			continue
		}
		dst = append(dst, ',', '"')
		dst = append(dst, standardKeys[i]...)
		dst = append(dst, '"', ':')
		dst = appendJSONString(dst, *v)
	}
	for i := range e.NumFields() {
		f := e.Field(i)
		dst = append(dst, ',', '"')
		dst = append(dst, f.Key...) // checkRecord allows no byte that needs escaping
		dst = append(dst, '"', ':')
		dst = appendJSONString(dst, f.Value)
	}
	if mac != "" {
		dst = append(dst, `,"mac":`...)
		dst = appendJSONString(dst, mac)
	}
	return append(dst, '}'), true
}

// Parse implements [Parser] with [ParseJSON].
func (jsonFormatter) Parse(line []byte) (Record, error) { return ParseJSON(line) }

// appendJSONString appends s as a JSON string as described at [ParseJSON].
func appendJSONString(dst []byte, s string) []byte {
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
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', 'd', 'c', lowerHex[c>>4], lowerHex[c&0xf])
		case !isPrintRune(r):
			// C1 controls, U+2028/U+2029, bidirectional controls and other
			// runes that are not printable: as \uhhhh, or a surrogate pair.
			dst = append(dst, s[start:i]...)
			if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
				dst = appendU4(dst, r1)
				dst = appendU4(dst, r2)
			} else {
				dst = appendU4(dst, r)
			}
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendU4 appends the JSON escape \uhhhh of r, which must be below 0x10000.
func appendU4(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', lowerHex[r>>12&0xf], lowerHex[r>>8&0xf], lowerHex[r>>4&0xf], lowerHex[r&0xf])
}

// ParseJSON parses one JSON Lines record, without its newline, as written by
// the JSON formatter (see [FormatJSON]).
//
// The formatter escapes '"', '\\', '\n', '\r' and '\t' as \" \\ \n \r \t,
// the other bytes below 0x20 and DEL as \u00hh, and every other rune that
// is not printable ([unicode.IsPrint]: C1 controls, U+2028 and U+2029,
// bidirectional controls, non-ASCII spaces) as \uhhhh or a surrogate pair,
// so that a line is safe for JavaScript, line-based tools and people.
// Every byte HH of invalid UTF-8 is written as the lone low surrogate
// \udcHH (U+DC80..U+DCFF, as Python's "surrogateescape"): the line stays
// valid JSON and every string, valid UTF-8 or not, reads back exactly.
// Readers that do not know this convention, such as encoding/json, read such
// a byte as U+FFFD. All else is literal UTF-8.
//
// The parser is hand-written to keep that convention and the order of the
// extra fields. It is strict, since it is used to check evidence: it
// accepts exactly the lines that a [Logger] writes, and whatever it accepts
// formats back to the same bytes. The line must be the formatter's rendering
// of its record: no white space, the members in the formatter's order, the
// time in UTC with six fraction digits, and exactly the escapes above. The
// record must be one a Logger writes: seq from 1, a module name that [New]
// accepts, a mac of 64 lower-case hex digits when present, a
// [ChannelReject] that failed, the fields its type requires and a time other
// than the zero Time. A line that breaks a rule gives an error that wraps
// [ErrBadRecord], names the byte offset of the fault and says why.
func ParseJSON(line []byte) (Record, error) {
	p := jsonParser{s: string(line)}
	var r Record
	if err := p.parse(&r); err != nil {
		return Record{}, err
	}
	if why, part := unwritten(&r); why != "" {
		return Record{}, p.errorf(p.at[part], "%s", why)
	}
	var stack [512]byte
	out, _ := appendJSON(stack[:0], r.Seq, r.Module, &r.Event, r.MAC)
	if string(out) != p.s {
		return Record{}, notCanonical("json", out, line)
	}
	return r, nil
}

// jsonParser reads one JSON line.
type jsonParser struct {
	s    string
	i    int
	buf  []byte        // scratch for decoding escapes
	at   [numParts]int // offsets of the values that unwritten checks
	keys fieldKeys     // the extra field keys read
	// format names the format in errors: "json" when empty, "ocsf" when
	// ParseOCSF uses the parser's string reader.
	format string
}

// errorf returns an error wrapping ErrBadRecord about the byte at off.
func (p *jsonParser) errorf(off int, format string, args ...any) error {
	name := p.format
	if name == "" {
		name = "json"
	}
	return fmt.Errorf("audit: %w: %s byte %d: %s", ErrBadRecord, name, off, fmt.Sprintf(format, args...))
}

// Bits of the keys that must or may appear once, beside the standard fields.
const (
	jsonTime = 1 << iota
	jsonSeq
	jsonModule
	jsonType
	jsonOutcome
	jsonMAC
	jsonStd // first bit of the standard fields, in standardKeys order

	jsonRequired = jsonTime | jsonSeq | jsonModule | jsonType | jsonOutcome
)

// skipSpace skips spaces and tabs. It reports a newline or carriage return,
// which a record may not hold, as an error.
func (p *jsonParser) skipSpace() error {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t':
			p.i++
		case '\n', '\r':
			return p.errorf(p.i, "newline in record")
		default:
			return nil
		}
	}
	return nil
}

// peek skips white space and returns the next byte, or an error naming what
// was expected at the end of the line.
func (p *jsonParser) peek(what string) (byte, error) {
	if err := p.skipSpace(); err != nil {
		return 0, err
	}
	if p.i == len(p.s) {
		return 0, p.errorf(p.i, "line ends before %s", what)
	}
	return p.s[p.i], nil
}

// parse reads the line into r, which is the zero Record.
func (p *jsonParser) parse(r *Record) error {
	if p.s == "" {
		return p.errorf(0, "empty line")
	}
	if p.s[0] != '{' {
		return p.errorf(0, "want '{', found %q", p.s[0])
	}
	p.i = 1
	std := standardValues(&r.Event)
	seen := 0
	c, err := p.peek("'}' or a key")
	if err != nil {
		return err
	}
	if c == '}' {
		p.i++
	} else {
		for {
			c, err := p.peek("a key")
			if err != nil {
				return err
			}
			keyOff := p.i
			if c != '"' {
				return p.errorf(p.i, "want a key string, found %q", c)
			}
			key, err := p.str()
			if err != nil {
				return err
			}
			if c, err = p.peek("':'"); err != nil {
				return err
			}
			if c != ':' {
				return p.errorf(p.i, "want ':' after key, found %q", c)
			}
			p.i++
			if c, err = p.peek("a value"); err != nil {
				return err
			}
			valOff := p.i
			if err := p.member(r, &std, &seen, key, keyOff, valOff, c); err != nil {
				return err
			}
			if c, err = p.peek("',' or '}'"); err != nil {
				return err
			}
			p.i++
			if c == '}' {
				break
			}
			if c != ',' {
				return p.errorf(p.i-1, "want ',' or '}' after a value, found %q", c)
			}
		}
	}
	if p.i != len(p.s) {
		if c := p.s[p.i]; c == '\n' || c == '\r' {
			return p.errorf(p.i, "newline in record")
		}
		return p.errorf(p.i, "unexpected %q after the object", p.s[p.i])
	}
	p.at[partEnd] = p.i
	if missing := jsonRequired &^ seen; missing != 0 {
		for i, k := range [...]string{"time", "seq", "module", "type", "outcome"} {
			if missing&(1<<i) != 0 {
				return p.errorf(p.i, "missing key %q", k)
			}
		}
	}
	return nil
}

// member reads the value of key, whose first byte c is at p.i, into r.
func (p *jsonParser) member(r *Record, std *[len(standardKeys)]*string, seen *int, key string, keyOff, valOff int, c byte) error {
	var bit int
	switch key {
	case "time":
		bit = jsonTime
	case "seq":
		bit = jsonSeq
	case "module":
		bit = jsonModule
	case "type":
		bit = jsonType
	case "outcome":
		bit = jsonOutcome
	case "mac":
		bit = jsonMAC
	default:
		if i := standardIndex(key); i >= 0 {
			bit = jsonStd << i
		}
	}
	if bit != 0 {
		if *seen&bit != 0 {
			return p.errorf(keyOff, "duplicate key %q", key)
		}
		*seen |= bit
	}
	switch bit {
	case jsonTime:
		p.at[partTime] = valOff
	case jsonModule:
		p.at[partModule] = valOff
	case jsonOutcome:
		p.at[partOutcome] = valOff
	case jsonSeq:
		p.at[partSeq] = valOff
	case jsonMAC:
		p.at[partMAC] = valOff
	}
	if key == "seq" {
		return p.seq(r)
	}
	if c != '"' {
		return p.errorf(valOff, "value of %q must be a string, found %q", snip(key), c)
	}
	val, err := p.str()
	if err != nil {
		return err
	}
	switch bit {
	case jsonTime:
		t, err := parseTime(val)
		if err != nil {
			return fmt.Errorf("audit: %w: json byte %d: time: %w", ErrBadRecord, valOff, err)
		}
		r.Event.Time = t
	case jsonModule:
		r.Module = val
	case jsonType:
		typ, ok := lookupType(val)
		if !ok {
			return p.errorf(valOff, "unknown event type %q", snip(val))
		}
		r.Event.Type = typ
	case jsonOutcome:
		o, ok := lookupOutcome(val)
		if !ok {
			return p.errorf(valOff, "outcome %q: want SUCCESS or FAILURE", snip(val))
		}
		r.Event.Outcome = o
	case jsonMAC:
		if val == "" {
			return p.errorf(valOff, "empty mac (an empty mac is omitted)")
		}
		r.MAC = val
	case 0:
		if err := checkFieldKey(key); err != nil {
			return p.errorf(keyOff, "%v", err)
		}
		r.Event.AddField(key, val)
		if p.keys.repeated(&r.Event, r.Event.NumFields()-1) {
			return p.errorf(keyOff, "duplicate key %q", key)
		}
	default: // a standard field
		if val == "" {
			return p.errorf(valOff, "empty %s (an empty standard field is omitted)", key)
		}
		*std[standardIndex(key)] = val
	}
	return nil
}

// seq reads the number of the seq member at p.i.
func (p *jsonParser) seq(r *Record) error {
	start := p.i
	for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
		p.i++
	}
	digits := p.s[start:p.i]
	if p.i < len(p.s) {
		switch p.s[p.i] {
		case '.', 'e', 'E':
			return p.errorf(p.i, "seq must be an integer, without fraction or exponent")
		}
	}
	if digits == "" {
		return p.errorf(start, "seq must be a non-negative integer, found %q", p.s[start])
	}
	n, ok := parseSeq(digits)
	if !ok {
		return p.errorf(start, "seq %s: want a number without leading zeros that fits 64 bits", digits)
	}
	r.Seq = n
	return nil
}

// str reads a JSON string whose opening quote is at p.i and returns its
// value.
func (p *jsonParser) str() (string, error) {
	s := p.s
	open := p.i
	i := open + 1 + plainLen(s[open+1:])
	// Fast path: printable ASCII without escapes is a substring of the line.
	if i < len(s) && s[i] == '"' {
		p.i = i + 1
		return s[open+1 : i], nil
	}
	buf := append(p.buf[:0], s[open+1:i]...)
	for {
		if i >= len(s) {
			return "", p.errorf(open, "unterminated string")
		}
		c := s[i]
		switch {
		case c == '"':
			p.i = i + 1
			p.buf = buf
			return string(buf), nil
		case c == '\\':
			if i+1 >= len(s) {
				return "", p.errorf(open, "unterminated string")
			}
			esc := i
			i += 2
			switch s[esc+1] {
			case '"', '\\', '/':
				buf = append(buf, s[esc+1])
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := parseHex4(s, i)
				if !ok {
					return "", p.errorf(esc, "\\u wants 4 hex digits")
				}
				i += 4
				switch {
				case 0xd800 <= r && r < 0xdc00:
					lo, ok := uint32(0), false
					if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
						lo, ok = parseHex4(s, i+2)
					}
					if !ok || lo < 0xdc00 || lo > 0xdfff {
						return "", p.errorf(esc, "lone high surrogate \\u%04x", r)
					}
					i += 6
					buf = utf8.AppendRune(buf, rune(0x10000+(r-0xd800)<<10+(lo-0xdc00)))
				case 0xdc80 <= r && r <= 0xdcff:
					buf = append(buf, byte(r-0xdc00))
				case 0xdc00 <= r && r <= 0xdfff:
					return "", p.errorf(esc, "lone low surrogate \\u%04x (only \\udc80 to \\udcff stand for bytes)", r)
				default:
					buf = utf8.AppendRune(buf, rune(r))
				}
			default:
				return "", p.errorf(esc, "unknown escape \\%c", s[esc+1])
			}
		case c < 0x20:
			if c == '\n' || c == '\r' {
				return "", p.errorf(i, "newline in record")
			}
			return "", p.errorf(i, "control byte %q must be escaped in a string", c)
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return "", p.errorf(i, "invalid UTF-8 in a string (write \\udcHH)")
			}
			buf = append(buf, s[i:i+size]...)
			i += size
		}
	}
}

// parseHex4 parses 4 hex digits of either case at s[i:].
func parseHex4(s string, i int) (uint32, bool) {
	if len(s)-i < 4 {
		return 0, false
	}
	var v uint32
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | uint32(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | uint32(c-'a'+10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | uint32(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
