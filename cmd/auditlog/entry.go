package main

import (
	"time"

	"github.com/auditkit/audit"
)

// entry is a record read from an audit file: its line, and what has been
// read of it so far. The line is parsed in full only when needed.
type entry struct {
	line    []byte // the line as in the file, without its newline
	hasLead bool   // lead holds the leading fields of line
	lead    lead
	time    time.Time
	parsed  bool // rec holds the record of line
	rec     audit.Record
	file    *auditFile // nil when not read from an audit directory
	lineNo  int
}

// recordEntry returns the entry of a parsed record, whose line is line
// (or nil if unknown).
func recordEntry(rec *audit.Record, line []byte) *entry {
	return &entry{line: line, parsed: true, rec: *rec, time: rec.Event.Time}
}

// record returns the record of en, parsing its line if need be.
func (en *entry) record() (*audit.Record, error) {
	if !en.parsed {
		rec, err := audit.ParseRecord(en.line)
		if err != nil {
			return nil, err
		}
		en.rec, en.parsed = rec, true
	}
	return &en.rec, nil
}

// isJSON reports whether the line of en is JSON.
func (en *entry) isJSON() bool { return len(en.line) > 0 && en.line[0] == '{' }

// typ returns the event type of en, from its leading fields if read.
func (en *entry) typ() audit.EventType {
	if en.parsed {
		return en.rec.Event.Type
	}
	return en.lead.typ
}

// outcome returns the outcome of en, from its leading fields if read.
func (en *entry) outcome() audit.Outcome {
	if en.parsed {
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
