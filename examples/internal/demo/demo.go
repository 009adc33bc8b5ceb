// Package demo runs a simulated day of a server module against the audit
// library, for the example programs.
package demo

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/auditkit/audit"
)

// Script is what one module does during the simulated day.
type Script struct {
	Module  string
	Agent   string // a user who logs on and works
	Channel string // the kind of channel the module opens
	Setting string // a setting an administrator changes
}

// Main parses args, runs the script's day and returns the exit status.
func Main(s Script, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(s.Module, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "logs", "directory for the audit files (AuditLogPath)")
	format := fs.String("format", "BCM", "record format (AuditLogFormatter): BCM or JSON")
	mask := audit.DefaultMask | audit.ModifyEvents
	fs.TextVar(&mask, "mask", mask, "event mask (AuditEventMask)")
	show := fs.Int("show", 5, "how many lines of the file to print")
	seal := fs.Bool("seal", false, "seal the files with the integrity key file DIR/keys/<Module>.key (made if missing)")
	keyFile := fs.String("key-file", "", "seal the files with this integrity key `file` instead (made if missing)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *seal && *keyFile == "" {
		*keyFile = filepath.Join(*dir, "keys", s.Module+".key")
	}
	cfg, err := audit.ConfigFromParams(s.Module, map[string]string{
		audit.ParamAuditLogPath:  *dir,
		audit.ParamFormatter:     *format,
		audit.ParamEventMask:     mask.String(),
		audit.ParamRetentionDays: "30",
	})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if *keyFile != "" {
		if err := makeKey(*keyFile, stdout); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		cfg.Integrity, cfg.IntegrityKeyFile = true, *keyFile
	}
	newest, err := newestRecord(*dir, s.Module)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	l, err := audit.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	n, err := day(l, s, dayTimes(time.Now(), newest))
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	path, _ := filepath.Abs(l.Path())
	fmt.Fprintf(stdout, "%s wrote %d audit records to %s\n", s.Module, n, path)
	return head(stdout, l.Path(), *show)
}

// originalKeyFile returns the name of the copy of the key file kept for
// the auditor: AgentServer.key is kept as AgentServer.original.key.
func originalKeyFile(keyFile string) string {
	return strings.TrimSuffix(keyFile, ".key") + ".original.key"
}

// makeKey makes the integrity key file keyFile when it does not exist,
// and keeps a copy of it, which the library does not rewrite, for
// verifying.
func makeKey(keyFile string, stdout io.Writer) error {
	if _, err := os.Stat(keyFile); !errors.Is(err, fs.ErrNotExist) {
		return err // nil: the key exists and the library moves it on
	}
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
		return err
	}
	if err := audit.NewKey(keyFile); err != nil {
		return err
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	orig := originalKeyFile(keyFile)
	if err := os.WriteFile(orig, data, 0o400); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "made integrity key %s (live: the library rewrites it at each file)\n", keyFile)
	fmt.Fprintf(stdout, "kept its original as %s: verify with --key-file %s\n", orig, orig)
	return nil
}

// newestRecord returns the time of the newest record in the module's
// audit files in dir, or the zero time if there is none.
func newestRecord(dir, module string) (time.Time, error) {
	names, err := filepath.Glob(filepath.Join(dir, module+".audit*.log*"))
	if err != nil {
		return time.Time{}, err
	}
	var newest time.Time
	for _, name := range names {
		if !strings.HasSuffix(name, ".log") && !strings.HasSuffix(name, ".log.gz") {
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			return time.Time{}, err
		}
		var r io.Reader = f
		if strings.HasSuffix(name, ".gz") {
			if r, err = gzip.NewReader(f); err != nil {
				f.Close()
				return time.Time{}, fmt.Errorf("%s: %w", name, err)
			}
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, audit.MaxRecordSize+1)
		for sc.Scan() {
			if rec, err := audit.ParseRecord(sc.Bytes()); err == nil && rec.Event.Time.After(newest) {
				newest = rec.Event.Time
			}
		}
		f.Close()
	}
	return newest, nil
}

