package main

import (
	"errors"
	"flag"
)

var queryCommand = &command{
	name:    "query",
	args:    "DIR [filters] [--output table|csv|json|bcm|cef|ocsf] [--columns C,...] [--local|--tz Z]",
	summary: "print the records of an audit directory that match filters",
	details: `Query prints the records of the audit files in DIR (active files, rotated
and compressed backups, in any built-in format) that match every filter
given, in time order. The filters are --since T, --until T, --type T,...,
--outcome O, --actor A, --subject S, --object O, --client C, --session S,
--grep TEXT and --module M.

Times (--since, --until) are RFC 3339 (2026-11-25T09:00:00Z), a local date
or time without a zone (2026-11-25, 2026-11-25T09:00, 2026-11-25 09:00:30),
today, yesterday, this-week (since Monday, local), or a duration before
now (90m, 12h, 3d, 1w, 1d12h). --since is inclusive and --until exclusive.
Files that cannot hold a record of the period are not read: a module's
records are in time order, so each file holds the records from its first
record's time up to the next file's first.

--actor, --subject, --object, --client and --session match the exact
value; repeat one to accept any of several values. A value that starts
with '!' leaves that value out instead (--actor '!svc-backup'); write '\!'
for a value that starts with '!', and '\\' for one that starts with '\!' or
'\\'. --type takes a comma-separated list in
which !T leaves T out (--type '!LOGON,!LOGOFF'); --outcome takes success
or failure, as also written succeeded, ok, failed or fail, and !O for the
other. --grep TEXT keeps the records with TEXT in any value (module,
actor, subject, object, old, new, client, session, reason or an extra
field), case-sensitive; repeat it to require each.

The output is a table on a terminal and BCM lines otherwise; --output csv
writes RFC 4180 CSV (a cell that a spreadsheet would take for a formula,
starting with =, +, -, @, tab or carriage return, is prefixed with '), and
--output json writes JSON Lines. The table streams: its columns have
fixed widths (a longer value is cut and ends in '…'; wide characters count
as two columns) and the last column is never cut. --columns chooses the
table's and CSV's columns among time, module, seq, type, outcome, actor,
subject, object, old, new, client, session, reason, fields (the extra
fields) and file (the file and line of the record), or all. Times are in
UTC; --local shows them in the local time zone, --tz in the zone named.

JSON and BCM output print a record read from a line already in that format
as the line itself, byte for byte, and render it with the library's
formatter otherwise; both read back with audit.ParseRecord.

Query reads a line only as far as its filters need: lines that cannot hold
the types and outcome selected are passed over as grep would, a line whose
leading fields (time, module, type, outcome) rule it out is not read
further, and a line that the filters need not look into is printed as it
is. Lines are
checked only that far: --strict parses every line in full and reports any
that is malformed, and 'auditlog verify' checks every byte of the files.`,
	flags: func(e *env, c *command, set *flag.FlagSet) func([]string) int {
		f := &filter{}
		defineFilters(e, set, f)
		set.BoolVar(&f.strict, "strict", false, "parse every line in full and report any that is malformed, not only as far as the filters need (slower)")
		out := defineOutput(set)
		v := defineView(set)
		return func(args []string) int {
			if len(args) != 1 {
				return e.usageError(c, "want one directory, got %d arguments", len(args))
			}
			if err := f.check(); err != nil {
				return e.usageError(c, "%v", err)
			}
			return e.query(c, args[0], f, out.format(e), v)
		}
	},
}

func (e *env) query(c *command, dir string, f *filter, format string, v *view) int {
	rep := newReporter(e)
	sc, status := e.openDir(c, dir, f, rep)
	if sc == nil {
		return status
	}
	defer sc.close()
	out := &outWriter{w: e.stdout, rep: rep}
	p, err := newPrinter(format, out, v)
	if err != nil {
		return e.errorf(c, "%v", err)
	}
	n := 0
	for {
		en, ok := sc.next()
		if !ok {
			break
		}
		if err := p.print(en); err != nil {
			if out.err != nil {
				return e.errorf(c, "write standard output: %v", out.err)
			}
			rep.problem("%s:%d: %v", en.path(), en.lineNo, err)
			continue
		}
		n++
	}
	if err := p.flush(); err != nil {
		return e.errorf(c, "write standard output: %v", err)
	}
	if n == 0 && (format == "table" || format == "csv") {
		rep.note("no matching records")
	}
	return rep.status()
}

// openDir starts a scan of dir, or reports why it cannot and returns nil
// and the exit status.
func (e *env) openDir(c *command, dir string, f *filter, rep *reporter) (*scan, int) {
	if err := checkModule(dir, f.module); err != nil {
		return nil, e.dirError(c, dir, err)
	}
	sc, err := openScan(dir, f, rep)
	switch {
	case errors.Is(err, errNoFiles):
		rep.note("%s: no audit files in %s", c.name, dir)
		return nil, exitOK
	case err != nil:
		return nil, e.dirError(c, dir, err)
	}
	return sc, exitOK
}

// dirError reports an error about dir, or about a module missing from it,
// and returns exitUsage.
func (e *env) dirError(c *command, dir string, err error) int {
	var nm *noModuleError
	if errors.As(err, &nm) {
		return e.errorf(c, "%v", err)
	}
	return e.errorf(c, "directory %s: %v", dir, cleanErr(err))
}
