package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/auditkit/audit"
)

var maskCommand = &command{
	name:    "mask",
	args:    "MASK",
	summary: "explain which event types an AuditEventMask value writes",
	details: `Mask explains an AuditEventMask value, tokens joined by '+' (presence,
failure, system, config, read, modify, all): it prints the canonical form,
then the event types the mask writes, those it writes only when they fail,
and those it leaves out.

An event is written when the mask holds its type's category, or when it
failed and the mask holds failure. AUDIT_CONFIG_CHANGE, and the records the
library writes about its own files, are always written; CHANNEL_REJECT is
always a failure.`,
	flags: func(e *env, c *command, set *flag.FlagSet) func([]string) int {
		return func(args []string) int {
			if len(args) != 1 {
				return e.usageError(c, "want one mask, such as presence+read, got %d arguments", len(args))
			}
			m, err := audit.ParseMask(args[0])
			if err != nil {
				fmt.Fprintf(e.stderr, "auditlog: mask: %v\n", err)
				return exitUsage
			}
			w := bufio.NewWriter(e.stdout)
			if err := explainMask(w, args[0], m); err != nil {
				return e.errorf(c, "%v", err)
			}
			if err := w.Flush(); err != nil {
				return e.errorf(c, "write standard output: %v", err)
			}
			return exitOK
		}
	},
}

// explainMask writes which event types m, parsed from arg, writes.
func explainMask(w io.Writer, arg string, m audit.Mask) error {
	width := 0
	for t := audit.EventType(1); t.Valid(); t++ {
		width = max(width, len(t.String()))
	}
	var always, written, onFailure, leftOut []string
	for _, t := range audit.EventTypes() {
		line := fmt.Sprintf("%-*s  %-8s", width, t, t.Category())
		ok, okFailed := m.Enables(t, audit.Succeeded), m.Enables(t, audit.Failed)
		switch {
		case ok && t == audit.AuditConfigChange:
			always = append(always, line+"  always written")
		case ok && t == audit.ChannelReject && !m.Has(t.Category()):
			written = append(written, line+"  always a failure")
		case ok:
			written = append(written, line)
		case okFailed:
			onFailure = append(onFailure, line)
		default:
			leftOut = append(leftOut, line)
		}
	}
	written = append(written, always...)

	var b strings.Builder
	fmt.Fprintf(&b, "Mask %s", m)
	if arg != m.String() {
		fmt.Fprintf(&b, " (canonical form of %q)", arg)
	}
	b.WriteString("\n")
	group := func(title string, lines []string) {
		fmt.Fprintf(&b, "\n%s (%d)\n", title, len(lines))
		if len(lines) == 0 {
			b.WriteString("  (none)\n")
		}
		for _, s := range lines {
			fmt.Fprintf(&b, "  %s\n", strings.TrimRight(s, " "))
		}
	}
	group("Written", written)
	group("Written only when they fail", onFailure)
	group("Left out", leftOut)
	var lib []string
	for t := audit.EventType(1); t.Valid(); t++ {
		if !isCallerType(t) {
			lib = append(lib, t.String())
		}
	}
	fmt.Fprintf(&b, "\nThe library's own records (%s) are always written.\n", strings.Join(lib, ", "))
	_, err := io.WriteString(w, b.String())
	return err
}

// isCallerType reports whether callers may log t.
func isCallerType(t audit.EventType) bool {
	for _, c := range audit.EventTypes() {
		if c == t {
			return true
		}
	}
	return false
}
