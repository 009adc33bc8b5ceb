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
	// needles, when not nil, are texts of which the line of a record
	// that passes the filter holds one.
	needles *needles
	// needs are groups of texts: when the line holds no backslash (so that
	// every value is written literally in it), the line must contain a
	// text of each group.
	needs [][][]byte
	// apart holds, for each group of needs, whether a text of it holds
	// ':', '[' or ']': CEF and OCSF write a client that is an IP address
	// and port as two values (src and spt; src_endpoint.ip and .port),
	// without the brackets and the colon between them, so such a text of
	// the client can be missing from the line of a record that holds it.
	// Any other text of the client is within the address or the port.
	apart []bool
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
	for _, group := range lf.needs {
		apart := false
		for _, text := range group {
			apart = apart || bytes.ContainsAny(text, ":[]")
		}
		lf.apart = append(lf.apart, apart)
	}
	lf.needles = newNeedles(f)
	lf.leadOnly = len(f.grep) == 0
	for _, v := range []*valueFilter{&f.actor, &f.subject, &f.object, &f.client, &f.session} {
		if len(v.is)+len(v.not) > 0 {
			lf.leadOnly = false
		}
	}
	return lf
}

// needles are texts of which the line of a record that passes a filter
// holds one, by format.
//
// In BCM, a record of type T and outcome O holds "T O " (the leading
// fields are separated by single spaces, and seq follows the outcome):
// the needles are those of the types and outcomes the filter selects, or
// "O seq=" when it selects an outcome only. (They start with a capital
// letter, rarer in a line than a space: bytes.Index is quicker.)
//
// In JSON, the members may come in any order with spaces between, and a
// string may hold escapes: a record of type T holds T" unless its line
// holds a backslash. The needles are T" for the types selected (or O" for
// an outcome only), and the backslash.
type needles struct {
	bcm, json [][]byte
}

// maxNeedles is the most needles searched for: beyond it, lines are
// decided one by one.
const maxNeedles = 8

// newNeedles returns the needles of f, or nil when f selects every type
// and outcome, or too many.
func newNeedles(f *filter) *needles {
	n := &needles{}
	switch {
	case f.typeIn != nil:
		for _, t := range allTypes {
			if !f.matchType(t) {
				continue
			}
			n.json = append(n.json, []byte(t.String()+`"`))
			for _, o := range []audit.Outcome{audit.Succeeded, audit.Failed} {
				if f.outcome == nil || *f.outcome == o {
					n.bcm = append(n.bcm, []byte(t.String()+" "+o.String()+" "))
				}
			}
		}
	case f.outcome != nil:
		n.bcm = [][]byte{[]byte(f.outcome.String() + " seq=")}
		n.json = [][]byte{[]byte(f.outcome.String() + `"`)}
	default:
		return nil
	}
	if len(n.bcm) == 0 || len(n.bcm) > maxNeedles || len(n.json) > maxNeedles {
		return nil
	}
	n.json = append(n.json, []byte(`\`))
	return n
}

// The formats of record lines, told apart by their first bytes as
// audit.ParseRecord does: CEF starts with cefStart, OCSF with ocsfStart,
// JSON with any other '{', and BCM is anything else.
const (
	formatBCM = iota
	formatJSON
	formatCEF
	formatOCSF

	cefStart  = "CEF:"
	ocsfStart = `{"class_uid":`
)

// formatOf returns the format of the record line that starts line.
func formatOf(line []byte) int {
	switch {
	case bytes.HasPrefix(line, []byte(cefStart)):
		return formatCEF
	case bytes.HasPrefix(line, []byte(ocsfStart)):
		return formatOCSF
	case len(line) > 0 && line[0] == '{':
		return formatJSON
	}
	return formatBCM
}

// skipper passes over the lines of a file that hold none of the needles
// of its format (see [needles]), for an [audit.LineReader]'s SetSkip. The
// format is that of the file's first line (CEF and OCSF files are read
// line by line); a line of another format, or a file where most lines hold
// a needle (where searching costs more than it saves), stops the passing
// over for the rest of the file: skip then passes over nothing, and off is
// set.
type skipper struct {
	needles *needles
	these   [][]byte // the needles of the file's format, once known
	json    bool     // the file is JSON
	off     bool
	// checked is how many bytes at the start of the lines given next are
	// known to be lines of the file's format.
	checked int
	// The bytes of the lines returned as holding a needle, of how many,
	// and of those passed over.
	found, foundLines, passed int
}

// skip is the skip function of an audit.LineReader (see SetSkip).
func (k *skipper) skip(lines []byte) int {
	if k.off {
		return 0
	}
	if k.these == nil {
		// The first line tells the format: the needles are those of BCM
		// and of the library's JSON; CEF and OCSF lines are decided one
		// by one.
		switch formatOf(lines) {
		case formatBCM:
			k.these, k.json = k.needles.bcm, false
		case formatJSON:
			k.these, k.json = k.needles.json, true
		default:
			k.off = true
			return 0
		}
	}
	if k.checked < len(lines) {
		// Every record in lines[k.checked:] must be of the format (see
		// formatOf). In BCM, a line of another format starts with '{'
		// (JSON, OCSF) or cefStart. In JSON, where every line starts
		// with '{', a BCM record holds " seq=", an OCSF record ocsfStart
		// and a CEF record cefStart; a JSON record holds none of them
		// but in a value, which only stops the passing over. Every
		// pattern is rare in a file of the format, so that counting is
		// quick; the lines checked before end with a newline.
		seg := lines[max(k.checked-1, 0):]
		var other int
		if k.json {
			other = bytes.Count(seg, []byte(" seq=")) + bytes.Count(seg, []byte(ocsfStart)) + bytes.Count(seg, []byte(cefStart))
		} else {
			other = bytes.Count(seg, []byte("\n{")) + bytes.Count(seg, []byte("\n"+cefStart))
			if k.checked == 0 && formatOf(seg) != formatBCM {
				other++
			}
		}
		if other != 0 {
			k.off = true // mixed formats
			return 0
		}
		k.checked = len(lines)
	}
	region := lines
	p := -1
	for _, s := range k.these {
		if i := bytes.Index(region, s); i >= 0 && (p < 0 || i < p) {
			p = i
			region = region[:i+len(s)] // search no further for the others
		}
	}
	if p < 0 {
		k.checked = 0
		k.passed += len(lines)
		return len(lines)
	}
	start := bytes.LastIndexByte(region[:p], '\n') + 1
	end := start + bytes.IndexByte(lines[start:], '\n') + 1
	k.checked = len(lines) - end // the reader returns lines[start:end]
	k.passed += start
	k.found += end - start
	if k.foundLines++; k.foundLines >= 256 && k.passed < 2*k.found {
		k.off = true // most lines hold a needle
	}
	return start
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
		format := formatOf(line)
		splitsClient := format == formatCEF || format == formatOCSF
		for i, group := range lf.needs {
			if !containsAny(line, group) && !(splitsClient && lf.apart[i]) {
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
