package audit

import (
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file holds the hot-path helpers shared by the built-in formats: the
// time appender, the byte tables of the no-escape fast paths, and the checks
// every formatter makes before it writes a record. Nothing here allocates
// unless it returns an error.

const lowerHex = "0123456789abcdef"

// plainASCII[c] is true for the ASCII bytes that both formats write literally
// inside a quoted string: printable ASCII (space included) except '"' and '\\'.
// Bytes >= 0x80 are false: they take the slow path that decodes UTF-8.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// bareASCII[c] is true for the ASCII bytes that a BCM value may contain
// unquoted: printable ASCII except space, '"', '\\' and '='.
var bareASCII = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\' && c != '='
	}
	return t
}()

// keyASCII[c] is true for the bytes allowed in an extra field key, as
// checkFieldKey requires.
var keyASCII = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
	}
	return t
}()

// The length of a time written by appendTime: 2006-01-02T15:04:05.000000Z.
const timeLen = 27

// digits2 holds the two decimal digits of 0 to 99, in order.
const digits2 = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// put2 writes the two decimal digits of v < 100 at b[0:2].
func put2(b []byte, v int) {
	b[0], b[1] = digits2[2*v], digits2[2*v+1]
}

// appendTime appends t in UTC as RFC 3339 with exactly six fraction digits,
// truncated to the microsecond: 2026-11-25T09:14:40.123456Z. It reports false
// and appends nothing when the year of t in UTC is outside 0000..9999, which
// RFC 3339 cannot write.
func appendTime(dst []byte, t time.Time) ([]byte, bool) {
	// Civil date from the day number (H. Hinnant's algorithm), cheaper
	// than t.Date and t.Clock, which each convert the time again.
	secs := t.Unix()
	days := secs / 86400
	rem := secs - days*86400
	if rem < 0 {
		days, rem = days-1, rem+86400
	}
	z := days + 719468 // days since 0000-03-01
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	year := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100) // [0, 365], from March 1
	mp := (5*doy + 2) / 153                  // [0, 11], March is 0
	day := doy - (153*mp+2)/5 + 1
	month := mp + 3
	if mp >= 10 {
		month, year = mp-9, year+1
	}
	if year < 0 || year > 9999 {
		return dst, false
	}
	us := t.Nanosecond() / 1000
	var b [timeLen]byte
	put2(b[0:], int(year/100))
	put2(b[2:], int(year%100))
	b[4] = '-'
	put2(b[5:], int(month))
	b[7] = '-'
	put2(b[8:], int(day))
	b[10] = 'T'
	put2(b[11:], int(rem/3600))
	b[13] = ':'
	put2(b[14:], int(rem/60%60))
	b[16] = ':'
	put2(b[17:], int(rem%60))
	b[19] = '.'
	put2(b[20:], us/10000)
	put2(b[22:], us/100%100)
	put2(b[24:], us%100)
	b[26] = 'Z'
	return append(dst, b[:]...), true
}

// The constants of the SWAR scans, which test 8 bytes of a string at once.
const (
	lsbs = 0x0101010101010101
	msbs = 0x8080808080808080
)

// load8 returns s[i:i+8] as a little-endian word; the compiler makes it a
// single load.
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// hasByte is non-zero when some byte of w equals c.
func hasByte(w uint64, c byte) uint64 {
	x := w ^ lsbs*uint64(c)
	return (x - lsbs) &^ x & msbs
}

// hasLess is non-zero when some byte of w is less than n <= 128.
func hasLess(w uint64, n byte) uint64 {
	return (w - lsbs*uint64(n)) &^ w & msbs
}

// plainLen returns the length of the longest prefix of s whose bytes are all
// plainASCII.
func plainLen(s string) int {
	i := 0
	for ; len(s)-i >= 8; i += 8 {
		w := load8(s, i)
		if w&msbs|hasLess(w, 0x20)|hasByte(w, 0x7f)|hasByte(w, '"')|hasByte(w, '\\') != 0 {
			break
		}
	}
	for i < len(s) && plainASCII[s[i]] {
		i++
	}
	return i
}

// bareLen returns the length of the longest prefix of s whose bytes are all
// bareASCII.
func bareLen(s string) int {
	i := 0
	for ; len(s)-i >= 8; i += 8 {
		w := load8(s, i)
		if w&msbs|hasLess(w, 0x21)|hasByte(w, 0x7f)|hasByte(w, '"')|hasByte(w, '\\')|hasByte(w, '=') != 0 {
			break
		}
	}
	for i < len(s) && bareASCII[s[i]] {
		i++
	}
	return i
}

// parseTime parses an RFC 3339 time with any fraction and returns it in UTC,
// truncated to the microsecond as records carry it, so that a parsed record
// formats back to the same record. A time whose year in UTC is outside
// 0000..9999 is refused since no record could carry it.
func parseTime(s string) (time.Time, error) {
	if len(s) > 64 {
		return time.Time{}, fmt.Errorf("time %q of %d bytes is too long", snip(s), len(s))
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	t = t.UTC().Truncate(time.Microsecond)
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, fmt.Errorf("time %q is outside the years 0000..9999 in UTC", s)
	}
	return t, nil
}

// errTimeRange is the cause given when an event time cannot be written.
var errTimeRange = errors.New("time outside the years 0000..9999 in UTC")

