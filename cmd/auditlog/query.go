package main

import (
	"errors"
	"flag"
	"io/fs"
)

var queryCommand = &command{
	name:    "query",
	args:    "DIR [filters] [--output table|json|bcm]",
	summary: "print the records of an audit directory that match filters",
	details: `Query prints the records of the audit files in DIR (active files, rotated
and compressed backups, in any built-in format) that match every filter
given, in time order. The filters are --since T, --until T, --type T,...,
--outcome O, --actor A, --subject S, --client C and --module M.

Times (--since, --until) are RFC 3339 (2026-11-25T09:00:00Z), a date
(2026-11-25, midnight UTC), or a duration before now (90m, 24h, 7d, 1d12h).
--since is inclusive and --until exclusive. --actor, --subject, --client
and --module match the exact value.

The output is a table on a terminal and BCM lines otherwise; --output json
writes JSON Lines. JSON and BCM are rendered by the library's formatters and
read back with audit.ParseRecord.`,
	flags: func(e *env, c *command, set *flag.FlagSet) func([]string) int {
		f := &filter{}
		defineFilters(e, set, f)
		out := defineOutput(set)
		return func(args []string) int {
			if len(args) != 1 {
				return e.usageError(c, "want one directory, got %d arguments", len(args))
			}
			if err := f.check(); err != nil {
				return e.usageError(c, "%v", err)
			}
			return e.query(c, args[0], f, out.format(e))
		}
	},
}

func (e *env) query(c *command, dir string, f *filter, format string) int {
	rep := newReporter(e)
	sc, status := e.openDir(c, dir, f, rep)
	if sc == nil {
		return status
	}
	defer sc.close()
	out := &outWriter{w: e.stdout, rep: rep}
	p, err := newPrinter(format, out)
	if err != nil {
		return e.errorf(c, "%v", err)
	}
	n := 0
	for {
		r, ok := sc.next()
		if !ok {
			break
		}
		if err := p.print(r); err != nil {
			if out.err != nil {
				return e.errorf(c, "write standard output: %v", out.err)
			}
			rep.problem("%s record at %s: %v", r.Module, r.Event.Time.Format("2006-01-02T15:04:05.000000Z"), err)
			continue
		}
		n++
	}
	if err := p.flush(); err != nil {
		return e.errorf(c, "write standard output: %v", err)
	}
	if n == 0 && format == "table" {
		rep.note("no matching records")
	}
	return rep.status()
}

// openDir starts a scan of dir, or reports why it cannot and returns nil
// and the exit status.
func (e *env) openDir(c *command, dir string, f *filter, rep *reporter) (*scan, int) {
	sc, err := openScan(dir, f, rep)
	switch {
	case errors.Is(err, errNoFiles) && f.module != "":
		rep.note("%s: no audit files of module %s in %s", c.name, f.module, dir)
		return nil, exitOK
	case errors.Is(err, errNoFiles):
		rep.note("%s: no audit files in %s", c.name, dir)
		return nil, exitOK
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, e.errorf(c, "directory %s: %v", dir, err)
	}
	return sc, exitOK
}