// The simulated day's events, by their clock times from 07:55 to 18:00.
const (
	dayStart = 7*time.Hour + 55*time.Minute
	dayEnd   = 18 * time.Hour
)

// dayTimes returns the function that places the simulated day's clock
// times in real time: the day ends at now, and starts after newest (the
// newest record already written) so that time moves forward from run to
// run; when newest leaves less than the day's length before now, the day
// is compressed into what is left. When newest is not before now (a clock
// set back), the day follows newest a millisecond per event.
func dayTimes(now, newest time.Time) func(hour, minute int) time.Time {
	now = now.Truncate(time.Microsecond)
	start := now.Add(-(dayEnd - dayStart))
	if !newest.IsZero() && !newest.Before(now) {
		return func(hour, minute int) time.Time {
			off := time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute - dayStart
			return newest.Add(time.Millisecond + off/time.Minute*time.Millisecond)
		}
	}
	if !newest.IsZero() && !newest.Before(start) {
		start = newest.Add(time.Microsecond)
	}
	span := now.Sub(start)
	return func(hour, minute int) time.Time {
		off := time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute - dayStart
		return start.Add(time.Duration(float64(span) * float64(off) / float64(dayEnd-dayStart))).Truncate(time.Microsecond)
	}
}

// day logs the simulated day, placing its clock times with at, and
// returns how many records were written.
func day(l *audit.Logger, s Script, at func(hour, minute int) time.Time) (int, error) {
	ctx := context.Background()
	events := []audit.Event{
		{Time: at(7, 55), Type: audit.ServerStart, Outcome: audit.Succeeded, Actor: s.Module, Reason: "service started"},
		{Time: at(8, 2), Type: audit.Logon, Outcome: audit.Succeeded, Actor: s.Agent, Client: "10.20.30.41", Session: "S-1001"},
		{Time: at(8, 2), Type: audit.SessionStart, Outcome: audit.Succeeded, Actor: s.Agent, Client: "10.20.30.41", Session: "S-1001"},
		{Time: at(8, 15), Type: audit.Logon, Outcome: audit.Failed, Actor: "mallory", Client: "203.0.113.9", Reason: "invalid password"},
		{Time: at(8, 30), Type: audit.ChannelOpen, Outcome: audit.Succeeded, Actor: s.Agent, Object: s.Channel, Client: "10.20.30.41:5060", Session: "S-1001"},
		{Time: at(9, 12), Type: audit.ChannelReject, Object: s.Channel, Client: "198.51.100.7:5060", Reason: "unknown peer certificate"},
		{Time: at(10, 45), Type: audit.NoConsentOverride, Outcome: audit.Succeeded, Actor: s.Agent, Subject: "customer-4711", Object: "call-88231",
			Reason: "legal hold requested by supervisor"},
		{Time: at(11, 20), Type: audit.UserChange, Outcome: audit.Succeeded, Actor: "admin", Subject: s.Agent, Object: "phone", OldValue: "+1 555 0100", NewValue: "+1 555 0199"},
		{Time: at(13, 5), Type: audit.SystemConfigChange, Outcome: audit.Succeeded, Actor: "admin", Object: s.Setting, OldValue: "10", NewValue: "20"},
		{Time: at(16, 40), Type: audit.ChannelClose, Outcome: audit.Succeeded, Actor: s.Agent, Object: s.Channel, Client: "10.20.30.41:5060", Session: "S-1001"},
		{Time: at(17, 1), Type: audit.Logoff, Outcome: audit.Succeeded, Actor: s.Agent, Client: "10.20.30.41", Session: "S-1001"},
		{Time: at(18, 0), Type: audit.ServerStop, Outcome: audit.Succeeded, Actor: s.Module, Reason: "service stopped"},
	}
	n := 0
	for _, e := range events {
		if !l.Enabled(e.Type, e.Outcome) {
			continue
		}
		if err := l.Log(ctx, e); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// head prints the first n lines of the file at path.
func head(w io.Writer, path string, n int) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(w, err)
		return 1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for i := 0; i < n && sc.Scan(); i++ {
		fmt.Fprintf(w, "  %s\n", sc.Text())
	}
	return 0
}
