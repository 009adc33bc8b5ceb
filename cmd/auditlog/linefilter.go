package main

import (
	"bytes"
	"time"

	"github.com/auditkit/audit"
)

// verdict is what a lineFilter decides about a line.
type verdict uint8

const (
	reject  verdict = iota // the record cannot pass the filter
	accept                 // the record passes if the line is a record
	inspect                // parse the line in full and match the record
)

// lineFilter is a filter compiled for deciding on a record's line before
// it is parsed: from the leading fields ([readLead]), and from the values
// that must occur in the line.
//
// Its decisions never drop a record that parsing in full and matching
// would select (FuzzLineFilter checks this). A line whose leading fields
// are well formed and rule the record out is skipped without reading
// further, so the rest of it is not checked: run query with --strict, or
// verify, to have every line parsed.
type lineFilter struct {
	f *filter
	// since and until in the canonical form of record times, rounded up to
	// the microsecond that records carry; nil when not set or outside the
	// years a record can carry.
	since, until []byte
	// The lead decides f alone: no other field is filtered on.
	leadOnly bool
	// types are the types that f selects, by type.
	types [256]bool
	// needles, when not nil, are texts of which the line of a BCM record
	// that passes the filter holds one: "TYPE OUTCOME ", for the types and
	// outcomes the filter selects. BCM separates the leading fields by
	// single spaces and seq follows the outcome, so every such record holds
	// its needle. (It starts with the type's capital letter, which is
	// rarer in a line than the space before it: bytes.Index is quicker.)
	needles [][]byte
	// needs are groups of texts: when the line holds no backslash (so that
	// every value is written literally in it), the line must contain a
	// text of each group.
	needs [][][]byte
}

// compile returns the lineFilter of f.
func (f *filter) compile() *lineFilter {
	lf := &lineFilter{f: f, since: canonicalBound(f.since), until: canonicalBound(f.until)}
	for i := range lf.types {
		lf.types[i] = f.matchType(audit.EventType(i))
	}
	for _, v := range []*valueFilter{&f.actor, &f.subject, &f.object, &f.client, &f.session} {
		if len(v.is) == 0 {
			continue
		}
		var group [][]byte
		for _, s := range v.is {
			group = append(group, []byte(s))
		}
		lf.needs = append(lf.needs, group)
	}
	for _, g := range f.grep {
		lf.needs = append(lf.needs, [][]byte{[]byte(g)})
	}
	lf.needles = bcmNeedles(f)
	lf.leadOnly = len(f.grep) == 0
	for _, v := range []*valueFilter{&f.actor, &f.subject, &f.object, &f.client, &f.session} {
		if len(v.is)+len(v.not) > 0 {
			lf.leadOnly = false
		}
	}
	return lf
}

// maxNeedles is the most needles searched for: beyond it, lines are
// decided one by one.
const maxNeedles = 8

// bcmNeedles returns the needles of f, or nil when f selects every type or
// more pairs of type and outcome than maxNeedles.
func bcmNeedles(f *filter) [][]byte {
	if f.typeIn == nil {
		return nil
	}
	var needles [][]byte
	for _, t := range allTypes {
		if !f.matchType(t) {
			continue
		}
		for _, o := range []audit.Outcome{audit.Succeeded, audit.Failed} {
			if f.outcome == nil || *f.outcome == o {
				needles = append(needles, []byte(t.String()+" "+o.String()+" "))
			}
		}
	}
	if len(needles) == 0 || len(needles) > maxNeedles {
		return nil
	}
	return needles
}

// canonicalBound returns t as a record time would be written, rounded up
// to the microsecond, or nil for the zero time or one outside the years
// 0000 to 9999.
func canonicalBound(t time.Time) []byte {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	if r := t.Truncate(time.Microsecond); !r.Equal(t) {
		t = r.Add(time.Microsecond)
	}
	if t.Year() < 0 || t.Year() > 9999 {
		return nil
	}
	return t.AppendFormat(nil, "2006-01-02T15:04:05.000000Z")
}

// decide decides on line, whose leading fields are in l when hasLead.
func (lf *lineFilter) decide(line []byte, l *lead, hasLead bool) verdict {
	if len(lf.needs) > 0 && bytes.IndexByte(line, '\\') < 0 {
		for _, group := range lf.needs {
			if !containsAny(line, group) {
				return reject
			}
		}
	}
	if !hasLead {
		return inspect
	}
	f := lf.f
	switch {
	case lf.since != nil && bytes.Compare(l.time, lf.since) < 0,
		lf.until != nil && bytes.Compare(l.time, lf.until) >= 0,
		!lf.types[l.typ],
		f.outcome != nil && l.outcome != *f.outcome,
		f.module != "" && string(l.module) != f.module:
		return reject
	}
	if lf.leadOnly && (f.since.IsZero() || lf.since != nil) && (f.until.IsZero() || lf.until != nil) {
		return accept
	}
	return inspect
}

func containsAny(line []byte, texts [][]byte) bool {
	for _, t := range texts {
		if bytes.Contains(line, t) {
			return true
		}
	}
	return false
}
