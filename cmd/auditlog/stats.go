package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/auditkit/audit"
)

var statsCommand = &command{
	name:    "stats",
	args:    "DIR [--since T] [--until T] [--module M] [--output text|json]",
	summary: "count records per module, type and outcome, and the top failed logons",
	details: `Stats reads the records of DIR in the period (see 'auditlog help query'
for the time syntax) and prints how many there are per module, per event
type and per outcome, and the ten actors and the ten clients with the most
failed LOGON events. --output json prints the same as one JSON object.

Like query, stats reads a line only as far as it needs (the leading time,
module, type and outcome, and in full for failed logons); --strict parses
every line in full and reports any that is malformed.`,
	flags: func(e *env, c *command, set *flag.FlagSet) func([]string) int {
		f := &filter{}
		definePeriod(e, set, f)
		set.BoolVar(&f.strict, "strict", false, "parse every line in full and report any that is malformed (slower)")
		asJSON := false
		set.Func("output", "output `format`: text or json", func(s string) error {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "text":
				asJSON = false
			case "json":
				asJSON = true
			default:
				return errors.New("want text or json")
			}
			return nil
		})
		return func(args []string) int {
			if len(args) != 1 {
				return e.usageError(c, "want one directory, got %d arguments", len(args))
			}
			if err := f.check(); err != nil {
				return e.usageError(c, "%v", err)
			}
			return e.stats(c, args[0], f, asJSON)
		}
	},
}

// topN is how many failed-logon actors and clients stats lists.
const topN = 10

type tally struct {
	records       int
	first, last   time.Time
	modules       map[string]*int
	types         [256]int
	outcomes      [3]int // by audit.Outcome; 0 is unused
	failedActors  map[string]int
	failedClients map[string]int
}

func newTally() *tally {
	return &tally{modules: map[string]*int{}, failedActors: map[string]int{}, failedClients: map[string]int{}}
}

// add counts en. The error is about a line that had to be parsed.
func (t *tally) add(en *entry) error {
	tm := en.when()
	if t.records == 0 || tm.Before(t.first) {
		t.first = tm
	}
	if t.records == 0 || tm.After(t.last) {
		t.last = tm
	}
	typ, outcome := en.typ(), en.outcome()
	if typ == audit.Logon && outcome == audit.Failed {
		r, err := en.record()
		if err != nil {
			return err
		}
		t.failedActors[r.Event.Actor]++
		if r.Event.Client != "" {
			t.failedClients[r.Event.Client]++
		}
	}
	t.records++
	var n *int
	if en.rec != nil {
		n = t.modules[en.rec.Module]
	} else {
		n = t.modules[string(en.lead.module)]
	}
	if n == nil {
		n = new(int)
		if en.rec != nil {
			t.modules[en.rec.Module] = n
		} else {
			t.modules[string(en.lead.module)] = n
		}
	}
	*n++
	t.types[typ]++
	t.outcomes[outcome]++
	return nil
}

func (e *env) stats(c *command, dir string, f *filter, asJSON bool) int {
	rep := newReporter(e)
	sc, status := e.openDir(c, dir, f, rep)
	if sc == nil {
		return status
	}
	defer sc.close()
	t := newTally()
	for {
		en, ok := sc.next()
		if !ok {
			break
		}
		if err := t.add(en); err != nil {
			rep.problem("%s:%d: %v", en.path(), en.lineNo, err)
		}
	}
	out := &outWriter{w: e.stdout, rep: rep}
	bw := bufio.NewWriter(out)
	if asJSON {
		writeTallyJSON(bw, t)
	} else {
		writeTally(bw, t)
	}
	if err := bw.Flush(); err != nil {
		return e.errorf(c, "write standard output: %v", err)
	}
	return rep.status()
}

