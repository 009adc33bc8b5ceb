package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
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
	e := audit.Event{Type: audit.NoConsentOverride, Outcome: audit.Succeeded, Actor: "agent7", Subject: "customer-42", Object: "call-9001"}
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
	l.Log(context.Background(), audit.Event{Type: audit.DataRead, Outcome: audit.Succeeded, Actor: "agent7", Subject: "customer-42", Object: "email-history"})
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
	l.Log(context.Background(), audit.Event{Type: audit.Logon, Outcome: audit.Succeeded, Actor: "alice"})
	l.Log(context.Background(), audit.Event{Type: audit.Logoff, Outcome: audit.Succeeded, Actor: "alice"})
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

func ExampleLogger_Log_cef() {
	l, _ := audit.New(audit.Config{Module: "AgentServer", Formatter: "CEF", Output: os.Stdout, Now: clock})
	defer l.Close()
	l.Log(context.Background(), audit.Event{Type: audit.Logon, Outcome: audit.Failed,
		Actor: "mallory", Client: "203.0.113.9:5060", Reason: "invalid password"})
	// Output:
	// CEF:0|auditkit|audit|1|LOGON|Logon failed|7|rt=1795598080123 externalId=1 deviceFacility=AgentServer outcome=failure suser=mallory src=203.0.113.9 spt=5060 reason=invalid password flexString1Label=time flexString1=2026-11-25T09:14:40.123456Z
}

func ExampleLogger_Log_ocsf() {
	l, _ := audit.New(audit.Config{Module: "AgentServer", Formatter: "OCSF", Output: os.Stdout, Now: clock})
	defer l.Close()
	l.Log(context.Background(), audit.Event{Type: audit.Logon, Outcome: audit.Failed,
		Actor: "mallory", Client: "203.0.113.9", Reason: "invalid password"})
	// Output:
	// {"class_uid":3002,"class_name":"Authentication","category_uid":3,"category_name":"Identity & Access Management","activity_id":1,"activity_name":"Logon","type_uid":300201,"type_name":"Authentication: Logon","severity_id":4,"severity":"High","status_id":2,"status":"Failure","time":1795598080123,"time_dt":"2026-11-25T09:14:40.123456Z","status_detail":"invalid password","metadata":{"version":"1.3.0","product":{"name":"audit","vendor_name":"auditkit","version":"1","feature":{"name":"AgentServer"}},"profiles":["datetime"],"event_code":"LOGON","sequence":1},"actor":{"user":{"name":"mallory"}},"user":{"name":"mallory"},"service":{"name":"AgentServer"},"src_endpoint":{"ip":"203.0.113.9"}}
}

func ExampleNewCEFFormatter() {
	f, err := audit.NewCEFFormatter("Acme", "Call Center", "7.2")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := audit.RegisterFormatter("ACME-CEF", f); err != nil {
		fmt.Println(err)
		return
	}
	l, _ := audit.New(audit.Config{Module: "AgentServer", Formatter: "acme-cef", Output: os.Stdout, Now: clock})
	defer l.Close()
	l.Log(context.Background(), audit.Event{Type: audit.ServerStart, Outcome: audit.Succeeded})
	// Output:
	// CEF:0|Acme|Call Center|7.2|SERVER_START|Server start|3|rt=1795598080123 externalId=1 deviceFacility=AgentServer outcome=success flexString1Label=time flexString1=2026-11-25T09:14:40.123456Z
}

func ExampleParseCEF() {
	r, err := audit.ParseCEF([]byte(`CEF:0|auditkit|audit|1|LOGON|Logon failed|7|rt=1795598080123 externalId=3 deviceFacility=AgentServer outcome=failure suser=alice reason=bad password flexString1Label=time flexString1=2026-11-25T09:14:40.123456Z`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Seq, r.Module, r.Event.Type, r.Event.Outcome, r.Event.Actor, r.Event.Reason)

	// A line that no Logger writes is refused.
	_, err = audit.ParseCEF([]byte(`CEF:0|auditkit|audit|1|LOGON|Logon failed|7|rt=1795598080123 externalId=0 deviceFacility=AgentServer outcome=failure suser=alice flexString1Label=time flexString1=2026-11-25T09:14:40.123456Z`))
	fmt.Println(err)
	// Output:
	// 3 AgentServer LOGON FAILURE alice bad password
	// audit: malformed record: cef byte 72: seq 0: sequence numbers start at 1
}

func ExampleConfig_UnmarshalJSON() {
	// An operator's file of parameters, with the product's names and units.
	file := []byte(`{
		"Module": "AgentServer",
		"AuditLogPath": "/var/log/audit",
		"AuditEventMask": "presence+failure+read",
		"RetentionDays": 30,
		"AuditLogMaxSize": 100,
		"AuditLogSync": "interval",
		"AuditLogSyncInterval": "500ms"
	}`)
	var cfg audit.Config
	if err := json.Unmarshal(file, &cfg); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Module, cfg.EventMask, cfg.Retention, cfg.MaxSize>>20, cfg.Sync, cfg.SyncInterval)

	// Written back as parameters.
	out, _ := json.Marshal(cfg)
	fmt.Println(string(out))

	// A value out of range is refused as ConfigFromParams refuses it.
	err := json.Unmarshal([]byte(`{"RetentionDays": 40000}`), &cfg)
	fmt.Println(err)
	// Output:
	// AgentServer presence+failure+read 720h0m0s 100 interval 500ms
	// {"Module":"AgentServer","AuditEventMask":"presence+failure+read","AuditLogPath":"/var/log/audit","RetentionDays":30,"AuditLogMaxSize":100,"AuditLogSync":"interval","AuditLogSyncInterval":"500ms"}
	// audit: parameter RetentionDays="40000": invalid configuration: want a whole number from 0 to 36525 (100 years)
}

func ExampleParseOutcome() {
	for _, s := range []string{"SUCCESS", "ok", "Failed", "fail", "maybe"} {
		o, err := audit.ParseOutcome(s)
		fmt.Println(o, err)
	}
	// Output:
	// SUCCESS <nil>
	// SUCCESS <nil>
	// FAILURE <nil>
	// FAILURE <nil>
	// Outcome(0) audit: outcome "maybe": unknown outcome (want success, succeeded, successful, ok, failure, failed, fail or unsuccessful)
}
