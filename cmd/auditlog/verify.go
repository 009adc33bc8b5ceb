package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/auditkit/audit"
)

// verifyCommand checks the integrity chain of audit files.
var verifyCommand = &command{
	name:    "verify",
	args:    "DIR [--module M] [--key-dir D | --key-file F]",
	summary: "check that audit files are the files that were written",
	details: `Verify checks the audit files in DIR, for every module or for --module M:
each record's MAC and sequence number, the chain from file to file
(compressed backups included), and the module's head file, which names the
newest record the writer made durable, so that deleting the newest files or
cutting the active file is detected. Files removed by retention are
accounted for by the RETENTION_PRUNE records of the chain.

Verifying needs the ORIGINAL key of each module's chain (as made by
'auditlog key', copied before the first record): the library replaces the
key in its own key file with the next one at each new file, and an evolved
key cannot verify the older files (it is refused, exit 2).

  --key-dir D   the original key of module M is D/M.key, for every module
  --key-file F  the original key for every module verified (use it with
                --module when modules have keys of their own)

Without a key, a plain SHA-256 chain is checked, which shows accidents but
not a forger.

It prints one line per module and a one-line verdict:
  verified     every record up to the one named is the record written
  not sealed   the module writes without integrity protection: nothing
               to verify (files written while protection was off are
               counted as unsealed in a sealed module)
  TAMPERED     the first problem's file, line and kind: modified,
               inserted, removed, reordered, truncated, file missing,
               replaced, wrong key, unprotected, head missing
  no key       --key-dir holds no key for a sealed module
An incomplete last record of the active file, left by a crash in the
middle of a write, is reported as such and is not tampering.

The exit status is 0 when every sealed module verified, 1 when one was
tampered with, and 2 for a usage or I/O error or a module without its key.`,
	flags: func(e *env, c *command, set *flag.FlagSet) func([]string) int {
		module := set.String("module", "", "verify only module `M`")
		keyFile := set.String("key-file", "", "the original integrity key `file`")
		keyDir := set.String("key-dir", "", "a `directory` holding each module's original key as M.key")
		return func(args []string) int {
			if len(args) != 1 {
				return e.usageError(c, "want one directory, got %d arguments", len(args))
			}
			if *keyFile != "" && *keyDir != "" {
				return e.usageError(c, "give --key-file or --key-dir, not both")
			}
			dir := args[0]
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return e.errorf(c, "directory %s: %v", dir, notDirError(err))
			}
			mods, err := audit.Modules(dir)
			if err != nil {
				return e.errorf(c, "%v", err)
			}
			if len(mods) == 0 {
				return e.errorf(c, "%s holds no audit files", dir)
			}
			if *module != "" {
				if !slices.Contains(mods, *module) {
					return e.errorf(c, "%s holds no audit files of module %s (modules found: %s)", dir, *module, strings.Join(mods, ", "))
				}
				mods = []string{*module}
			}
			var fileKey []byte
			if *keyFile != "" {
				if fileKey, err = audit.ReadKey(*keyFile); err != nil {
					return e.errorf(c, "%v", err)
				}
			}
			rep := newReporter(e)
			out := &outWriter{w: e.stdout, rep: rep}
			var bad *audit.Problem
			var badModule string
			status, records, sealed := exitOK, 0, 0
			for i, m := range mods {
				rep.progress(i, len(mods))
				key := fileKey
				if *keyDir != "" {
					keyName := filepath.Join(*keyDir, m+".key")
					key, err = audit.ReadKey(keyName)
					if errors.Is(err, os.ErrNotExist) {
						key = nil
					} else if err != nil {
						rep.clearProgress()
						return e.errorf(c, "%v", err)
					}
				}
				r, err := audit.Verify(dir, m, key)
				if err != nil {
					rep.clearProgress()
					fmt.Fprintf(e.stderr, "auditlog: verify: module %s: %v\n", m, err)
					status = exitUsage
					continue
				}
				records += r.Records
				line, noKey := moduleVerdict(r, key != nil, *keyDir != "")
				fmt.Fprintln(out, line)
				switch {
				case noKey:
					status = max(status, exitUsage)
				case r.Problem != nil && bad == nil:
					bad, badModule = r.Problem, m
				}
				if r.Sealed {
					sealed++
				}
			}
			rep.clearProgress()
			if out.err != nil {
				return e.errorf(c, "write standard output: %v", out.err)
			}
			if bad != nil {
				fmt.Fprintf(out, "TAMPERED: module %s: %v\n", badModule, bad)
				if bad.Kind == audit.WrongKey && *keyFile != "" && len(mods) > 1 {
					fmt.Fprintln(out, "(each module's chain has a key of its own: use --key-dir, or --module with --key-file)")
				}
				return exitProblem
			}
			if status != exitOK {
				fmt.Fprintln(out, "NOT VERIFIED: a module could not be checked (see above)")
				return status
			}
			fmt.Fprintf(out, "OK: %d module(s), %d sealed, %d records verified\n", len(mods), sealed, records)
			return exitOK
		}
	},
}

// moduleVerdict is the line printed for one module. noKey reports a sealed
// module that --key-dir has no key for.
func moduleVerdict(r *audit.VerifyReport, keyed, keyDir bool) (line string, noKey bool) {
	name := fmt.Sprintf("%-20s ", r.Module)
	if !r.Sealed {
		return name + fmt.Sprintf("not sealed: %d file(s) written without integrity protection", r.Files), false
	}
	if keyDir && !keyed && r.Problem != nil && r.Problem.Kind == audit.WrongKey {
		return name + "no key: the module is sealed with a key, and the key directory has no " + r.Module + ".key", true
	}
	chain := "hmac-sha256"
	if !keyed {
		chain = "sha256 (no key: detects accidents, not a forger)"
	}
	if r.Problem != nil {
		return name + fmt.Sprintf("TAMPERED (%s): %d files, %d records checked, chain %s", r.Problem.Kind, r.Files, r.Records, chain), false
	}
	s := fmt.Sprintf("verified: %d files, %d records, chain %s", r.Files, r.Records, chain)
	if r.LastFile != "" {
		s += fmt.Sprintf("; newest record %s seq %d", filepath.Base(r.LastFile), r.LastSeq)
		if !r.Newest.IsZero() {
			s += " at " + r.Newest.UTC().Format(time.RFC3339)
		}
	}
	if r.HeadFile != "" {
		s += fmt.Sprintf("; head vouches up to %s seq %d", filepath.Base(r.HeadFile), r.HeadSeq)
	}
	if n := len(r.Pruned); n > 0 {
		s += fmt.Sprintf("; %d file(s) removed by retention", n)
	}
	if n := len(r.Unsealed); n > 0 {
		s += fmt.Sprintf("; %d unsealed file(s) written while integrity was off", n)
	}
	if r.Torn != "" {
		s += "; note: " + r.Torn + " (moved aside at the next start; not tampering)"
	}
	return name + s, false
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
