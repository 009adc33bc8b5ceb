package main

import (
	"bytes"
	"time"

	"github.com/auditkit/audit"
)

// lead holds the leading fields of a record line, read without parsing the
// rest of it: what most filters and stats need.
type lead struct {
	json    bool   // the line is JSON, else BCM
	time    []byte // the time as written: RFC 3339 UTC with six fraction digits
	module  []byte // the module, which needs no unescaping
	typ     audit.EventType
	outcome audit.Outcome
}

// canonicalTimeLen is the length of a time as the library writes it:
// 2026-11-25T09:14:40.123456Z.
const canonicalTimeLen = len("2006-01-02T15:04:05.000000Z")

// readLead reads the leading fields of line into l. It reports false when
// the line does not start the way the library writes records (a time in
// UTC with six fraction digits, of which only the separators are checked
// here, a module without quotes or escapes, a known type and outcome, and
// for JSON the members time, seq, module, type and outcome first in that
// order without spaces): such a line must be parsed in full. When it reports true and [audit.ParseRecord] accepts
// the line, the record has exactly these leading fields, because a record
// holds each of them once.
func readLead(line []byte, l *lead) bool {
	if len(line) > 0 && line[0] == '{' {
		return readLeadJSON(line, l)
	}
	// TIME MODULE TYPE OUTCOME seq=...
	l.json = false
	if len(line) < canonicalTimeLen+1 || line[canonicalTimeLen] != ' ' {
		return false
	}
	l.time = line[:canonicalTimeLen]
	if !timeSeparators(l.time) {
		return false
	}
	rest := line[canonicalTimeLen+1:]
	var ok bool
	if l.module, rest, ok = cutWord(rest); !ok || len(l.module) == 0 || l.module[0] == '"' {
		return false
	}
	var word []byte
	if word, rest, ok = cutWord(rest); !ok {
		return false
	}
	if l.typ = typeByName(word); l.typ == 0 {
		return false
	}
	// The outcome is SUCCESS or FAILURE, and seq follows.
	const n = len("SUCCESS")
	if len(rest) <= n || rest[n] != ' ' {
		return false
	}
	l.outcome, ok = outcomeByName(rest[:n])
	return ok
}

// cutWord returns the bytes of b before its first space and those after
// it; ok is false when b holds no space.
func cutWord(b []byte) (word, rest []byte, ok bool) {
	// The words are short: a loop is quicker than bytes.IndexByte.
	for i, c := range b {
		if c == ' ' {
			return b[:i], b[i+1:], true
		}
	}
	return nil, nil, false
}

// readLeadJSON is readLead for a line that starts with '{'.
func readLeadJSON(line []byte, l *lead) bool {
	l.json = true
	rest, ok := bytes.CutPrefix(line, []byte(`{"time":"`))
	if !ok || len(rest) < canonicalTimeLen {
		return false
	}
	l.time = rest[:canonicalTimeLen]
	if !timeSeparators(l.time) {
		return false
	}
	if rest, ok = bytes.CutPrefix(rest[canonicalTimeLen:], []byte(`","seq":`)); !ok {
		return false
	}
	i := 0
	for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
		i++
	}
	if i == 0 {
		return false
	}
	if rest, ok = bytes.CutPrefix(rest[i:], []byte(`,"module":"`)); !ok {
		return false
	}
	if l.module, rest, ok = cutJSONString(rest); !ok {
		return false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"type":"`)); !ok {
		return false
	}
	var word []byte
	if word, rest, ok = cutJSONString(rest); !ok {
		return false
	}
	if l.typ = typeByName(word); l.typ == 0 {
		return false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"outcome":"`)); !ok {
		return false
	}
	if word, _, ok = cutJSONString(rest); !ok {
		return false
	}
	l.outcome, ok = outcomeByName(word)
	return ok
}

// cutJSONString returns the contents of a JSON string whose opening quote
// has been read, and what follows its closing quote; ok is false when the
// string holds an escape or does not end.
func cutJSONString(b []byte) (s, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '"')
	if i < 0 || bytes.IndexByte(b[:i], '\\') >= 0 {
		return nil, nil, false
	}
	return b[:i], b[i+1:], true
}

