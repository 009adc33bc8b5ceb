// Command auditgen writes a set of real audit files with the library, for
// the benchmark scripts: records of every event type from a few actors and
// clients, over as many days as the size asks for, rotated by size.
//
// Usage:
//
//	auditgen -dir DIR [-size 200] [-format BCM] [-module AgentServer] [-key-file F] [-compress]
//
// -size is in MiB of records; -key-file seals the files (the key file is
// made if it does not exist, and its original is copied to F.original).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/auditkit/audit"
)

func main() {
	dir := flag.String("dir", "", "the audit `directory` to write (required)")
	size := flag.Int("size", 200, "MiB of records to write")
	format := flag.String("format", "BCM", "the record `format`")
	module := flag.String("module", "AgentServer", "the `module` name")
	keyFile := flag.String("key-file", "", "seal the files with this key `file`")
	compress := flag.Bool("compress", false, "gzip rotated files")
	flag.Parse()
	if *dir == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := generate(*dir, *module, *format, *keyFile, *size, *compress); err != nil {
		fmt.Fprintln(os.Stderr, "auditgen:", err)
		os.Exit(1)
	}
}

func generate(dir, module, format, keyFile string, sizeMiB int, compress bool) error {
	cfg := audit.Config{Module: module, AuditLogPath: dir, Formatter: format, EventMask: audit.AllEvents,
		MaxSize: 16 << 20, Compress: compress, Daily: audit.DailyOff}
	if keyFile != "" {
		if _, err := os.Stat(keyFile); os.IsNotExist(err) {
			if err := audit.NewKey(keyFile); err != nil {
				return err
			}
			data, err := os.ReadFile(keyFile)
			if err != nil {
				return err
			}
			if err := os.WriteFile(keyFile+".original", data, 0o600); err != nil {
				return err
			}
		}
		cfg.Integrity, cfg.IntegrityKeyFile = true, keyFile
	}
	start := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	l, err := audit.New(cfg)
	if err != nil {
		return err
	}
	actors := []string{"alice", "bob", "carol", "mallory", "agent.smith", "admin"}
	clients := []string{"10.1.2.3:5060", "10.1.2.4:5060", "203.0.113.9:443", "198.51.100.7:443"}
	ctx := context.Background()
	for i := 0; l.Stats().Bytes < uint64(sizeMiB)<<20; i++ {
		t := start.Add(time.Duration(i) * 700 * time.Millisecond)
		actor, client := actors[i%len(actors)], clients[i%len(clients)]
		var e audit.Event
		switch i % 10 {
		case 0, 1, 2:
			e = audit.Event{Type: audit.Logon, Actor: actor, Client: client, Session: fmt.Sprint("S-", i/10)}
		case 3:
			e = audit.Event{Type: audit.Logon, Outcome: audit.Failed, Actor: actor, Client: client, Reason: "invalid password"}
		case 4, 5:
			e = audit.Event{Type: audit.DataRead, Actor: actor, Subject: fmt.Sprint("customer-", i%977), Object: "contact-history"}
		case 6:
			e = audit.Event{Type: audit.UserChange, Actor: "admin", Subject: actor, Object: "phone", OldValue: "+1 555 0100", NewValue: "+1 555 0199"}
		case 7:
			e = audit.Event{Type: audit.ChannelOpen, Client: client, Object: fmt.Sprint("channel-", i%31)}
		case 8:
			e = audit.Event{Type: audit.SessionStart, Actor: actor, Session: fmt.Sprint("S-", i/10)}
		default:
			e = audit.Event{Type: audit.Logoff, Actor: actor, Session: fmt.Sprint("S-", i/10)}
		}
		e.Time = t
		if err := l.Log(ctx, e); err != nil {
			l.Close()
			return err
		}
	}
	return l.Close()
}