// checkRecord makes the checks that every built-in formatter makes before it
// writes r: a valid type and outcome, well-formed extra field keys that do not
// repeat. The error wraps [ErrInvalidEvent].
func checkRecord(r *Record) error {
	e := &r.Event
	if !e.Type.Valid() {
		return fmt.Errorf("audit: event type %d: %w: %w", uint8(e.Type), ErrInvalidEvent, ErrUnknownEventType)
	}
	if e.Outcome == 0 {
		return fmt.Errorf("audit: %s event: %w: field outcome is required (Event.Outcome is unset; want Succeeded or Failed)", e.Type, ErrInvalidEvent)
	}
	if !e.Outcome.Valid() {
		return fmt.Errorf("audit: %s event: %w: field outcome has unknown value %d", e.Type, ErrInvalidEvent, uint8(e.Outcome))
	}
	var keys fieldKeys
	for i := range e.NumFields() {
		key := e.Field(i).Key
		if err := checkFieldKey(key); err != nil {
			return fmt.Errorf("audit: %s event: %w: extra field %d: %w", e.Type, ErrInvalidEvent, i, err)
		}
		if keys.repeated(e, i) {
			j := 0
			for e.Field(j).Key != key {
				j++
			}
			return fmt.Errorf("audit: %s event: %w: extra field %d: key %q repeats extra field %d", e.Type, ErrInvalidEvent, i, key, j)
		}
	}
	return nil
}

// timeError is the error of a formatter given an event time it cannot write.
func timeError(r *Record) error {
	return fmt.Errorf("audit: %s event: %w: field time: %w", r.Event.Type, ErrInvalidEvent, errTimeRange)
}

// standardKeys are the keys of the standard string fields of an Event, in
// the fixed order in which both formats write them; standardValues returns
// the fields in the same order.
var standardKeys = [...]string{"actor", "subject", "object", "old", "new", "client", "session", "reason"}

// standardValues returns pointers to the standard string fields of e, in the
// order of standardKeys.
func standardValues(e *Event) [len(standardKeys)]*string {
	return [...]*string{&e.Actor, &e.Subject, &e.Object, &e.OldValue, &e.NewValue, &e.Client, &e.Session, &e.Reason}
}

// standardIndex returns the index in standardKeys of key, or -1.
func standardIndex(key string) int {
	switch key {
	case "actor":
		return 0
	case "subject":
		return 1
	case "object":
		return 2
	case "old":
		return 3
	case "new":
		return 4
	case "client":
		return 5
	case "session":
		return 6
	case "reason":
		return 7
	}
	return -1
}

// lookupType returns the EventType whose String is exactly name.
func lookupType(name string) (EventType, bool) {
	for t := EventType(1); t < numEventTypes; t++ {
		if eventTypeInfo[t].name == name {
			return t, true
		}
	}
	return 0, false
}

// lookupOutcome returns the Outcome whose String is exactly name.
func lookupOutcome(name string) (Outcome, bool) {
	switch name {
	case "SUCCESS":
		return Succeeded, true
	case "FAILURE":
		return Failed, true
	}
	return 0, false
}

// appendOutcome appends the name of o, which checkRecord has validated.
func appendOutcome(dst []byte, o Outcome) []byte {
	if o == Failed {
		return append(dst, "FAILURE"...)
	}
	return append(dst, "SUCCESS"...)
}

// parseSeq parses a decimal uint64 without sign, leading zeros or other
// bytes.
func parseSeq(s string) (uint64, bool) {
	if s == "" || len(s) > 20 || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// snip returns s, shortened to at most 40 bytes and "..." for an error
// message.
func snip(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:40] + "..."
}

// isPrintRune reports whether r, a valid rune, is written literally inside
// a quoted BCM value.
func isPrintRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 0x20 <= r && r < 0x7f
	}
	return unicode.IsPrint(r)
}

// validModule reports whether s is a module name that [New] accepts: 1 to 64
// ASCII letters, digits, '_' or '-'. It matches the expression New checks
// without its cost.
func validModule(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validMAC reports whether s is a chain value as the writer writes it: the
// lower-case hex of a SHA-256 HMAC.
func validMAC(s string) bool {
	if len(s) != 2*macSize {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// The parts of a record that unwritten names, so that a parser can give the
// byte offset of the fault.
const (
	partTime = iota
	partModule
	partOutcome
	partSeq
	partMAC
	partEnd // the end of the line: a missing field
	numParts
)

// unwritten returns the reason why a [Logger] never writes r, and the part
// of the record at fault, or "" when it could have written it. The parsers refuse such a record: a line that no
// writer produced is not evidence. It checks what the formatters do not:
// seq from 1, a module name that [New] accepts, a well-formed mac, a
// [ChannelReject] that failed, the fields the type requires, and a time
// that is not the zero Time (which the Logger replaces with its clock).
func unwritten(r *Record) (reason string, part int) {
	e := &r.Event
	switch {
	case e.Time.IsZero():
		return "time 0001-01-01T00:00:00Z is the zero time, which the writer replaces with its clock", partTime
	case !validModule(r.Module):
		return fmt.Sprintf("module %q: want 1 to 64 ASCII letters, digits, '_' or '-'", snip(r.Module)), partModule
	case e.Type == ChannelReject && e.Outcome != Failed:
		return fmt.Sprintf("%s with outcome %s: a rejected channel is always a FAILURE", e.Type, e.Outcome), partOutcome
	case r.Seq == 0:
		return "seq 0: sequence numbers start at 1", partSeq
	case r.MAC != "" && !validMAC(r.MAC):
		return fmt.Sprintf("mac %q: want %d lower-case hex digits", snip(r.MAC), 2*macSize), partMAC
	}
	for _, name := range eventTypeInfo[e.Type].requires {
		if e.value(name) == "" {
			return fmt.Sprintf("%s record without %s, which the type requires", e.Type, name), partEnd
		}
	}
	return "", 0
}

// firstDiff returns the offset of the first byte where a and b differ, or
// the length of the shorter one.
func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
