package main

import (
	"bufio"
	"cmp"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/auditkit/audit"
)

var statsCommand = &command{
	name:    "stats",
	args:    "DIR [--since T] [--until T] [--module M]",
	summary: "count records per module, type and outcome, and the top failed logons",
	details: `Stats reads the records of DIR in the period (see 'auditlog help query'
for the time syntax) and prints how many there are per module, per event
type and per outcome, and the ten actors and the ten clients with the most
failed LOGON events.`,
	flags: func(e *env, c *command, set *flag.FlagSet) func([]string) int {
		f := &filter{}
		definePeriod(e, set, f)
		return func(args []string) int {
			if len(args) != 1 {
				return e.usageError(c, "want one directory, got %d arguments", len(args))
			}
			if err := f.check(); err != nil {
				return e.usageError(c, "%v", err)
			}
			return e.stats(c, args[0], f)
		}
	},
}

// topN is how many failed-logon actors and clients stats lists.
const topN = 10

type tally struct {
	records       int
	first, last   time.Time
	modules       map[string]int
	types         map[audit.EventType]int
	outcomes      map[audit.Outcome]int
	failedActors  map[string]int
	failedClients map[string]int
}

func (e *env) stats(c *command, dir string, f *filter) int {
	rep := newReporter(e)
	sc, status := e.openDir(c, dir, f, rep)
	if sc == nil {
		return status
	}
	defer sc.close()
	t := tally{
		modules:       map[string]int{},
		types:         map[audit.EventType]int{},
		outcomes:      map[audit.Outcome]int{},
		failedActors:  map[string]int{},
		failedClients: map[string]int{},
	}
	for {
		r, ok := sc.next()
		if !ok {
			break
		}
		tm := r.Event.Time
		if t.records == 0 || tm.Before(t.first) {
			t.first = tm
		}
		if t.records == 0 || tm.After(t.last) {
			t.last = tm
		}
		t.records++
		t.modules[r.Module]++
		t.types[r.Event.Type]++
		t.outcomes[r.Event.Outcome]++
		if r.Event.Type == audit.Logon && r.Event.Outcome == audit.Failed {
			t.failedActors[r.Event.Actor]++
			if r.Event.Client != "" {
				t.failedClients[r.Event.Client]++
			}
		}
	}
	out := &outWriter{w: e.stdout, rep: rep}
	bw := bufio.NewWriter(out)
	writeTally(bw, &t)
	if err := bw.Flush(); err != nil {
		return e.errorf(c, "write standard output: %v", err)
	}
	return rep.status()
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

	section(tw, "By module", t.modules, func(m string) string { return escapeText(m) })
	section(tw, "By event type", t.types, audit.EventType.String)
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
