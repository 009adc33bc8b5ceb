package main

import (
	"errors"
	"flag"
	"fmt"
	"maps"
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
	args:    "DIR|FILE [--module M] [--key-dir D | --key-file F] [--anchors PATH [--anchor-host H]]",
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
  no key       the module is sealed with a key and none was given for it
               (no --key-file, or --key-dir holds no M.key)
  no files     --key-dir holds M.key, but DIR holds no file of module M
An incomplete last record of the active file, left by a crash in the
middle of a write, is reported as such and is not tampering.

A collector's copy. When the argument is a FILE rather than a directory,
it is one file holding the records of several consecutive audit files of
module M (--module is required), in order, as a collector writes them
(duplicates dropped; a name ending in .gz is decompressed): each
FILE_START record starts the next file, and the chain is checked across
them as in the audit files; problems name the line of FILE. A copy has no
head file, so its verdict vouches for the chain from its first file up to
its newest record, and no further: records cut from the end of the copy
are not detected.

Anchors. With --anchors PATH, PATH is what a collector received from the
hosts: a file, or a directory of files (read recursively), whose lines
are audit records as written (a collector's mirror files; rsyslog writing
the message alone) or RFC 5424 messages whose MSG is a record (as
'auditlog ship' sends them; rsyslog's RSYSLOG_SyslogProtocol23Format),
or a capture of what 'auditlog ship' sent over TCP: RFC 6587
octet-counted frames.
Every record that verifies with its module's key is an anchor: a
FILE_START record on its own, any other record chained to the line of its
module before it in the same file. Forged lines and records of other
chains are not anchors. For each module the newest anchor (file index,
then seq) must be in DIR with the same file index, seq and MAC; if it is
not, the module is TAMPERED (file missing, truncated or modified): the
newest files were deleted or the active file was cut behind a shipped
record, even if an older copy of the head file was put back. The verdict
names the anchor found. A module that PATH has anchors of and DIR has no
file of is TAMPERED too, unless PATH holds the RFC 5424 messages of
several hosts and that module's come from another host than those that
DIR's modules match: it is then another host's module, or, when no
module of DIR tells which host DIR is, not verified (give --anchor-host). --anchor-host H reads only the RFC 5424 messages
of host H (raw record lines carry no host): use it when modules of the
same name on several hosts share a key.

The exit status is 0 when every sealed module verified, 1 when one was
tampered with, and 2 for a usage or I/O error or a module without its key.`,
	flags: func(e *env, c *command, set *flag.FlagSet) func([]string) int {
		module := set.String("module", "", "verify only module `M`")
		keyFile := set.String("key-file", "", "the original integrity key `file`")
		keyDir := set.String("key-dir", "", "a `directory` holding each module's original key as M.key")
		anchorsPath := set.String("anchors", "", "what a collector received: a `file` or directory of records or RFC 5424 messages")
		anchorHost := set.String("anchor-host", "", "read only the RFC 5424 messages of `host` H from --anchors")
		return func(args []string) int {
			if len(args) != 1 {
				return e.usageError(c, "want one directory or file, got %d arguments", len(args))
			}
			if *keyFile != "" && *keyDir != "" {
				return e.usageError(c, "give --key-file or --key-dir, not both")
			}
			if *anchorHost != "" && *anchorsPath == "" {
				return e.usageError(c, "--anchor-host goes with --anchors")
			}
			dir := args[0]
			fi, err := os.Stat(dir)
			if err == nil && fi.Mode().IsRegular() {
				if *module == "" {
					return e.usageError(c, "%s is a file: give the module of its records with --module", dir)
				}
				if *anchorsPath != "" {
					return e.usageError(c, "--anchors checks a directory of audit files, not a collector's copy")
				}
				return verifyCopy(e, c, dir, *module, *keyFile, *keyDir)
			}
			if err != nil || !fi.IsDir() {
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
					if err := checkModule(dir, *module); err != nil {
						return e.errorf(c, "%v", err)
					}
				}
				mods = []string{*module}
			}
			var fileKey []byte
			if *keyFile != "" {
				if fileKey, err = audit.ReadKey(*keyFile); err != nil {
					return e.errorf(c, "%v", err)
				}
			}
			var anchors *audit.Anchors
			if *anchorsPath != "" {
				anchors = &audit.Anchors{Host: *anchorHost, Key: func(m string) ([]byte, bool) {
					if *module != "" && m != *module {
						return nil, false
					}
					if *keyDir == "" {
						return fileKey, true
					}
					key, err := audit.ReadKey(filepath.Join(*keyDir, m+".key"))
					if errors.Is(err, os.ErrNotExist) {
						return nil, true
					}
					return key, err == nil // a bad key file is reported when the module is verified
				}}
				if err := anchors.ReadPath(*anchorsPath); err != nil {
					return e.errorf(c, "%v", err)
				}
			}
			rep := newReporter(e)
			out := &outWriter{w: e.stdout, rep: rep}
			var bad *audit.Problem
			var badModule string
			localHosts := map[string]bool{} // hosts whose shipped records the local files hold
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
				r, err := audit.VerifyWith(dir, m, key, audit.VerifyOptions{Anchors: anchors})
				if err != nil {
					rep.clearProgress()
					fmt.Fprintf(e.stderr, "auditlog: verify: module %s: %v\n", m, err)
					status = exitUsage
					continue
				}
				records += r.Records
				line, noKey := moduleVerdict(r, key != nil, *keyDir != "", anchors != nil)
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
				if r.AnchorMatched && r.Anchor.Host != "" {
					localHosts[r.Anchor.Host] = true
				}
			}
			rep.clearProgress()
			if *keyDir != "" && *module == "" {
				// A module the auditor holds a key for and the directory
				// holds nothing of: its files and its head file were all
				// deleted (or it never wrote here). Not verified.
				gone, err := keyedModules(*keyDir, mods)
				if err != nil {
					return e.errorf(c, "%v", err)
				}
				for _, m := range gone {
					if anchors != nil {
						if _, ok := anchors.Newest(m); ok {
							continue // its shipped records tell more: below
						}
					}
					fmt.Fprintf(out, "%-20s no files: the key directory holds %s.key, but %s holds no file of module %s: its files and head file were deleted, or it never wrote there\n", m, m, dir, m)
					status = max(status, exitUsage)
				}
			}
			if anchors != nil {
				for _, m := range anchors.Modules() {
					if slices.Contains(mods, m) {
						continue
					}
					a, _ := anchors.Newest(m)
					if hosts := anchors.Hosts(); a.Host != "" && *anchorHost == "" && len(hosts) > 1 && !localHosts[a.Host] {
						// Records of several hosts: is this module's
						// host the directory's?
						if len(localHosts) > 0 {
							fmt.Fprintf(out, "%-20s another host's: its shipped records come from host %s, and this directory's modules hold the records of host %s\n", m, a.Host, strings.Join(slices.Sorted(maps.Keys(localHosts)), ", "))
						} else {
							fmt.Fprintf(out, "%-20s not verified: no local file, and the anchors hold the records of %d hosts (%s): give --anchor-host to say which host %s is\n", m, len(hosts), strings.Join(hosts, ", "), dir)
							status = max(status, exitUsage)
						}
						continue
					}
					p := &audit.Problem{File: dir, Kind: audit.FileMissing, Detail: fmt.Sprintf(
						"records of module %s were shipped off the host (the newest, %s, is record %d of file %d), but this directory holds no file of it", m, a.Source, a.Seq, a.File)}
					fmt.Fprintf(out, "%-20s TAMPERED (%s): no local file\n", m, p.Kind)
					if bad == nil {
						bad, badModule = p, m
					}
				}
			}
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
func moduleVerdict(r *audit.VerifyReport, keyed, keyDir, anchored bool) (line string, noKey bool) {
	name := fmt.Sprintf("%-20s ", r.Module)
	if !r.Sealed {
		return name + fmt.Sprintf("not sealed: %d file(s) written without integrity protection", r.Files), false
	}
	if !keyed && r.Problem != nil && r.Problem.Kind == audit.WrongKey {
		// Not verified for want of a key: neither intact nor tampered.
		if keyDir {
			return name + "no key: the module is sealed with a key, and the key directory has no " + r.Module + ".key", true
		}
		return name + "no key: the module is sealed with a key; give its original key with --key-file or --key-dir", true
	}
	chain := "hmac-sha256"
	if !keyed {
		chain = "sha256 (no key: detects accidents, not a forger)"
	}
	if r.Problem != nil {
		return name + fmt.Sprintf("TAMPERED (%s): %d files, %d records checked, chain %s", r.Problem.Kind, r.Files, r.Records, chain), false
	}
	s := fmt.Sprintf("verified: %d files, %d records, chain %s", r.Files, r.Records, chain)
	if r.Stream {
		s = fmt.Sprintf("verified (collector's copy): files %d to %d, %d records, chain %s", r.FirstIndex, r.LastIndex, r.Records, chain)
	}
	if r.LastFile != "" {
		if r.Stream {
			s += fmt.Sprintf("; newest record file %d seq %d", r.LastIndex, r.LastSeq)
		} else {
			s += fmt.Sprintf("; newest record %s seq %d", filepath.Base(r.LastFile), r.LastSeq)
		}
		if !r.Newest.IsZero() {
			s += " at " + r.Newest.UTC().Format(time.RFC3339)
		}
	}
	if r.Stream {
		s += "; no head file: records cut from the end of the copy are not detected"
	}
	if r.HeadFile != "" {
		s += fmt.Sprintf("; head vouches up to %s seq %d", filepath.Base(r.HeadFile), r.HeadSeq)
	}
	switch a := r.Anchor; {
	case a != nil && r.AnchorMatched:
		s += fmt.Sprintf("; shipped anchor found: file %d seq %d (%s", a.File, a.Seq, a.Type)
		if !a.Time.IsZero() {
			s += " at " + a.Time.UTC().Format(time.RFC3339)
		}
		s += ", " + a.Source + ")"
	case a != nil:
		s += fmt.Sprintf("; the newest shipped anchor (file %d seq %d, %s) lies in files removed by retention", a.File, a.Seq, a.Source)
	case anchored:
		s += "; no shipped anchor for this module"
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

// verifyCopy verifies path, a collector's copy of module's records.
func verifyCopy(e *env, c *command, path, module, keyFile, keyDir string) int {
	var key []byte
	var err error
	switch {
	case keyFile != "":
		key, err = audit.ReadKey(keyFile)
	case keyDir != "":
		key, err = audit.ReadKey(filepath.Join(keyDir, module+".key"))
		if errors.Is(err, os.ErrNotExist) {
			key, err = nil, nil
		}
	}
	if err != nil {
		return e.errorf(c, "%v", err)
	}
	r, err := audit.VerifyFile(path, module, key)
	if err != nil {
		return e.errorf(c, "%v", err)
	}
	out := &outWriter{w: e.stdout, rep: newReporter(e)}
	line, noKey := moduleVerdict(r, key != nil, keyDir != "", false)
	fmt.Fprintln(out, line)
	switch {
	case out.err != nil:
		return e.errorf(c, "write standard output: %v", out.err)
	case r.Problem != nil && !noKey:
		fmt.Fprintf(out, "TAMPERED: module %s: %v\n", module, r.Problem)
		return exitProblem
	case noKey:
		fmt.Fprintln(out, "NOT VERIFIED: a module could not be checked (see above)")
		return exitUsage
	case !r.Sealed:
		fmt.Fprintf(out, "OK: 1 module(s), 0 sealed, 0 records verified\n")
		return exitOK
	}
	fmt.Fprintf(out, "OK: 1 module(s), 1 sealed, %d records verified\n", r.Records)
	return exitOK
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

// keyedModules returns the modules that keyDir holds a key file M.key for
// and that are not in mods, sorted.
func keyedModules(keyDir string, mods []string) ([]string, error) {
	entries, err := os.ReadDir(keyDir)
	if err != nil {
		return nil, fmt.Errorf("key directory: %w", err)
	}
	var out []string
	for _, ent := range entries {
		m, ok := strings.CutSuffix(ent.Name(), ".key")
		if !ok || m == "" || ent.IsDir() || slices.Contains(mods, m) || !moduleRE.MatchString(m) {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}
