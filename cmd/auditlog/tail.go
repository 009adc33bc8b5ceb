package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/auditkit/audit"
)

var tailCommand = &command{
	name:    "tail",
	args:    "[-f] DIR [--module M] [-n N] [--poll D] [--for D] [--output table|csv|json|bcm|cef|ocsf] [--columns C,...]",
	summary: "print the last records of a module's active file, and follow it with -f",
	details: `Tail prints the last N records of the active audit file of a module
(<Module>.audit.log in DIR). --module is needed when DIR holds the files of
several modules.

With -f it then follows the module's records as they are written, with
the library's follower (audit.Follow), checking for more every --poll,
until SIGINT or SIGTERM, or for --for if given. When the active file is
rotated (renamed to a backup, later compressed) it reads the old file to
its end, then the backups rotated since, then goes on at the start of the
new active file, so that each record is printed once. If the file (or DIR
itself) does not exist yet, tail -f waits for it, and then prints every
record from the first, in the backups rotated meanwhile and in the active
file, whatever -n says. If a file that tail -f has yet to read to its end
is removed (by hand, or by retention when tail falls far behind), tail
stops with an error: the records that follow cannot be told.

The output is a table on a terminal and BCM lines otherwise; see --output,
--columns, --local and --tz, which work as for query. The table's columns
have fixed widths, so rows printed later stay aligned with the header.`,
	flags: func(e *env, c *command, set *flag.FlagSet) func([]string) int {
		follow := set.Bool("f", false, "follow the file as it grows and rotates")
		set.BoolVar(follow, "follow", false, "same as -f")
		n := set.Int("n", 10, "print the last `N` records")
		poll := set.Duration("poll", 200*time.Millisecond, "with -f, check the file every `interval`")
		forD := set.Duration("for", 0, "with -f, stop after `duration` (default: until interrupted)")
		module := ""
		defineModule(set, &module)
		out := defineOutput(set)
		v := defineView(set)
		return func(args []string) int {
			switch {
			case len(args) != 1:
				return e.usageError(c, "want one directory, got %d arguments", len(args))
			case *n < 0:
				return e.usageError(c, "invalid value %d for flag -n: want 0 or more", *n)
			case *poll <= 0:
				return e.usageError(c, "invalid value %v for flag -poll: want a positive duration", *poll)
			case *forD < 0:
				return e.usageError(c, "invalid value %v for flag -for: want a positive duration", *forD)
			}
			t := &tailer{e: e, c: c, rep: newReporter(e), dir: args[0], module: module,
				n: *n, poll: *poll, view: v}
			return t.run(*follow, *forD, out.format(e))
		}
	},
}

// tailer prints and follows the records of a module.
type tailer struct {
	e      *env
	c      *command
	rep    *reporter
	out    *outWriter
	p      printer
	dir    string
	module string
	n      int
	poll   time.Duration
	view   *view
}

func (t *tailer) run(follow bool, forD time.Duration, format string) int {
	e, c := t.e, t.c
	mods, err := listAuditFiles(t.dir, t.module)
	if err != nil && !(follow && t.module != "" && errors.Is(err, fs.ErrNotExist)) {
		return e.errorf(c, "directory %s: %v", t.dir, cleanErr(err))
	}
	if !follow {
		if err := checkModule(t.dir, t.module); err != nil {
			return e.dirError(c, t.dir, err)
		}
	}
	if t.module == "" {
		switch len(mods) {
		case 0:
			if follow {
				return e.usageError(c, "no audit files in %s: give --module to wait for a module's file", t.dir)
			}
			t.rep.note("%s: no audit files in %s", c.name, t.dir)
			return exitOK
		case 1:
			t.module = mods[0].module
		default:
			names := make([]string, len(mods))
			for i, m := range mods {
				names[i] = m.module
			}
			return e.usageError(c, "%s holds the files of several modules (%s): choose one with --module", t.dir, strings.Join(names, ", "))
		}
	}
	t.out = &outWriter{w: e.stdout, rep: t.rep}
	if t.p, err = newPrinter(format, t.out, t.view); err != nil {
		return e.errorf(c, "%v", err)
	}
	var files []audit.File
	for _, m := range mods {
		if m.module == t.module {
			for _, af := range m.files {
				files = append(files, af.file)
			}
		}
	}
	var active *audit.File
	if n := len(files); n > 0 && files[n-1].Active {
		active, files = &files[n-1], files[:n-1]
	}

	if !follow {
		if active == nil {
			t.rep.note("%s: module %s has no active file %s", c.name, t.module, t.activePath())
			return exitOK
		}
		_, _, err := t.printLast(*active, t.n, false)
		return t.finish(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if forD > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, forD)
		defer cancel()
	}
	cur, err := t.start(active, files)
	if err != nil {
		return t.finish(err)
	}
	return t.finish(t.follow(ctx, cur))
}

// activePath returns the path of the module's active file.
func (t *tailer) activePath() string {
	return filepath.Join(t.dir, t.module+".audit.log")
}

