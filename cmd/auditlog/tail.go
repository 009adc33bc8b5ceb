package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/auditkit/audit"
)

var tailCommand = &command{
	name:    "tail",
	args:    "[-f] DIR [--module M] [-n N] [--poll D] [--for D] [--output table|csv|json|bcm] [--columns C,...]",
	summary: "print the last records of a module's active file, and follow it with -f",
	details: `Tail prints the last N records of the active audit file of a module
(<Module>.audit.log in DIR). --module is needed when DIR holds the files of
several modules.

With -f it then follows the file, checking it every --poll, until SIGINT or
SIGTERM, or for --for if given. When the file is rotated (renamed to a
backup, or truncated) it reads the old file to its end through the
descriptor it holds, then any backups rotated since, then goes on at the
start of the new active file, so that each record is printed once. If the
file (or DIR itself) does not exist yet, tail -f waits for it, and then
prints every record from the first, in the backups rotated meanwhile and
in the active file, whatever -n says.

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
				n: *n, poll: *poll, buf: make([]byte, 64<<10), view: v}
			return t.run(*follow, *forD, out.format(e))
		}
	},
}

// tailer prints and follows the active file of a module.
type tailer struct {
	e      *env
	c      *command
	rep    *reporter
	out    *outWriter
	p      printer
	dir    string
	module string
	path   string // the active file
	n      int
	poll   time.Duration
	view   *view

	// The file being read, always from its start.
	f         *os.File
	line      int    // number of complete lines read
	committed int64  // offset after the last complete line
	pending   int64  // bytes read after it
	partial   []byte // the bytes read after it, unless skipping
	skipping  bool   // the pending line is too long, and discarded
	first     []byte // the first line of f, once read
	// known are the module's backups, by stem, that existed while f was
	// the active file.
	known map[string]*auditFile
	buf   []byte
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
	t.path = filepath.Join(t.dir, t.module+".audit.log")
	t.out = &outWriter{w: e.stdout, rep: t.rep}
	if t.p, err = newPrinter(format, t.out, t.view); err != nil {
		return e.errorf(c, "%v", err)
	}

	if !follow {
		f, err := os.Open(t.path)
		if errors.Is(err, fs.ErrNotExist) {
			t.rep.note("%s: module %s has no active file %s", c.name, t.module, t.path)
			return exitOK
		}
		if err != nil {
			return e.errorf(c, "%s: %v", t.path, cleanErr(err))
		}
		t.f = f
		defer f.Close()
		return t.finish(t.printLast(false))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if forD > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, forD)
		defer cancel()
	}
	// The backups there are before the active file is found: when it is
	// not there yet, every file that appears after them is followed from
	// its first record.
	initial := map[string]*auditFile{}
	for _, m := range mods {
		for _, af := range m.files {
			if !af.active {
				initial[af.stem] = af
			}
		}
	}
	f, known, waited, err := t.openActive(ctx, true)
	if err != nil {
		if ctx.Err() != nil {
			return t.finish(nil)
		}
		return e.errorf(c, "%v", err)
	}
	t.f, t.known = f, known
	defer func() { t.f.Close() }()
	if waited {
		err = t.printFromStart(initial)
	} else {
		err = t.printLast(true)
	}
	if err != nil {
		return t.finish(err)
	}
	return t.finish(t.follow(ctx))
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

// printLast reads t.f to its end and prints its last t.n records; lines
// that are not records are reported and not counted. Without more to come,
// an incomplete final line is reported as being written.
func (t *tailer) printLast(more bool) error {
	ring := make([]audit.Record, t.n)
	count := 0
	err := t.readAvailable(func(no int, line []byte) {
		if len(line) == 0 {
			return
		}
		rec, err := audit.ParseRecord(line)
		if err != nil {
			t.rep.problem("%s:%d: %v", t.path, no, err)
			return
		}
		if t.n > 0 {
			ring[count%t.n] = rec
			count++
		}
	})
	if err != nil {
		t.rep.problem("%s:%d: read error: %v", t.path, t.line+1, cleanErr(err))
	}
	if !more && t.pending > 0 {
		t.rep.note("%s:%d: incomplete final line skipped (a record being written?)", t.path, t.line+1)
	}
	for i := max(0, count-t.n); i < count; i++ {
		if err := t.p.print(recordEntry(&ring[i%t.n], nil)); err != nil && t.out.err == nil {
			t.rep.problem("%s: %v", t.path, err)
		}
	}
	if t.out.err != nil {
		return t.out.err
	}
	return t.p.flush()
}

// printFromStart prints the backups of t.known that are not in before,
// which were rotated while tail waited for the active file, and then
// every record of the active file so far.
func (t *tailer) printFromStart(before map[string]*auditFile) error {
	var fresh []*auditFile
	for stem, af := range t.known {
		if before[stem] == nil {
			fresh = append(fresh, af)
		}
	}
	slices.SortFunc(fresh, compareFiles)
	for _, af := range fresh {
		t.printFile(af)
	}
	emit := func(no int, line []byte) { t.printLine(t.path, no, line) }
	if err := t.readAvailable(emit); err != nil {
		t.rep.problem("%s:%d: read error: %v", t.path, t.line+1, cleanErr(err))
	}
	if t.out.err != nil {
		return t.out.err
	}
	return t.p.flush()
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

// readAvailable reads t.f to its current end and calls emit with every
// complete line (without its newline), which emit must not keep.
func (t *tailer) readAvailable(emit func(no int, line []byte)) error {
	for {
		n, err := t.f.Read(t.buf)
		if n > 0 {
			t.consume(t.buf[:n], emit)
		}
		if errors.Is(err, io.EOF) || n == 0 && err == nil {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// consume splits b, read from t.f, into lines.
func (t *tailer) consume(b []byte, emit func(no int, line []byte)) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			t.pending += int64(len(b))
			if !t.skipping {
				t.partial = append(t.partial, b...)
				if len(t.partial) >= maxLine {
					t.skipping, t.partial = true, t.partial[:0]
				}
			}
			return
		}
		chunk := b[:i]
		b = b[i+1:]
		t.line++
		t.committed += t.pending + int64(i) + 1
		t.pending = 0
		if t.skipping || len(t.partial)+len(chunk) >= maxLine {
			t.skipping, t.partial = false, t.partial[:0]
			t.rep.problem("%s:%d: %v, skipped", t.path, t.line, errLineTooLong)
			continue
		}
		line := chunk
		if len(t.partial) > 0 {
			t.partial = append(t.partial, chunk...)
			line = t.partial
		}
		line = trimCR(line)
		if t.line == 1 {
			t.first = bytes.Clone(line)
		}
		emit(t.line, line)
		t.partial = t.partial[:0]
	}
}

// resetFile starts reading f from its start.
func (t *tailer) resetFile(f *os.File) {
	t.f = f
	t.line, t.committed, t.pending = 0, 0, 0
	t.partial, t.skipping, t.first = t.partial[:0], false, nil
}

// follow prints the records appended to the active file, across rotations,
// until ctx is done.
func (t *tailer) follow(ctx context.Context) error {
	tick := time.NewTicker(t.poll)
	defer tick.Stop()
	emit := func(no int, line []byte) { t.printLine(t.path, no, line) }
	for {
		if err := t.readAvailable(emit); err != nil {
			t.rep.problem("%s:%d: read error: %v", t.path, t.line+1, cleanErr(err))
		}
		if t.out.err != nil {
			return t.out.err
		}
		if err := t.p.flush(); err != nil {
			return err
		}
		rotated, err := t.checkFile()
		if err != nil {
			return err
		}
		if rotated {
			if err := t.switchFile(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// checkFile compares the active file's name with the file being read. It
// reports whether the name now leads to another file, or to none; a file
// that shrank is read again from its start.
func (t *tailer) checkFile() (rotated bool, err error) {
	st, err := os.Stat(t.path)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", t.path, cleanErr(err))
	}
	cur, err := t.f.Stat()
	if err != nil {
		return false, fmt.Errorf("%s: %w", t.path, cleanErr(err))
	}
	if !os.SameFile(st, cur) {
		return true, nil
	}
	switch size := cur.Size(); {
	case size < t.committed:
		t.rep.note("%s: file truncated; reading it again from the start", t.path)
		if _, err := t.f.Seek(0, io.SeekStart); err != nil {
			return false, fmt.Errorf("%s: %w", t.path, cleanErr(err))
		}
		t.resetFile(t.f)
	case size < t.committed+t.pending:
		// A writer cut off the incomplete line we had begun to read.
		if _, err := t.f.Seek(t.committed, io.SeekStart); err != nil {
			return false, fmt.Errorf("%s: %w", t.path, cleanErr(err))
		}
		t.pending, t.partial, t.skipping = 0, t.partial[:0], false
	}
	return false, nil
}

// switchFile finishes the old file, which is never written again once
// rotated, reads the backups rotated after it, and goes on with the new
// active file.
func (t *tailer) switchFile(ctx context.Context) error {
	emit := func(no int, line []byte) { t.printLine(t.path, no, line) }
	if err := t.readAvailable(emit); err != nil {
		t.rep.problem("%s:%d: read error: %v", t.path, t.line+1, cleanErr(err))
	}
	if t.pending > 0 {
		t.rep.problem("%s:%d: incomplete final line of the rotated file skipped", t.path, t.line+1)
	}
	f, known, _, err := t.openActive(ctx, false)
	if err != nil {
		return err
	}
	// The backups that appeared since the old file was opened: the old
	// file itself (unless it was removed), then those rotated after it.
	var fresh []*auditFile
	for stem, af := range known {
		if t.known[stem] == nil {
			fresh = append(fresh, af)
		}
	}
	slices.SortFunc(fresh, compareFiles)
	if len(fresh) > 0 && t.first != nil && bytes.Equal(firstLine(fresh[0]), t.first) {
		fresh = fresh[1:]
	}
	for _, af := range fresh {
		t.printFile(af)
	}
	t.f.Close()
	t.resetFile(f)
	t.known = known
	return nil
}

// openActive opens the active file and lists the module's backups while
// it is the active file. When it does not exist (nor perhaps its
// directory) it waits for it, noting that it does when first is set, and
// reports that it waited.
func (t *tailer) openActive(ctx context.Context, first bool) (f *os.File, known map[string]*auditFile, waited bool, err error) {
	for {
		f, err := os.Open(t.path)
		if err == nil {
			st, err1 := f.Stat()
			known, err2 := t.listBackups()
			st2, err3 := os.Stat(t.path)
			if err1 == nil && err2 == nil && err3 == nil && os.SameFile(st, st2) {
				return f, known, waited, nil
			}
			f.Close()
			if err2 != nil {
				return nil, nil, waited, err2
			}
			continue // rotated meanwhile
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, waited, fmt.Errorf("%s: %w", t.path, cleanErr(err))
		}
		if first && !waited {
			t.rep.note("%s: waiting for %s", t.c.name, t.path)
		}
		waited = true
		select {
		case <-ctx.Done():
			return nil, nil, waited, ctx.Err()
		case <-time.After(t.poll):
		}
	}
}

// listBackups returns the module's backups by stem.
func (t *tailer) listBackups() (map[string]*auditFile, error) {
	mods, err := listAuditFiles(t.dir, t.module)
	if err != nil {
		return nil, fmt.Errorf("directory %s: %w", t.dir, cleanErr(err))
	}
	known := map[string]*auditFile{}
	for _, m := range mods {
		for _, af := range m.files {
			if !af.active {
				known[af.stem] = af
			}
		}
	}
	return known, nil
}

// firstLine returns the first line of af, or nil.
func firstLine(af *auditFile) []byte {
	rc, err := openAuditFile(af)
	if err != nil {
		return nil
	}
	defer rc.Close()
	line, _, err := newLineReader(rc).next()
	if err != nil {
		return nil
	}
	return line
}

// printFile prints every record of a backup.
func (t *tailer) printFile(af *auditFile) {
	rc, err := openAuditFile(af)
	if err != nil {
		t.rep.problem("%s: %v (records rotated past tail may be lost)", af.path, cleanErr(err))
		return
	}
	defer rc.Close()
	lr := newLineReader(rc)
	for {
		line, _, err := lr.next()
		switch {
		case errors.Is(err, io.EOF):
			return
		case errors.Is(err, errLineTooLong):
			t.rep.problem("%s:%d: %v, skipped", af.path, lr.line, err)
			continue
		case err != nil:
			t.rep.problem("%s:%d: read error: %v", af.path, lr.line+1, cleanErr(err))
			return
		}
		t.printLine(af.path, lr.line, line)
	}
}
