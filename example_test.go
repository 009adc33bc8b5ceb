package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/auditkit/audit"
)

// clock is a fixed clock so that the examples' output does not change.
func clock() time.Time { return time.Date(2026, 11, 25, 9, 14, 40, 123456000, time.UTC) }

func ExampleNew() {
	dir, _ := os.MkdirTemp("", "audit-example")
	defer os.RemoveAll(dir)

	l, err := audit.New(audit.Config{Module: "AgentServer", AuditLogPath: dir, Now: clock})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	fmt.Println(l.Path()[len(dir)+1:])
	// Output: AgentServer.audit.log
}

func ExampleLogger_Log() {
	l, _ := audit.New(audit.Config{Module: "AgentServer", Output: os.Stdout, Now: clock,
		EventMask: audit.DefaultMask | audit.ModifyEvents})
	defer l.Close()

	ctx := context.Background()
	l.Log(ctx, audit.Event{Type: audit.Logon, Outcome: audit.Failed,
		Actor: "alice", Client: "10.1.2.3", Reason: "bad password"})
	e := audit.Event{Type: audit.NoConsentOverride, Actor: "agent7", Subject: "customer-42", Object: "call-9001"}
	e.AddField("tenant", "north")
	l.Log(ctx, e)
	// Output:
	// 2026-11-25T09:14:40.123456Z AgentServer LOGON FAILURE seq=1 actor=alice client=10.1.2.3 reason="bad password"
	// 2026-11-25T09:14:40.123456Z AgentServer NO_CONSENT_OVERRIDE SUCCESS seq=2 actor=agent7 subject=customer-42 object=call-9001 tenant=north
}

func ExampleLogger_Log_json() {
	l, _ := audit.New(audit.Config{Module: "CEMServer", Formatter: "json", Output: os.Stdout, Now: clock,
		EventMask: audit.ReadEvents})
	defer l.Close()
	l.Log(context.Background(), audit.Event{Type: audit.DataRead, Actor: "agent7", Subject: "customer-42", Object: "email-history"})
	// Output:
	// {"time":"2026-11-25T09:14:40.123456Z","seq":1,"module":"CEMServer","type":"DATA_READ","outcome":"SUCCESS","actor":"agent7","subject":"customer-42","object":"email-history"}
}

func ExampleLogger_SetMask() {
	l, _ := audit.New(audit.Config{Module: "AgentServer", Output: os.Stdout, Now: clock})
	defer l.Close()
	fmt.Println(l.Enabled(audit.DataRead, audit.Succeeded))
	l.SetMask(audit.DefaultMask|audit.ReadEvents, "admin")
	fmt.Println(l.Enabled(audit.DataRead, audit.Succeeded))
	// Output:
	// false
	// 2026-11-25T09:14:40.123456Z AgentServer AUDIT_CONFIG_CHANGE SUCCESS seq=1 actor=admin object=AuditEventMask old=presence+failure+system+config new=presence+failure+system+config+read
	// true
}

func ExampleParseMask() {
	m, err := audit.ParseMask("Presence + read")
	fmt.Println(m, err)
	_, err = audit.ParseMask("presence+writes")
	fmt.Println(err)
	// Output:
	// presence+read <nil>
	// audit: event mask "presence+writes": invalid event mask: unknown token "writes" (valid tokens: presence, failure, system, config, read, modify, all)
}

func ExampleMask_String() {
	fmt.Println(audit.DefaultMask)
	fmt.Println(audit.AllEvents)
	// Output:
	// presence+failure+system+config
	// presence+failure+system+config+read+modify
}

func ExampleConfigFromParams() {
	cfg, err := audit.ConfigFromParams("AgentServer", map[string]string{
		"AuditEventMask":    "presence+failure+modify",
		"AuditLogFormatter": "JSON",
		"Log Path":          "/var/log/agentserver",
		"RetentionDays":     "90",
	})
	fmt.Println(cfg.EventMask, cfg.Formatter, cfg.LogPath, cfg.Retention, err)
	// Output: presence+failure+modify JSON /var/log/agentserver 2160h0m0s <nil>
}

func ExampleParseRecord() {
	r, err := audit.ParseRecord([]byte(`2026-11-25T09:14:40.123456Z AgentServer LOGON FAILURE seq=3 actor=alice reason="bad password"`))
	fmt.Println(r.Seq, r.Module, r.Event.Type, r.Event.Outcome, r.Event.Actor, r.Event.Reason, err)
	// Output: 3 AgentServer LOGON FAILURE alice bad password <nil>
}

func ExampleVerify() {
	dir, _ := os.MkdirTemp("", "audit-verify")
	defer os.RemoveAll(dir)
	keyFile := dir + "/AgentServer.key"
	audit.NewKey(keyFile)
	key, _ := audit.ReadKey(keyFile) // the auditor keeps this copy

	l, _ := audit.New(audit.Config{Module: "AgentServer", AuditLogPath: dir, Now: clock,
		Integrity: true, IntegrityKeyFile: keyFile})
	l.Log(context.Background(), audit.Event{Type: audit.Logon, Actor: "alice"})
	l.Log(context.Background(), audit.Event{Type: audit.Logoff, Actor: "alice"})
	l.Close()

	report, _ := audit.Verify(dir, "AgentServer", key)
	fmt.Println(report.OK(), report.Files, report.Records)

	// Someone edits a record.
	data, _ := os.ReadFile(l.Path())
	os.WriteFile(l.Path(), bytes.Replace(data, []byte("actor=alice"), []byte("actor=bob"), 1), 0o640)
	report, _ = audit.Verify(dir, "AgentServer", key)
	fmt.Println(report.Problem.Kind, "at line", report.Problem.Line)
	// Output:
	// true 1 3
	// modified at line 2
}
