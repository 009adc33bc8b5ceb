// Package demo runs a simulated day of a server module against the audit
// library, for the example programs.
package demo

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	keyFile := fs.String("key-file", "", "seal the files with this integrity key file (made if missing)")
	if err := fs.Parse(args); err != nil {
		return 2
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
		if _, err := os.Stat(*keyFile); os.IsNotExist(err) {
			if err := audit.NewKey(*keyFile); err != nil {
				fmt.Fprintln(stderr, err)
				return 1
			}
			fmt.Fprintf(stdout, "made integrity key %s: copy it for the auditor before the next run\n", *keyFile)
		}
		cfg.Integrity, cfg.IntegrityKeyFile = true, *keyFile
	}
	l, err := audit.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	n, err := day(l, s)
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

// day logs the simulated day and returns how many records were written.
func day(l *audit.Logger, s Script) (int, error) {
	ctx := context.Background()
	y, mo, d := time.Now().Date()
	at := func(hour, minute int) time.Time { return time.Date(y, mo, d, hour, minute, 0, 0, time.Local) }
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
