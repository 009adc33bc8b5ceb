package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// reporter writes diagnostics and the progress line to standard error and
// counts the problems found in the input.
type reporter struct {
	w        io.Writer
	tty      bool // w is a terminal: progress may be shown
	problems int  // lines and files skipped
	shown    int  // length of the progress line on screen, 0 if none
	// Progress is shown only once a scan has lasted progressDelay since
	// start, so that short ones do not flicker.
	start time.Time
	delay time.Duration
}

// progressDelay is how long a scan runs before its progress is shown.
const progressDelay = 300 * time.Millisecond

func newReporter(e *env) *reporter {
	return &reporter{w: e.stderr, tty: e.stderrTTY, start: time.Now(), delay: progressDelay}
}

// problem reports a line or file that was skipped.
func (r *reporter) problem(format string, args ...any) {
	r.problems++
	r.note(format, args...)
}

// note reports something that is not a problem in the input.
func (r *reporter) note(format string, args ...any) {
	r.clearProgress()
	fmt.Fprintf(r.w, "auditlog: %s\n", fmt.Sprintf(format, args...))
}

// progress shows "reading i/n files..." when standard error is a terminal,
// there is more than one file to read, and the scan is not quick.
func (r *reporter) progress(i, n int) {
	if !r.tty || n < 2 || time.Since(r.start) < r.delay {
		return
	}
	s := fmt.Sprintf("reading %d/%d files...", i, n)
	pad := max(0, r.shown-len(s))
	fmt.Fprintf(r.w, "%s%s\r", s, strings.Repeat(" ", pad))
	r.shown = len(s)
}

// progressBytes shows "reading i/n files, P%..." (or "reading P%..." for
// one file) when standard error is a terminal and the scan is not quick,
// with done of total bytes read.
func (r *reporter) progressBytes(i, n int, done, total int64) {
	if !r.tty || total <= 0 || time.Since(r.start) < r.delay {
		return
	}
	pct := min(100, done*100/total)
	s := fmt.Sprintf("reading %d%%...", pct)
	if n > 1 {
		s = fmt.Sprintf("reading %d/%d files, %d%%...", i, n, pct)
	}
	pad := max(0, r.shown-len(s))
	fmt.Fprintf(r.w, "%s%s\r", s, strings.Repeat(" ", pad))
	r.shown = len(s)
}

// clearProgress erases the progress line, if one is shown.
func (r *reporter) clearProgress() {
	if r.shown > 0 {
		fmt.Fprintf(r.w, "%s\r", strings.Repeat(" ", r.shown))
		r.shown = 0
	}
}

// status returns the exit status for the problems found.
func (r *reporter) status() int {
	if r.problems > 0 {
		return exitProblem
	}
	return exitOK
}

// outWriter is standard output: before each write it erases the progress
// line, which may share the terminal.
type outWriter struct {
	w   io.Writer
	rep *reporter
	err error // the first write error
}

func (o *outWriter) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	o.rep.clearProgress()
	n, err := o.w.Write(p)
	if err != nil {
		o.err = err
	}
	return n, err
}