// timeSeparators reports whether b has the separators of the shape
// dddd-dd-ddTdd:dd:dd.ddddddZ. A time with them that the parser accepts
// has digits in between, and times of that shape sort as their bytes do.
func timeSeparators(b []byte) bool {
	return len(b) == canonicalTimeLen && b[4] == '-' && b[7] == '-' && b[10] == 'T' &&
		b[13] == ':' && b[16] == ':' && b[19] == '.' && b[26] == 'Z'
}

// canonicalTimeShape reports whether b has the shape
// dddd-dd-ddTdd:dd:dd.ddddddZ.
func canonicalTimeShape(b []byte) bool {
	if !timeSeparators(b) {
		return false
	}
	// A byte below '0' wraps around: the largest difference is above 9
	// unless every byte is a digit.
	_ = b[25]
	m := max(b[0]-'0', b[1]-'0', b[2]-'0', b[3]-'0', b[5]-'0', b[6]-'0', b[8]-'0', b[9]-'0',
		b[11]-'0', b[12]-'0', b[14]-'0', b[15]-'0', b[17]-'0', b[18]-'0',
		b[20]-'0', b[21]-'0', b[22]-'0', b[23]-'0', b[24]-'0', b[25]-'0')
	return m <= 9
}

// parseCanonicalTime returns the time of b, which has the separators of
// canonicalTimeShape; ok is false when it does not have that shape, or for
// a date or clock time out of range (such as 2026-02-30).
func parseCanonicalTime(b []byte) (time.Time, bool) {
	if !validCanonicalTime(b) {
		return time.Time{}, false
	}
	num2 := func(i int) int { return int(b[i]-'0')*10 + int(b[i+1]-'0') }
	usec := num2(20)*10000 + num2(22)*100 + num2(24)
	return time.Date(num2(0)*100+num2(2), time.Month(num2(5)), num2(8),
		num2(11), num2(14), num2(17), usec*1000, time.UTC), true
}

// validCanonicalTime reports whether parseCanonicalTime accepts b, more
// cheaply.
func validCanonicalTime(b []byte) bool {
	if !canonicalTimeShape(b) {
		return false
	}
	num2 := func(i int) int { return int(b[i]-'0')*10 + int(b[i+1]-'0') }
	year, month, day := num2(0)*100+num2(2), num2(5), num2(8)
	if month < 1 || month > 12 || day < 1 || num2(11) > 23 || num2(14) > 59 || num2(17) > 59 {
		return false
	}
	days := monthDays[month-1]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return day <= days
}

var monthDays = [12]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// typeByName returns the event type named exactly b, or 0.
func typeByName(b []byte) audit.EventType {
	if len(b) == 0 {
		return 0
	}
	for _, t := range typesByInitial[b[0]] {
		if string(b) == typeNames[t] {
			return t
		}
	}
	return 0
}

// typesByInitial are the event types by the first byte of their names.
var typesByInitial = func() (m [256][]audit.EventType) {
	for _, t := range allTypes {
		c := typeNames[t][0]
		m[c] = append(m[c], t)
	}
	return m
}()

// allTypes are every event type, those only the library writes included.
var allTypes = func() []audit.EventType {
	var ts []audit.EventType
	for t := audit.EventType(1); t.Valid(); t++ {
		ts = append(ts, t)
	}
	return ts
}()

// typeNames are the names of the event types, by type.
var typeNames = func() []string {
	names := make([]string, len(allTypes)+1)
	for _, t := range allTypes {
		names[t] = t.String()
	}
	return names
}()

// outcomeByName returns the outcome named exactly b.
func outcomeByName(b []byte) (audit.Outcome, bool) {
	switch string(b) {
	case "SUCCESS":
		return audit.Succeeded, true
	case "FAILURE":
		return audit.Failed, true
	}
	return 0, false
}