// start prints the last t.n records of the active file, if there is one,
// and returns the cursor after them, where following starts. Without an
// active file (or one without a complete line) it returns the cursor at
// the end of the latest of backups (the zero cursor, before the first
// record, when there are none), so that every record written from then on
// is printed, and notes that tail waits for the active file.
func (t *tailer) start(active *audit.File, backups []audit.File) (audit.Cursor, error) {
	if active != nil {
		cur, ok, err := t.printLast(*active, t.n, true)
		if err != nil || ok {
			return cur, err
		}
	}
	var cur audit.Cursor
	for i := len(backups) - 1; i >= 0; i-- {
		c, ok, err := t.printLast(backups[i], 0, true)
		if err != nil {
			return c, err
		}
		if ok {
			cur = c
			break
		}
	}
	if active == nil {
		t.rep.note("%s: waiting for %s", t.c.name, t.activePath())
	}
	return cur, nil
}

// printLast reads f to its end and prints its last n records; lines that
// are not records are reported and not counted. It returns the cursor
// after the last complete line, and false when f has none. Without more
// to come, an incomplete final line is reported as being written.
func (t *tailer) printLast(f audit.File, n int, more bool) (audit.Cursor, bool, error) {
	var cur audit.Cursor
	r, err := audit.OpenFile(f)
	if err != nil {
		return cur, false, fmt.Errorf("%s: %w", f.Path, readError(err))
	}
	defer r.Close()
	ring := make([]audit.Record, n)
	count := 0
	for {
		ln, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, audit.ErrLineTooLong) {
			// Left before the cursor: when it is the last line, the
			// follower reports it again.
			t.rep.problem("%s:%d: %v, skipped", r.Path(), ln.Number, audit.ErrLineTooLong)
			continue
		}
		if err != nil {
			t.rep.problem("%s:%d: read error: %v", r.Path(), cur.Line+1, readError(err))
			break
		}
		if !ln.Complete {
			if !more {
				t.rep.note("%s:%d: incomplete final line skipped (a record being written?)", r.Path(), ln.Number)
			}
			break
		}
		if ln.Number == 1 {
			cur.File = audit.Fingerprint(ln.Text)
		}
		cur.Offset, cur.Line = ln.Offset+int64(len(ln.Text))+1, ln.Number
		line := trimCR(ln.Text)
		if n == 0 || len(line) == 0 {
			continue
		}
		rec, err := audit.ParseRecord(line)
		if err != nil {
			t.rep.problem("%s:%d: %v", r.Path(), ln.Number, err)
			continue
		}
		ring[count%n] = rec
		count++
	}
	for i := max(0, count-n); i < count; i++ {
		if err := t.p.print(recordEntry(&ring[i%n], nil)); err != nil && t.out.err == nil {
			t.rep.problem("%s: %v", f.Path, err)
		}
	}
	if t.out.err != nil {
		return cur, false, t.out.err
	}
	return cur, cur.File != "", t.p.flush()
}

// finish flushes the output and returns the exit status for err, the
// error that ended the command, if any.
func (t *tailer) finish(err error) int {
	if ferr := t.p.flush(); ferr != nil && err == nil {
		err = fmt.Errorf("write standard output: %w", ferr)
	}
	if t.out.err != nil {
		err = fmt.Errorf("write standard output: %w", t.out.err)
	}
	if err != nil {
		return t.e.errorf(t.c, "%v", err)
	}
	return t.rep.status()
}

// follow prints the module's records from cur on, across rotations, until
// ctx is done. The output is flushed whenever no record is at hand.
func (t *tailer) follow(ctx context.Context, cur audit.Cursor) error {
	fl, err := audit.Follow(t.dir, t.module, cur, t.poll)
	if err != nil {
		return err
	}
	defer fl.Close()
	// With a done context, Next returns a record at hand, or the
	// context's error without waiting.
	now, cancel := context.WithCancel(context.Background())
	cancel()
	for ctx.Err() == nil {
		e, err := fl.Next(now)
		if errors.Is(err, context.Canceled) {
			if err := t.p.flush(); err != nil {
				return err
			}
			e, err = fl.Next(ctx)
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, audit.ErrLineTooLong):
			t.rep.problem("%s:%d: %v, skipped", e.Path, e.Number, audit.ErrLineTooLong)
		case err != nil:
			return err
		default:
			t.printLine(e.Path, e.Number, trimCR(e.Line))
		}
		if t.out.err != nil {
			return t.out.err
		}
	}
	return nil
}

// printLine parses and prints one line of file name.
func (t *tailer) printLine(name string, no int, line []byte) {
	if len(line) == 0 {
		return
	}
	rec, err := audit.ParseRecord(line)
	if err != nil {
		t.rep.problem("%s:%d: %v", name, no, err)
		return
	}
	if err := t.p.print(recordEntry(&rec, line)); err != nil && t.out.err == nil {
		t.rep.problem("%s:%d: %v", name, no, err)
	}
}
