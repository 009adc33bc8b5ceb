package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Exit statuses.
const (
	exitOK      = 0 // success
	exitProblem = 1 // a problem was found in the input (a skipped line or file)
	exitUsage   = 2 // a usage error or an I/O error
)

// env is what a command runs with: its standard streams and the clock.
type env struct {
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	stdoutTTY bool // stdout is a terminal
	stderrTTY bool // stderr is a terminal
	now       func() time.Time
}

// command is a subcommand of auditlog.
type command struct {
	name    string
	args    string // the synopsis after the name
	summary string // one line for the list of commands
	details string // paragraphs printed by "auditlog help NAME"
	// flags defines the command's flags on fs and returns the function that
	// runs the command (c itself) with its positional arguments once they
	// are parsed.
	flags func(e *env, c *command, fs *flag.FlagSet) func(args []string) int
}

// commands returns the subcommands in the order of the usage text.
func commands() []*command {
	return []*command{verifyCommand, queryCommand, tailCommand, convertCommand, statsCommand, reportCommand, serveCommand, shipCommand, maskCommand, keyCommand}
}

func lookupCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// run is the whole program: it runs the command named by args[0] and
// returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{
		stdin:     stdin,
		stdout:    stdout,
		stderr:    stderr,
		stdoutTTY: isTerminal(stdout),
		stderrTTY: isTerminal(stderr),
		now:       time.Now,
	}
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			c := lookupCommand(args[1])
			if c == nil {
				fmt.Fprintf(stderr, "auditlog: help: unknown command %q; run 'auditlog help' for the list\n", args[1])
				return exitUsage
			}
			printCommandUsage(e, c, stdout)
			return exitOK
		}
		printUsage(stdout)
		return exitOK
	}
	c := lookupCommand(args[0])
	if c == nil {
		fmt.Fprintf(stderr, "auditlog: unknown command %q; run 'auditlog help' for the list\n", args[0])
		return exitUsage
	}
	return e.runCommand(c, args[1:])
}

// runCommand parses the flags of c, which may come before, between and
// after its positional arguments, and runs it.
func (e *env) runCommand(c *command, args []string) int {
	fs := newFlagSet(c)
	body := c.flags(e, c, fs)
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printCommandUsage(e, c, e.stdout)
		return exitOK
	}
	if err != nil {
		return e.usageError(c, "%v", err)
	}
	return body(pos)
}

func newFlagSet(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("auditlog "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by runCommand
	return fs
}

// parseInterspersed parses fs from args, allowing flags after positional
// arguments, and returns the positional arguments. After "--" every
// argument is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError reports a usage error of c and returns exitUsage.
func (e *env) usageError(c *command, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "auditlog: %s: %s\n", c.name, fmt.Sprintf(format, args...))
	fmt.Fprintf(e.stderr, "usage: auditlog %s %s\n(run 'auditlog help %s' for details)\n", c.name, c.args, c.name)
	return exitUsage
}

// errorf reports an error of c that is not a usage error and returns
// exitUsage.
func (e *env) errorf(c *command, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "auditlog: %s: %s\n", c.name, fmt.Sprintf(format, args...))
	return exitUsage
}

func printUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString("Usage:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  auditlog %s %s\n", c.name, c.args)
	}
	b.WriteString("  auditlog help [COMMAND]\n\n")
	b.WriteString("auditlog reads the audit files written by github.com/auditkit/audit.\n\n")
	b.WriteString("Commands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(&b, "  %-8s %s\n", "help", "print this text, or the details and flags of COMMAND")
	b.WriteString(`
Flags may come before or after DIR, with one dash or two. DIR is an audit
directory: it holds <Module>.audit.log, the active file of each module, and
its rotated backups <Module>.audit-<UTC time>.log[.gz]. Both built-in
formats (BCM and JSON) are read. Records are read in time order: each
module's files oldest first, the records of several modules merged by time.

Exit status: 0 success; 1 a problem was found in the input (a line or file
was skipped, and reported on standard error); 2 a usage or I/O error.

Run 'auditlog help COMMAND' for the flags of a command.
`)
	io.WriteString(w, b.String())
}

func printCommandUsage(e *env, c *command, w io.Writer) {
	fmt.Fprintf(w, "Usage: auditlog %s %s\n\n%s\n", c.name, c.args, c.details)
	fs := newFlagSet(c)
	c.flags(e, c, fs)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintf(w, "\nFlags (one dash or two):\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}
