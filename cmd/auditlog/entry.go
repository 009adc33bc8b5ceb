package main

import (
	"bytes"
	"time"

	"github.com/auditkit/audit"
)

// entry is a record read from an audit file: its line, and what has been
// read of it so far. The line is parsed in full only when needed.
type entry struct {
	line    []byte // the line as in the file, without its newline
	hasLead bool   // lead holds the leading fields of line
	lead    lead
	rec     *audit.Record // the record of line once parsed, else nil
	file    *auditFile    // nil when not read from an audit directory
	lineNo  int
}

// recordEntry returns the entry of a parsed record, whose line is line
// (or nil if unknown).
func recordEntry(rec *audit.Record, line []byte) *entry {
	return &entry{line: line, rec: rec}
}

// record returns the record of en, parsing its line if need be.
func (en *entry) record() (*audit.Record, error) {
	if en.rec == nil {
		rec, err := audit.ParseRecord(en.line)
		if err != nil {
			return nil, err
		}
		en.rec = &rec
	}
	return en.rec, nil
}

// when returns the time of the record of en. A record that was not
// parsed has leading fields with a valid canonical time.
func (en *entry) when() time.Time {
	if en.rec != nil {
		return en.rec.Event.Time
	}
	t, _ := parseCanonicalTime(en.lead.time)
	return t
}

// compareTime compares the times of the records of a and b. Times in the
// canonical form compare as their bytes, without being parsed: when a
// line has leading fields and parses, its time is the canonical form of
// the record's time.
func compareTime(a, b *entry) int {
	if a.hasLead && b.hasLead {
		return bytes.Compare(a.lead.time, b.lead.time)
	}
	return a.when().Compare(b.when())
}

// inFormat reports whether the line of en is a record in format (see
// formatOf).
func (en *entry) inFormat(format int) bool {
	return len(en.line) > 0 && formatOf(en.line) == format
}

// typ returns the event type of en, from its leading fields if read.
func (en *entry) typ() audit.EventType {
	if en.rec != nil {
		return en.rec.Event.Type
	}
	return en.lead.typ
}

// outcome returns the outcome of en, from its leading fields if read.
func (en *entry) outcome() audit.Outcome {
	if en.rec != nil {
		return en.rec.Event.Outcome
	}
	return en.lead.outcome
}

// path returns the name of the file of en, or "".
func (en *entry) path() string {
	if en.file == nil {
		return ""
	}
	return en.file.path
}
