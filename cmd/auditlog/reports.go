package main

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/auditkit/audit"
)

var reportCommand = &command{
	name:    "report",
	args:    "logons|failures|changes|sessions|daily DIR [filters] [--output table|csv|json]",
	summary: "summary reports: failed logons, failures, changes, sessions, counts per day",
	details: `Report reads the records of DIR that pass the filters (the same as query's:
see 'auditlog help query') and prints one summary:

  logons    LOGON events by actor and client: failed and successful
            attempts, and the first and last failure; most failures first.
  failures  failed events of every type by type, actor and client, with
            the first and last time; most first.
  changes   every change to users, access rights and configuration
            (USER_CHANGE, ACCESS_CHANGE, NO_CONSENT_OVERRIDE,
            SYSTEM_CONFIG_CHANGE, AUDIT_CONFIG_CHANGE) with its old and
            new value, file and line, in time order.
  sessions  records by session: actor, client, first and last time,
            records and failures.
  daily     records per day (UTC, or local with --local) and event type,
            with successes and failures.

The last column of every row, QUERY, is the 'auditlog query' command that
prints the records the row counts, with the filters given to report, to
drill down. --output csv and json print the same rows (json as an array of
objects keyed by the column names in lower case).`,
	flags: func(e *env, c *command, set *flag.FlagSet) func([]string) int {
		f := &filter{}
		defineFilters(e, set, f)
		opts := &reportOptions{}
		output := func(s string) error {
			switch v := strings.ToLower(strings.TrimSpace(s)); v {
			case "table", "csv", "json":
				opts.format = v
				return nil
			}
			return errors.New("want table, csv or json")
		}
		set.Func("output", "output `format`: table, csv or json", output)
		set.Func("o", "same as --output `format`", output)
		set.BoolFunc("local", "days and times in the local time zone, not UTC", func(string) error {
			opts.loc = time.Local
			return nil
		})
		return func(args []string) int {
			if len(args) != 2 {
				return e.usageError(c, "want a report name and one directory, got %d arguments", len(args))
			}
			rp := lookupReport(args[0])
			if rp == nil {
				return e.usageError(c, "unknown report %q; want one of %s", args[0], reportNames())
			}
			if err := f.check(); err != nil {
				return e.usageError(c, "%v", err)
			}
			opts.dir = args[1]
			return e.report(c, rp, f, opts)
		}
	},
}

// reportOptions are how a report is read and printed.
type reportOptions struct {
	dir    string         // the audit directory, for the drill-down commands
	format string         // table (the default), csv or json
	loc    *time.Location // nil for UTC
	// drillTo, when set, makes a row's drill-down out of the query flags
	// that select its records, instead of the query command.
	drillTo func(flags []string) string
}

// reportKind is one of the reports.
type reportKind struct {
	name string
	// restrict narrows the filter to the records the report looks at, so
	// that the others are skipped before they are parsed.
	restrict func(f *filter)
	// newTable returns an empty table of the report.
	newTable func(o *reportOptions, f *filter) reportTable
}

// reportTable gathers the rows of a report.
type reportTable interface {
	add(r *audit.Record)
	// table returns the column names and the rows, the drill-down query
	// last.
	table() (header []string, rows [][]string)
}

var reportKinds = []*reportKind{
	{"logons", func(f *filter) { restrictTypes(f, audit.Logon) }, newLogonsTable},
	{"failures", func(f *filter) { o := audit.Failed; f.outcome = &o }, newFailuresTable},
	{"changes", func(f *filter) {
		restrictTypes(f, audit.UserChange, audit.AccessChange, audit.NoConsentOverride, audit.SystemConfigChange, audit.AuditConfigChange)
	}, newChangesTable},
	{"sessions", func(*filter) {}, newSessionsTable},
	{"daily", func(*filter) {}, newDailyTable},
}

func lookupReport(name string) *reportKind {
	for _, k := range reportKinds {
		if strings.EqualFold(k.name, name) {
			return k
		}
	}
	return nil
}

func reportNames() string {
	names := make([]string, len(reportKinds))
	for i, k := range reportKinds {
		names[i] = k.name
	}
	return strings.Join(names, ", ")
}

// restrictTypes keeps only types among the types f selects.
func restrictTypes(f *filter, types ...audit.EventType) {
	in := map[audit.EventType]bool{}
	for _, t := range types {
		if f.matchType(t) {
			in[t] = true
		}
	}
	f.typeIn = in
}