// tallyJSON is the JSON form of a tally.
type tallyJSON struct {
	Records            int            `json:"records"`
	First              *time.Time     `json:"first,omitempty"`
	Last               *time.Time     `json:"last,omitempty"`
	Modules            map[string]int `json:"modules"`
	Types              map[string]int `json:"types"`
	Outcomes           map[string]int `json:"outcomes"`
	FailedLogonActors  []keyCount     `json:"failedLogonActors"`
	FailedLogonClients []keyCount     `json:"failedLogonClients"`
}

type keyCount struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

// writeTallyJSON prints t as one JSON object.
func writeTallyJSON(w io.Writer, t *tally) {
	j := tallyJSON{Records: t.records, Modules: map[string]int{}, Types: map[string]int{},
		Outcomes:          map[string]int{"SUCCESS": t.outcomes[audit.Succeeded], "FAILURE": t.outcomes[audit.Failed]},
		FailedLogonActors: []keyCount{}, FailedLogonClients: []keyCount{}}
	if t.records > 0 {
		first, last := t.first.UTC(), t.last.UTC()
		j.First, j.Last = &first, &last
	}
	for m, n := range t.modules {
		j.Modules[m] = *n
	}
	for _, typ := range allTypes {
		if n := t.types[typ]; n > 0 {
			j.Types[typ.String()] = n
		}
	}
	for _, k := range topKeys(t.failedActors) {
		j.FailedLogonActors = append(j.FailedLogonActors, keyCount{k, t.failedActors[k]})
	}
	for _, k := range topKeys(t.failedClients) {
		j.FailedLogonClients = append(j.FailedLogonClients, keyCount{k, t.failedClients[k]})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(j)
}

// topKeys returns the topN keys of m with the largest counts.
func topKeys(m map[string]int) []string {
	keys := byCount(m)
	return keys[:min(topN, len(keys))]
}

// writeTally prints t as sections of aligned text.
func writeTally(w io.Writer, t *tally) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	const layout = "2006-01-02T15:04:05.000000Z"
	if t.records == 0 {
		fmt.Fprintf(tw, "Records\t0\n")
	} else {
		fmt.Fprintf(tw, "Records\t%d\tfrom %s to %s\n", t.records, t.first.UTC().Format(layout), t.last.UTC().Format(layout))
	}

	modules := map[string]int{}
	for m, n := range t.modules {
		modules[m] = *n
	}
	types := map[audit.EventType]int{}
	for _, typ := range allTypes {
		if n := t.types[typ]; n > 0 {
			types[typ] = n
		}
	}
	section(tw, "By module", modules, func(m string) string { return escapeText(m) })
	section(tw, "By event type", types, audit.EventType.String)
	fmt.Fprintf(tw, "\nBy outcome\n")
	for _, o := range []audit.Outcome{audit.Succeeded, audit.Failed} {
		fmt.Fprintf(tw, "  %s\t%d\n", o, t.outcomes[o])
	}
	top(tw, "Top actors with failed LOGON", t.failedActors)
	top(tw, "Top clients with failed LOGON", t.failedClients)
	tw.Flush()
}

// section prints every count of m, largest first, ties in key order.
func section[K cmp.Ordered](w io.Writer, title string, m map[K]int, name func(K) string) {
	fmt.Fprintf(w, "\n%s\n", title)
	if len(m) == 0 {
		fmt.Fprintf(w, "  (none)\n")
	}
	for _, k := range byCount(m) {
		fmt.Fprintf(w, "  %s\t%d\n", name(k), m[k])
	}
}

// top prints the topN largest counts of m; the empty key is shown as "-".
func top(w io.Writer, title string, m map[string]int) {
	fmt.Fprintf(w, "\n%s\n", title)
	keys := byCount(m)
	if len(keys) == 0 {
		fmt.Fprintf(w, "  (none)\n")
	}
	for _, k := range keys[:min(topN, len(keys))] {
		fmt.Fprintf(w, "  %s\t%d\n", escapeText(k), m[k])
	}
}

// byCount returns the keys of m, largest count first, ties in key order.
func byCount[K cmp.Ordered](m map[K]int) []K {
	return slices.SortedFunc(maps.Keys(m), func(a, b K) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
}
