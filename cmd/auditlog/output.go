package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/auditkit/audit"
)

// outputFlag is the value of --output: "table", "json", "bcm", or "" for
// the default (table on a terminal, bcm otherwise).
type outputFlag struct{ name string }

func (o *outputFlag) String() string { return o.name }

func (o *outputFlag) Set(s string) error {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "table", "json", "bcm":
		o.name = v
		return nil
	}
	return fmt.Errorf("want table, json or bcm")
}

// defineOutput defines --output and its short form -o on fs.
func defineOutput(fs *flag.FlagSet) *outputFlag {
	o := &outputFlag{}
	const usage = "output `format`: table, json or bcm (default table on a terminal, bcm otherwise)"
	fs.Var(o, "output", usage)
	fs.Var(o, "o", "same as --output `format`")
	return o
}

// format returns the chosen output format.
func (o *outputFlag) format(e *env) string {
	if o.name != "" {
		return o.name
	}
	if e.stdoutTTY {
		return "table"
	}
	return "bcm"
}

// printer writes records to standard output.
type printer interface {
	print(r *audit.Record) error
	// flush writes out what is buffered; a table printer aligns the
	// records printed since the last flush.
	flush() error
}

// newPrinter returns a printer of records in format to w.
func newPrinter(format string, w io.Writer) (printer, error) {
	if format == "table" {
		return &tablePrinter{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}, nil
	}
	f, err := audit.LookupFormatter(format)
	if err != nil {
		return nil, err
	}
	return &formatPrinter{w: bufio.NewWriterSize(w, 64<<10), f: f}, nil
}

// formatPrinter renders records with one of the library's formatters.
type formatPrinter struct {
	w   *bufio.Writer
	f   audit.Formatter
	buf []byte
}

func (p *formatPrinter) print(r *audit.Record) error {
	b, err := p.f.Append(p.buf[:0], r)
	if err != nil {
		return err
	}
	p.buf = append(b, '\n')
	_, err = p.w.Write(p.buf)
	return err
}

func (p *formatPrinter) flush() error { return p.w.Flush() }

// tablePrinter writes aligned columns with a header line.
type tablePrinter struct {
	tw     *tabwriter.Writer
	header bool // the header was written
	buf    []byte
}

// tableColumns are the columns of the table output.
const tableColumns = "TIME\tMODULE\tTYPE\tOUTCOME\tACTOR\tSUBJECT\tOBJECT\tCLIENT\tREASON\n"

func (p *tablePrinter) print(r *audit.Record) error {
	if !p.header {
		if _, err := io.WriteString(p.tw, tableColumns); err != nil {
			return err
		}
		p.header = true
	}
	e := &r.Event
	b := r.Event.Time.UTC().AppendFormat(p.buf[:0], "2006-01-02T15:04:05.000000Z07:00")
	for _, v := range [...]string{r.Module, e.Type.String(), e.Outcome.String(), e.Actor, e.Subject, e.Object, e.Client, e.Reason} {
		b = append(b, '\t')
		b = appendCell(b, v)
	}
	p.buf = append(b, '\n')
	_, err := p.tw.Write(p.buf)
	return err
}

func (p *tablePrinter) flush() error { return p.tw.Flush() }

// appendCell appends s for a table cell: "-" when empty, and otherwise
// with every byte that could break the table or fool the eye escaped:
// control characters (tab and newline included) and other runes that are
// not printable as \t, \n, \r, \uHHHH or \UHHHHHHHH, invalid UTF-8 as
// \xHH, and the backslash as \\ so that escapes are not ambiguous.
func appendCell(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, '-')
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			dst = fmt.Appendf(dst, `\x%02x`, s[i])
		case r == '\\':
			dst = append(dst, `\\`...)
		case r == '\t':
			dst = append(dst, `\t`...)
		case r == '\n':
			dst = append(dst, `\n`...)
		case r == '\r':
			dst = append(dst, `\r`...)
		case r == ' ' || unicode.IsPrint(r):
			dst = append(dst, s[i:i+n]...)
		case r <= 0xffff:
			dst = fmt.Appendf(dst, `\u%04x`, r)
		default:
			dst = fmt.Appendf(dst, `\U%08x`, r)
		}
		i += n
	}
	return dst
}

// escapeText returns s with appendCell's escapes, for plain-text output.
func escapeText(s string) string { return string(appendCell(nil, s)) }