func (e *env) report(c *command, kind *reportKind, user *filter, o *reportOptions) int {
	rep := newReporter(e)
	f := *user
	kind.restrict(&f)
	sc, status := e.openDir(c, o.dir, &f, rep)
	if sc == nil {
		return status
	}
	defer sc.close()
	t := kind.newTable(o, user)
	for {
		en, ok := sc.next()
		if !ok {
			break
		}
		r, err := en.record()
		if err != nil {
			rep.problem("%s:%d: %v", en.path(), en.lineNo, err)
			continue
		}
		t.add(r)
	}
	out := &outWriter{w: e.stdout, rep: rep}
	header, rows := t.table()
	if err := writeReport(out, o.format, header, rows); err != nil {
		return e.errorf(c, "write standard output: %v", err)
	}
	return rep.status()
}

// writeReport prints rows under header in format: an aligned table, CSV
// or a JSON array of objects.
func writeReport(w io.Writer, format string, header []string, rows [][]string) error {
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		cw.UseCRLF = true
		cw.Write(header)
		for _, row := range rows {
			cells := make([]string, len(row))
			for i, v := range row {
				cells[i] = csvCell(v)
			}
			cw.Write(cells)
		}
		cw.Flush()
		return cw.Error()
	case "json":
		objs := make([]map[string]string, 0, len(rows))
		for _, row := range rows {
			obj := map[string]string{}
			for i, v := range row {
				obj[strings.ToLower(header[i])] = v
			}
			objs = append(objs, obj)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(objs)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, v := range row {
			if i == len(row)-1 {
				cells[i] = v // the query is quoted for the shell already
			} else {
				cells[i] = escapeText(v)
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if len(rows) == 0 {
		fmt.Fprintln(tw, "(none)")
	}
	return tw.Flush()
}

// drill returns the query command that prints the records of a row: those
// of the report's filter f, narrowed by the flags of the row (or what
// o.drillTo makes of those flags).
func (o *reportOptions) drill(f *filter, row ...string) string {
	flags := append(filterArgs(f), row...)
	if o.drillTo != nil {
		return o.drillTo(flags)
	}
	args := append([]string{"auditlog", "query", o.dir}, flags...)
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// filterArgs returns the flags that select what f selects.
func filterArgs(f *filter) []string {
	var a []string
	if !f.since.IsZero() {
		a = append(a, "--since", f.since.UTC().Format(time.RFC3339Nano))
	}
	if !f.until.IsZero() {
		a = append(a, "--until", f.until.UTC().Format(time.RFC3339Nano))
	}
	if f.module != "" {
		a = append(a, "--module", f.module)
	}
	if f.typeIn != nil || f.typeOut != nil {
		var names []string
		// Both sets as they are, so that the arguments parse back to the
		// same filter: a type both selected and left out selects nothing.
		for _, t := range allTypes {
			if f.typeIn[t] {
				names = append(names, t.String())
			}
		}
		for _, t := range allTypes {
			if f.typeOut[t] {
				names = append(names, "!"+t.String())
			}
		}
		a = append(a, "--type", strings.Join(names, ","))
	}
	if f.outcome != nil {
		a = append(a, "--outcome", strings.ToLower(f.outcome.String()))
	}
	for _, v := range []struct {
		name string
		vf   *valueFilter
	}{{"actor", &f.actor}, {"subject", &f.subject}, {"object", &f.object}, {"client", &f.client}, {"session", &f.session}} {
		for _, s := range v.vf.is {
			a = append(a, "--"+v.name, valueArg(s))
		}
		for _, s := range v.vf.not {
			a = append(a, "--"+v.name, "!"+s)
		}
	}
	for _, g := range f.grep {
		a = append(a, "--grep", g)
	}
	return a
}

// valueArg returns the value of an exact-match flag that selects s: s
// itself, or with a backslash in front when it starts with '!' or with a
// backslash followed by '!' or a backslash, which valueFilter.set takes
// off.
func valueArg(s string) string {
	if strings.HasPrefix(s, "!") || strings.HasPrefix(s, `\!`) || strings.HasPrefix(s, `\\`) {
		return `\` + s
	}
	return s
}

// shellQuote quotes s for a POSIX shell when it needs it, and for bash
// as $'...' with escapes when it holds a byte that is not printable, so
// that the command stays on one line and shows what it holds.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:/=+@") == "" {
		return s
	}
	if !printable(s) {
		var b strings.Builder
		b.WriteString("$'")
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c == '\\' || c == '\'':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20 || c == 0x7f:
				fmt.Fprintf(&b, `\x%02x`, c)
			default:
				r, n := utf8.DecodeRuneInString(s[i:])
				if r == utf8.RuneError && n == 1 || !unicode.IsPrint(r) && r != ' ' {
					for j := range n {
						fmt.Fprintf(&b, `\x%02x`, s[i+j])
					}
				} else {
					b.WriteString(s[i : i+n])
				}
				i += n - 1
			}
		}
		b.WriteByte('\'')
		return b.String()
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// printable reports whether s is valid UTF-8 of printable runes and
// spaces.
func printable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			return false
		}
	}
	return true
}

// span is a count with the first and last time.
type span struct {
	n           int
	first, last time.Time
}

func (s *span) add(t time.Time) {
	if s.n == 0 || t.Before(s.first) {
		s.first = t
	}
	if s.n == 0 || t.After(s.last) {
		s.last = t
	}
	s.n++
}

// timeText formats t for a report.
func (o *reportOptions) timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if o.loc != nil {
		return t.In(o.loc).Format("2006-01-02T15:04:05.000000Z07:00")
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

// logonsTable is the logons report.
type logonsTable struct {
	o    *reportOptions
	f    *filter
	rows map[[2]string]*logonRow
}

type logonRow struct {
	failed    span
	succeeded int
}

func newLogonsTable(o *reportOptions, f *filter) reportTable {
	return &logonsTable{o: o, f: f, rows: map[[2]string]*logonRow{}}
}

func (t *logonsTable) add(r *audit.Record) {
	k := [2]string{r.Event.Actor, r.Event.Client}
	row := t.rows[k]
	if row == nil {
		row = &logonRow{}
		t.rows[k] = row
	}
	if r.Event.Outcome == audit.Failed {
		row.failed.add(r.Event.Time)
	} else {
		row.succeeded++
	}
}

func (t *logonsTable) table() ([]string, [][]string) {
	keys := slices.SortedFunc(maps.Keys(t.rows), func(a, b [2]string) int {
		if c := cmp.Compare(t.rows[b].failed.n, t.rows[a].failed.n); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	var rows [][]string
	for _, k := range keys {
		row := t.rows[k]
		drill := []string{"--type", "LOGON", "--actor", valueArg(k[0])}
		if k[1] != "" {
			drill = append(drill, "--client", valueArg(k[1]))
		}
		if row.failed.n > 0 {
			drill = append(drill, "--outcome", "failure")
		}
		rows = append(rows, []string{k[0], k[1], strconv.Itoa(row.failed.n), strconv.Itoa(row.succeeded),
			t.o.timeText(row.failed.first), t.o.timeText(row.failed.last), t.o.drill(t.f, drill...)})
	}
	return []string{"ACTOR", "CLIENT", "FAILED", "SUCCEEDED", "FIRST_FAILURE", "LAST_FAILURE", "QUERY"}, rows
}

// failuresTable is the failures report.
type failuresTable struct {
	o    *reportOptions
	f    *filter
	rows map[failureKey]*span
}

type failureKey struct {
	typ           audit.EventType
	actor, client string
}

func newFailuresTable(o *reportOptions, f *filter) reportTable {
	return &failuresTable{o: o, f: f, rows: map[failureKey]*span{}}
}

func (t *failuresTable) add(r *audit.Record) {
	k := failureKey{r.Event.Type, r.Event.Actor, r.Event.Client}
	s := t.rows[k]
	if s == nil {
		s = &span{}
		t.rows[k] = s
	}
	s.add(r.Event.Time)
}

func (t *failuresTable) table() ([]string, [][]string) {
	keys := slices.SortedFunc(maps.Keys(t.rows), func(a, b failureKey) int {
		if c := cmp.Compare(t.rows[b].n, t.rows[a].n); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.typ, b.typ), cmp.Compare(a.actor, b.actor), cmp.Compare(a.client, b.client))
	})
	var rows [][]string
	for _, k := range keys {
		s := t.rows[k]
		drill := []string{"--type", k.typ.String(), "--outcome", "failure"}
		if k.actor != "" {
			drill = append(drill, "--actor", valueArg(k.actor))
		}
		if k.client != "" {
			drill = append(drill, "--client", valueArg(k.client))
		}
		rows = append(rows, []string{k.typ.String(), k.actor, k.client, strconv.Itoa(s.n),
			t.o.timeText(s.first), t.o.timeText(s.last), t.o.drill(t.f, drill...)})
	}
	return []string{"TYPE", "ACTOR", "CLIENT", "COUNT", "FIRST", "LAST", "QUERY"}, rows
}

// changesTable is the changes report: one row per record, in time order.
type changesTable struct {
	o    *reportOptions
	f    *filter
	rows [][]string
}

func newChangesTable(o *reportOptions, f *filter) reportTable {
	return &changesTable{o: o, f: f}
}

func (t *changesTable) add(r *audit.Record) {
	e := &r.Event
	// The drill-down selects the record by its module, type and time.
	at := e.Time.UTC()
	drill := t.o.drill(&filter{}, "--module", r.Module, "--type", e.Type.String(),
		"--since", at.Format(time.RFC3339Nano), "--until", at.Add(time.Microsecond).Format(time.RFC3339Nano))
	t.rows = append(t.rows, []string{t.o.timeText(e.Time), r.Module, strconv.FormatUint(r.Seq, 10), e.Type.String(),
		e.Outcome.String(), e.Actor, e.Subject, e.Object, e.OldValue, e.NewValue, e.Reason, drill})
}

func (t *changesTable) table() ([]string, [][]string) {
	return []string{"TIME", "MODULE", "SEQ", "TYPE", "OUTCOME", "ACTOR", "SUBJECT", "OBJECT", "OLD", "NEW", "REASON", "QUERY"}, t.rows
}

// sessionsTable is the sessions report.
type sessionsTable struct {
	o    *reportOptions
	f    *filter
	rows map[string]*sessionRow
}

type sessionRow struct {
	actor, client string
	span          span
	failures      int
}

func newSessionsTable(o *reportOptions, f *filter) reportTable {
	return &sessionsTable{o: o, f: f, rows: map[string]*sessionRow{}}
}

func (t *sessionsTable) add(r *audit.Record) {
	e := &r.Event
	if e.Session == "" {
		return
	}
	row := t.rows[e.Session]
	if row == nil {
		row = &sessionRow{}
		t.rows[e.Session] = row
	}
	if row.actor == "" {
		row.actor = e.Actor
	}
	if row.client == "" {
		row.client = e.Client
	}
	row.span.add(e.Time)
	if e.Outcome == audit.Failed {
		row.failures++
	}
}

func (t *sessionsTable) table() ([]string, [][]string) {
	keys := slices.SortedFunc(maps.Keys(t.rows), func(a, b string) int {
		return cmp.Or(t.rows[a].span.first.Compare(t.rows[b].span.first), cmp.Compare(a, b))
	})
	var rows [][]string
	for _, k := range keys {
		row := t.rows[k]
		rows = append(rows, []string{k, row.actor, row.client, t.o.timeText(row.span.first), t.o.timeText(row.span.last),
			strconv.Itoa(row.span.n), strconv.Itoa(row.failures), t.o.drill(t.f, "--session", valueArg(k))})
	}
	return []string{"SESSION", "ACTOR", "CLIENT", "FIRST", "LAST", "RECORDS", "FAILURES", "QUERY"}, rows
}

// dailyTable is the daily report.
type dailyTable struct {
	o    *reportOptions
	f    *filter
	rows map[dayType]*[3]int // by audit.Outcome; 0 is unused
}

type dayType struct {
	day time.Time // midnight
	typ audit.EventType
}

func newDailyTable(o *reportOptions, f *filter) reportTable {
	return &dailyTable{o: o, f: f, rows: map[dayType]*[3]int{}}
}

func (t *dailyTable) add(r *audit.Record) {
	loc := t.o.loc
	if loc == nil {
		loc = time.UTC
	}
	tm := r.Event.Time.In(loc)
	k := dayType{time.Date(tm.Year(), tm.Month(), tm.Day(), 0, 0, 0, 0, loc), r.Event.Type}
	n := t.rows[k]
	if n == nil {
		n = new([3]int)
		t.rows[k] = n
	}
	n[r.Event.Outcome]++
}

func (t *dailyTable) table() ([]string, [][]string) {
	keys := slices.SortedFunc(maps.Keys(t.rows), func(a, b dayType) int {
		return cmp.Or(a.day.Compare(b.day), cmp.Compare(a.typ, b.typ))
	})
	var rows [][]string
	for _, k := range keys {
		n := t.rows[k]
		since, until := k.day, k.day.AddDate(0, 0, 1)
		if !t.f.since.IsZero() && t.f.since.After(since) {
			since = t.f.since
		}
		if !t.f.until.IsZero() && t.f.until.Before(until) {
			until = t.f.until
		}
		f := *t.f
		f.since, f.until = since, until
		rows = append(rows, []string{k.day.Format("2006-01-02"), k.typ.String(), strconv.Itoa(n[audit.Succeeded] + n[audit.Failed]),
			strconv.Itoa(n[audit.Succeeded]), strconv.Itoa(n[audit.Failed]), t.o.drill(&f, "--type", k.typ.String())})
	}
	return []string{"DAY", "TYPE", "RECORDS", "SUCCESS", "FAILURE", "QUERY"}, rows
}
