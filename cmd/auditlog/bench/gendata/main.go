// Command gendata writes a set of audit files with the audit library for
// the auditlog benchmarks: several modules in BCM or JSON, rotated daily
// and by size, with a realistic mix of events over the days before a fixed
// end time.
//
// Usage:
//
//	gendata -dir DIR -format BCM|JSON -mb 100 [-days 30] [-modules 3] [-maxsize 16] [-key-dir KEYS]
//
// With -key-dir the files are sealed: module M's live key file is
// KEYS/M.live.key and a copy of its original is KEYS/M.key, as
// 'auditlog verify --key-dir KEYS' reads it.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/auditkit/audit"
)

func main() {
	dir := flag.String("dir", "", "directory to write the audit files to (required)")
	format := flag.String("format", "BCM", "record format: BCM or JSON")
	mb := flag.Int("mb", 100, "approximate size of the set in MiB")
	days := flag.Int("days", 30, "days the records span")
	nmod := flag.Int("modules", len(modules), "number of modules (1 to 3)")
	maxSize := flag.Int64("maxsize", 16, "rotation size in MiB")
	keyDir := flag.String("key-dir", "", "seal the files, with each module's keys in `directory`")
	flag.Parse()
	if *dir == "" || *nmod < 1 || *nmod > len(modules) {
		flag.Usage()
		os.Exit(2)
	}
	if err := generate(*dir, *format, int64(*mb)<<20, *days, modules[:*nmod], *maxSize<<20, *keyDir); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}

// end is the time of the last record: the set is the same on every run.
var end = time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)

var modules = []string{"AgentServer", "CEMServer", "WebServer"}

func generate(dir, format string, size int64, days int, modules []string, maxSize int64, keyDir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	start := end.Add(-time.Duration(days) * 24 * time.Hour)
	// About 140 bytes a record in BCM and 200 in JSON.
	per := int64(140)
	if format == "JSON" || format == "json" {
		per = 200
	}
	n := size / per
	step := end.Sub(start) / time.Duration(n)
	rng := rand.New(rand.NewPCG(1, 2))
	loggers := make([]*audit.Logger, len(modules))
	clock := start
	now := func() time.Time { return clock }
	for i, m := range modules {
		cfg := audit.Config{Module: m, AuditLogPath: dir, Formatter: format,
			EventMask: audit.AllEvents, MaxSize: maxSize, Now: now}
		if keyDir != "" {
			live, err := sealKeys(keyDir, m)
			if err != nil {
				return err
			}
			cfg.Integrity, cfg.IntegrityKeyFile = true, live
		}
		l, err := audit.New(cfg)
		if err != nil {
			return err
		}
		loggers[i] = l
	}
	ctx := context.Background()
	for i := range n {
		clock = start.Add(time.Duration(i) * step)
		l := loggers[rng.IntN(len(loggers))]
		if err := l.Log(ctx, event(rng, clock)); err != nil {
			return err
		}
	}
	for _, l := range loggers {
		if err := l.Close(); err != nil {
			return err
		}
	}
	var total int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if st, err := os.Stat(filepath.Join(dir, e.Name())); err == nil {
			total += st.Size()
		}
	}
	fmt.Printf("%s: %d records, %d files, %d MiB\n", dir, n, len(ents), total>>20)
	return nil
}

// sealKeys makes module's live key file in dir, keeps a copy of the
// original beside it for verifying, and returns the live one's path.
func sealKeys(dir, module string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	live := filepath.Join(dir, module+".live.key")
	if err := audit.NewKey(live); err != nil {
		return "", err
	}
	data, err := os.ReadFile(live)
	if err != nil {
		return "", err
	}
	return live, os.WriteFile(filepath.Join(dir, module+".key"), data, 0o600)
}

var (
	users   = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar"}
	clients = []string{"10.1.2.3:5060", "10.1.2.4:5060", "10.7.0.12:443", "192.0.2.44:51234", "198.51.100.7:443", "203.0.113.9:6001"}
	reasons = []string{"bad password", "account locked", "expired certificate"}
)

// event returns a random event at t: mostly data reads and successful
// logons, a few failed logons, changes and channel events.
func event(rng *rand.Rand, t time.Time) audit.Event {
	u := users[rng.IntN(len(users))]
	c := clients[rng.IntN(len(clients))]
	s := "S-" + strconv.Itoa(rng.IntN(100000))
	e := audit.Event{Time: t, Outcome: audit.Succeeded, Actor: u, Client: c, Session: s}
	switch p := rng.IntN(100); {
	case p < 50:
		e.Type, e.Subject, e.Object = audit.DataRead, users[rng.IntN(len(users))], "recording-"+strconv.Itoa(rng.IntN(1e6))
	case p < 70:
		e.Type = audit.Logon
	case p < 72:
		e.Type, e.Outcome, e.Reason = audit.Logon, audit.Failed, reasons[rng.IntN(len(reasons))]
		e.AddField("attempt", strconv.Itoa(1+rng.IntN(5)))
	case p < 88:
		e.Type = audit.Logoff
	case p < 94:
		e.Type, e.Client, e.Actor = audit.ChannelOpen, c, ""
	case p < 97:
		e.Type, e.Subject, e.Object = audit.UserChange, users[rng.IntN(len(users))], "phone"
		e.OldValue, e.NewValue = "+49 30 "+strconv.Itoa(rng.IntN(1e7)), "+49 30 "+strconv.Itoa(rng.IntN(1e7))
	case p < 99:
		e.Type, e.Subject, e.Object = audit.AccessChange, users[rng.IntN(len(users))], "role"
		e.OldValue, e.NewValue = "agent", "supervisor"
	default:
		e.Type, e.Object, e.OldValue, e.NewValue = audit.SystemConfigChange, "MaxSessions", "100", "200"
	}
	return e
}
