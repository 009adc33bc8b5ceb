package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/auditkit/audit"
)

// verifyCommand checks the integrity chain of audit files.
var verifyCommand = &command{
	name:    "verify",
	args:    "DIR [--module M] [--key-file F]",
	summary: "check that audit files are the files that were written",
	details: `Verify checks the integrity chain of the audit files in DIR, for every
module or for --module M: each record's MAC, the sequence numbers, and the
chain from file to file, compressed backups included. Files removed by
retention are accounted for by the RETENTION_PRUNE records of the live chain.

--key-file names the ORIGINAL key file of the chain (as made by
'auditlog key'): the library replaces the key in its own copy with the next
one at each new file, so verifying needs the copy taken before the first
record. Without --key-file, a plain SHA-256 chain is checked, which shows
accidents but not a forger.

It prints one line per module and a one-line verdict. The exit status is 0
when every file is intact, 1 when a file was tampered with (the first
problem's file, line and kind are printed: modified, inserted, removed,
reordered, truncated, file missing, replaced, wrong key, unprotected), and
2 for a usage or I/O error.

What verify cannot see: records removed from the end of the active file.
The newest record's time is printed so that it can be compared with when
the module last ran (and with its CHECKPOINT interval, if set).`,
	flags: func(e *env, c *command, set *flag.FlagSet) func([]string) int {
		module := set.String("module", "", "verify only module `M`")
		keyFile := set.String("key-file", "", "the original integrity key `file`")
		return func(args []string) int {
			if len(args) != 1 {
				return e.usageError(c, "want one directory, got %d arguments", len(args))
			}
			dir := args[0]
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return e.errorf(c, "directory %s: %v", dir, notDirError(err))
			}
			var key []byte
			if *keyFile != "" {
				var err error
				if key, err = audit.ReadKey(*keyFile); err != nil {
					return e.errorf(c, "%v", err)
				}
			}
			mods, err := listAuditFiles(dir, *module)
			if err != nil {
				return e.errorf(c, "%v", err)
			}
			if len(mods) == 0 {
				return e.errorf(c, "%s holds no audit files%s", dir, moduleSuffix(*module))
			}
			rep := newReporter(e)
			out := &outWriter{w: e.stdout, rep: rep}
			var bad *audit.Problem
			records := 0
			for i, mf := range mods {
				rep.progress(i, len(mods))
				r, err := audit.Verify(dir, mf.module, key)
				if err != nil {
					rep.clearProgress()
					return e.errorf(c, "%v", err)
				}
				records += r.Records
				fmt.Fprintln(out, moduleVerdict(r, key != nil))
				if r.Problem != nil && bad == nil {
					bad = r.Problem
				}
			}
			rep.clearProgress()
			if out.err != nil {
				return e.errorf(c, "write standard output: %v", out.err)
			}
			if bad != nil {
				fmt.Fprintf(out, "TAMPERED: %v\n", bad)
				return exitProblem
			}
			fmt.Fprintf(out, "OK: %d module(s), %d records, every file intact\n", len(mods), records)
			return exitOK
		}
	},
}

// moduleVerdict is the line printed for one module.
func moduleVerdict(r *audit.VerifyReport, keyed bool) string {
	chain := "hmac-sha256"
	if !keyed {
		chain = "sha256 (no key: detects accidents, not a forger)"
	}
	s := fmt.Sprintf("%-20s %d files, %d records, chain %s", r.Module, r.Files, r.Records, chain)
	if !r.Newest.IsZero() {
		s += ", newest record " + r.Newest.UTC().Format(time.RFC3339)
	}
	if n := len(r.Pruned); n > 0 {
		s += fmt.Sprintf(", %d file(s) removed by retention", n)
	}
	if r.Problem != nil {
		s += ": " + r.Problem.Kind.String()
	} else {
		s += ": ok"
	}
	return s
}

func moduleSuffix(module string) string {
	if module == "" {
		return ""
	}
	return " of module " + module
}

func notDirError(err error) error {
	if err == nil {
		return errors.New("not a directory")
	}
	if errors.Is(err, os.ErrNotExist) {
		return errors.New("no such directory")
	}
	return err
}
