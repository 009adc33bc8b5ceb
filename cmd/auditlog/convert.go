package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/auditkit/audit"
)

var convertCommand = &command{
	name:    "convert",
	args:    "--to json|bcm|cef|ocsf [FILE...]",
	summary: "re-render the records of audit files in another format",
	details: `Convert reads every record of the files given, plain or gzipped and in any
built-in format, and writes it to standard output in the format named by
--to, in file and line order. "-" or no FILE reads standard input. A line
that does not parse is reported on standard error as FILE:LINE and skipped;
the exit status is then 1.`,
	flags: func(e *env, c *command, set *flag.FlagSet) func([]string) int {
		to := ""
		set.Func("to", "output `format`: json, bcm, cef or ocsf", func(s string) error {
			switch v := strings.ToLower(strings.TrimSpace(s)); v {
			case "json", "bcm", "cef", "ocsf":
				to = v
				return nil
			}
			return errors.New("want json, bcm, cef or ocsf")
		})
		return func(args []string) int {
			if to == "" {
				return e.usageError(c, "--to is required")
			}
			if len(args) == 0 {
				args = []string{"-"}
			}
			return e.convert(c, to, args)
		}
	},
}

func (e *env) convert(c *command, to string, files []string) int {
	rep := newReporter(e)
	out := &outWriter{w: e.stdout, rep: rep}
	p, err := newPrinter(to, out, nil)
	if err != nil {
		return e.errorf(c, "%v", err)
	}
	ioErr := false
	for i, name := range files {
		rep.progress(i+1, len(files))
		var rc io.ReadCloser
		if name == "-" {
			name = "standard input"
			rc, err = maybeGunzip(e.stdin, io.NopCloser(e.stdin))
		} else {
			var f *os.File
			if f, err = os.Open(name); err == nil {
				rc, err = maybeGunzip(f, f)
			}
		}
		if err != nil {
			rep.note("%s: %v", name, cleanErr(err))
			ioErr = true
			continue
		}
		err = convertFile(name, rc, p, rep, out)
		rc.Close()
		if out.err != nil {
			return e.errorf(c, "write standard output: %v", out.err)
		}
		if err != nil {
			rep.note("%v", err)
			ioErr = true
		}
	}
	rep.clearProgress()
	if err := p.flush(); err != nil {
		return e.errorf(c, "write standard output: %v", err)
	}
	if ioErr {
		return exitUsage
	}
	return rep.status()
}

// convertFile prints every record of r. Lines that do not parse are
// reported and skipped. The error is a read error, or a write error to out.
func convertFile(name string, r io.Reader, p printer, rep *reporter, out *outWriter) error {
	lr := audit.NewLineReader(r, name)
	no := 0 // the number of the last line read
	for {
		ln, err := lr.Next()
		if ln.Number > 0 { // not at the end, nor after a read error
			no = ln.Number
		}
		line := trimCR(ln.Text)
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.Is(err, audit.ErrLineTooLong):
			rep.problem("%s:%d: %v, skipped", name, no, audit.ErrLineTooLong)
			continue
		case err != nil:
			return fmt.Errorf("%s:%d: read error: %v", name, no+1, readError(err))
		case len(line) == 0 && ln.Complete:
			continue
		case !ln.Complete && activeRE.MatchString(filepath.Base(name)):
			rep.note("%s:%d: incomplete final line skipped (a record being written?)", name, no)
			continue
		case !ln.Complete:
			rep.problem("%s:%d: incomplete final line skipped (the file was cut short)", name, no)
			continue
		}
		rec, err := audit.ParseRecord(line)
		if err != nil {
			rep.problem("%s:%d: %v", name, no, err)
			continue
		}
		if err := p.print(recordEntry(&rec, nil)); err != nil {
			if out.err != nil {
				return out.err
			}
			rep.problem("%s:%d: %v", name, no, err)
			continue
		}
	}
}
