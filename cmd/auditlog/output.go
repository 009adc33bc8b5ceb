package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/auditkit/audit"
)

// outputFlag is the value of --output: "table", "csv", "json", "bcm",
// "cef", "ocsf", or "" for the default (table on a terminal, bcm
// otherwise).
type outputFlag struct{ name string }

func (o *outputFlag) String() string { return o.name }

func (o *outputFlag) Set(s string) error {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "table", "csv", "json", "bcm", "cef", "ocsf":
		o.name = v
		return nil
	}
	return fmt.Errorf("want table, csv, json, bcm, cef or ocsf")
}

// defineOutput defines --output and its short form -o on fs.
func defineOutput(fs *flag.FlagSet) *outputFlag {
	o := &outputFlag{}
	const usage = "output `format`: table, csv, json, bcm, cef or ocsf (default table on a terminal, bcm otherwise)"
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

// view says how the table and CSV outputs show records: which columns, and
// times in which location.
type view struct {
	columns []*column
	loc     *time.Location // nil for UTC
}

// defineView defines --columns, --local and --tz on fs.
func defineView(fs *flag.FlagSet) *view {
	v := &view{columns: defaultColumns()}
	fs.Func("columns", "table and csv `columns`, comma-separated, in order: "+columnNames()+", or all (default "+defaultColumnNames+")", func(s string) error {
		cols, err := parseColumns(s)
		v.columns = cols
		return err
	})
	fs.BoolFunc("local", "table and csv: show times in the local time zone, not UTC", func(string) error {
		v.loc = time.Local
		return nil
	})
	fs.Func("tz", "table and csv: show times in the time `zone` named, such as Europe/Berlin", func(s string) error {
		loc, err := time.LoadLocation(s)
		if err != nil {
			return fmt.Errorf("unknown time zone %q", s)
		}
		v.loc = loc
		return nil
	})
	return v
}

// printer writes records to standard output.
type printer interface {
	print(en *entry) error
	// flush writes out what is buffered.
	flush() error
}

// newPrinter returns a printer of records in format to w. v, used by the
// table and CSV formats, may be nil for the defaults.
func newPrinter(format string, w io.Writer, v *view) (printer, error) {
	if v == nil {
		v = &view{columns: defaultColumns()}
	}
	switch format {
	case "table":
		return &tablePrinter{w: bufio.NewWriterSize(w, 64<<10), v: v}, nil
	case "csv":
		cw := csv.NewWriter(w)
		cw.UseCRLF = true // RFC 4180
		return &csvPrinter{w: cw, v: v}, nil
	}
	f, err := audit.LookupFormatter(format)
	if err != nil {
		return nil, err
	}
	p := &formatPrinter{w: bufio.NewWriterSize(w, 64<<10), f: f}
	switch format {
	case "bcm":
		p.keep = func(en *entry) bool { return en.inFormat(formatBCM) }
	case "json":
		p.keep = func(en *entry) bool { return en.inFormat(formatJSON) }
	}
	return p, nil
}

// formatPrinter renders records with one of the library's formatters. A
// record read from a line already in BCM or JSON, when that is the format,
// is printed as the line, byte for byte.
type formatPrinter struct {
	w    *bufio.Writer
	f    audit.Formatter
	keep func(en *entry) bool // the line of en is in f's format; nil: never known
	buf  []byte
}

func (p *formatPrinter) print(en *entry) error {
	if p.keep != nil && p.keep(en) {
		p.w.Write(en.line)
		return p.w.WriteByte('\n')
	}
	r, err := en.record()
	if err != nil {
		return err
	}
	b, err := p.f.Append(p.buf[:0], r)
	if err != nil {
		return err
	}
	p.buf = append(b, '\n')
	_, err = p.w.Write(p.buf)
	return err
}

func (p *formatPrinter) flush() error { return p.w.Flush() }

// tablePrinter writes a header line and then one line per record, with
// columns of fixed width, so that rows are written as they come and stay
// aligned however long the output. A value wider than its column is cut
// and ends in '…'.
type tablePrinter struct {
	w      *bufio.Writer
	v      *view
	widths []int // of the columns
	header bool  // the header was written
	last   time.Time
	buf    []byte
	cell   []byte
}

// tableFlushDelay is how long a row may wait in the buffer.
const tableFlushDelay = 100 * time.Millisecond

func (p *tablePrinter) print(en *entry) error {
	r, err := en.record()
	if err != nil {
		return err
	}
	cols := p.v.columns
	if !p.header {
		for _, c := range cols {
			w := c.width
			if c.name == "time" && p.v.loc != nil {
				w = len("2006-01-02T15:04:05.000000-07:00")
			}
			p.widths = append(p.widths, w)
		}
		b := p.buf[:0]
		for i, c := range cols {
			b = appendPadded(b, []byte(strings.ToUpper(c.name)), p.widths[i], i == len(cols)-1)
		}
		p.w.Write(append(b, '\n'))
		p.header = true
		p.last = time.Now()
	}
	b := p.buf[:0]
	for i, c := range cols {
		p.cell = appendCell(p.cell[:0], c.value(en, r, p.v))
		b = appendPadded(b, p.cell, p.widths[i], i == len(cols)-1)
	}
	p.buf = append(b, '\n')
	if _, err := p.w.Write(p.buf); err != nil {
		return err
	}
	if now := time.Now(); now.Sub(p.last) >= tableFlushDelay {
		p.last = now
		return p.w.Flush()
	}
	return nil
}

func (p *tablePrinter) flush() error { return p.w.Flush() }

// columnGap separates the columns of the table.
const columnGap = "  "

// appendPadded appends cell cut to width display columns and, unless it
// is the last cell of the row, padded to width and followed by the gap.
// The last cell is neither cut nor padded.
func appendPadded(dst, cell []byte, width int, last bool) []byte {
	if last {
		return append(dst, cell...)
	}
	w := displayWidth(cell)
	if w <= width {
		dst = append(dst, cell...)
	} else {
		// Keep what fits in width-1 columns, then the ellipsis.
		w = 0
		for i := 0; i < len(cell); {
			r, n := utf8.DecodeRune(cell[i:])
			rw := runeWidth(r)
			if w+rw > width-1 {
				break
			}
			dst = append(dst, cell[i:i+n]...)
			w += rw
			i += n
		}
		dst = append(dst, "…"...)
		w++
	}
	for ; w < width; w++ {
		dst = append(dst, ' ')
	}
	return append(dst, columnGap...)
}

// csvPrinter writes RFC 4180 CSV with a header row. A cell that a
// spreadsheet would take for a formula (one that starts with '=', '+',
// '-', '@', a tab or a carriage return) is prefixed with "'".
type csvPrinter struct {
	w      *csv.Writer
	v      *view
	header bool
	row    []string
}

func (p *csvPrinter) print(en *entry) error {
	r, err := en.record()
	if err != nil {
		return err
	}
	if !p.header {
		p.row = p.row[:0]
		for _, c := range p.v.columns {
			p.row = append(p.row, c.name)
		}
		if err := p.w.Write(p.row); err != nil {
			return err
		}
		p.header = true
	}
	p.row = p.row[:0]
	for _, c := range p.v.columns {
		p.row = append(p.row, csvCell(c.value(en, r, p.v)))
	}
	return p.w.Write(p.row)
}

func (p *csvPrinter) flush() error {
	p.w.Flush()
	return p.w.Error()
}

// csvCell neutralises s against spreadsheet formulas.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

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

// column is a column of the table and CSV outputs.
type column struct {
	name  string
	width int // in the table, in display columns
	value func(en *entry, r *audit.Record, v *view) string
}

// columns are every column, in the order of "all".
var columns = []*column{
	{"time", 27, func(_ *entry, r *audit.Record, v *view) string { return v.time(r.Event.Time) }},
	{"module", 16, func(_ *entry, r *audit.Record, _ *view) string { return r.Module }},
	{"seq", 7, func(_ *entry, r *audit.Record, _ *view) string { return strconv.FormatUint(r.Seq, 10) }},
	{"type", 20, func(_ *entry, r *audit.Record, _ *view) string { return r.Event.Type.String() }},
	{"outcome", 7, func(_ *entry, r *audit.Record, _ *view) string { return r.Event.Outcome.String() }},
	{"actor", 14, func(_ *entry, r *audit.Record, _ *view) string { return r.Event.Actor }},
	{"subject", 14, func(_ *entry, r *audit.Record, _ *view) string { return r.Event.Subject }},
	{"object", 18, func(_ *entry, r *audit.Record, _ *view) string { return r.Event.Object }},
	{"old", 18, func(_ *entry, r *audit.Record, _ *view) string { return r.Event.OldValue }},
	{"new", 18, func(_ *entry, r *audit.Record, _ *view) string { return r.Event.NewValue }},
	{"client", 21, func(_ *entry, r *audit.Record, _ *view) string { return r.Event.Client }},
	{"session", 12, func(_ *entry, r *audit.Record, _ *view) string { return r.Event.Session }},
	{"reason", 24, func(_ *entry, r *audit.Record, _ *view) string { return r.Event.Reason }},
	{"fields", 24, func(_ *entry, r *audit.Record, _ *view) string { return extraFields(r) }},
	{"file", 40, func(en *entry, _ *audit.Record, _ *view) string {
		if en.file == nil {
			return ""
		}
		return en.file.path + ":" + strconv.Itoa(en.lineNo)
	}},
}

// defaultColumnNames are the columns shown without --columns.
const defaultColumnNames = "time,module,type,outcome,actor,subject,object,old,new,client,session,reason"

func defaultColumns() []*column {
	cols, err := parseColumns(defaultColumnNames)
	if err != nil {
		panic(err)
	}
	return cols
}

// columnNames lists the names of every column.
func columnNames() string {
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// parseColumns parses the value of --columns.
func parseColumns(s string) ([]*column, error) {
	if strings.EqualFold(strings.TrimSpace(s), "all") {
		return columns, nil
	}
	var cols []*column
	for name := range strings.SplitSeq(s, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		var col *column
		for _, c := range columns {
			if c.name == name {
				col = c
			}
		}
		if col == nil {
			return nil, fmt.Errorf("unknown column %q; want any of %s, or all", name, columnNames())
		}
		cols = append(cols, col)
	}
	if len(cols) == 0 {
		return nil, errors.New("want at least one column")
	}
	return cols, nil
}

// time formats t as the table and CSV show it.
func (v *view) time(t time.Time) string {
	if v.loc == nil {
		return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	}
	return t.In(v.loc).Format("2006-01-02T15:04:05.000000Z07:00")
}

// extraFields returns the extra fields of r as key=value, separated by
// spaces.
func extraFields(r *audit.Record) string {
	var b strings.Builder
	for i := range r.Event.NumFields() {
		f := r.Event.Field(i)
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.Key)
		b.WriteByte('=')
		b.WriteString(f.Value)
	}
	return b.String()
}
