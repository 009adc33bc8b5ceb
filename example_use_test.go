package audit_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/auditkit/audit"
)

// Example_use is the README's "Use": configure a module's logger from the
// product's parameters, log an event, and refuse the audited action if
// the record could not be written.
func Example_use() {
	dir, err := os.MkdirTemp("", "agentserver-audit")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	cfg, err := audit.ConfigFromParams("AgentServer", map[string]string{
		"AuditEventMask":    "presence+failure+system+config",
		"AuditLogFormatter": "BCM",
		"AuditLogPath":      dir, // else "Log Path" is used
		"RetentionDays":     "90",
	})
	if err != nil {
		log.Fatal(err)
	}
	// A fixed clock, so that the output below does not change.
	cfg.Now = func() time.Time { return time.Date(2026, 11, 25, 9, 14, 40, 0, time.UTC) }
	l, err := audit.New(cfg)
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	err = l.Log(ctx, audit.Event{
		Type: audit.Logon, Outcome: audit.Failed,
		Actor: "alice", Client: "10.1.2.3:5060", Reason: "bad password",
	})
	if err != nil {
		// The record could not be written: refuse the audited action.
		fmt.Println("logon refused:", err)
	}
	if err := l.Close(); err != nil {
		log.Fatal(err)
	}

	data, err := os.ReadFile(filepath.Join(dir, "AgentServer.audit.log"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(data))
	// Output:
	// 2026-11-25T09:14:40.000000Z AgentServer LOGON FAILURE seq=1 actor=alice client=10.1.2.3:5060 reason="bad password"
}
