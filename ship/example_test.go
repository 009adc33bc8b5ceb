package ship_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/auditkit/audit"
	"github.com/auditkit/audit/ship"
)

func ExampleFormat_Append() {
	m := ship.Message{
		Host:    "agent01",
		Module:  "AgentServer",
		File:    "7",
		Seq:     42,
		Type:    audit.Logon,
		Outcome: audit.Failed,
		Time:    time.Date(2026, 3, 14, 9, 26, 53, 589000000, time.UTC),
		Line:    []byte(`2026-03-14T09:26:53.589Z seq=42 LOGON FAILURE actor=alice`),
	}
	b, err := ship.Format{}.Append(nil, &m)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(b))
	// Output:
	// <108>1 2026-03-14T09:26:53.589000Z agent01 AgentServer - LOGON [audit@32473 host="agent01" module="AgentServer" file="7" seq="42" outcome="FAILURE"] 2026-03-14T09:26:53.589Z seq=42 LOGON FAILURE actor=alice
}

func ExampleWriteCursor() {
	dir, err := os.MkdirTemp("", "audit")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	dest := "relp://logs.example.net:2514"
	path := ship.CursorPath(dir, "AgentServer", dest)
	c := ship.Cursor{Module: "AgentServer", Destination: dest, File: "7", Offset: 8192, Seq: 42}
	if err := ship.WriteCursor(path, c); err != nil {
		fmt.Println(err)
		return
	}
	got, err := ship.ReadCursor(path)
	fmt.Println(filepath.Base(path), got.File, got.Offset, got.Seq, err)
	// Output:
	// AgentServer.ship-837c72280592ef7e.cursor 7 8192 42 <nil>
}

func ExampleOpen() {
	d, err := ship.Open(ship.Config{URL: "relp://127.0.0.1?window=64"})
	fmt.Println(d, err)
	// Output:
	// <nil> audit: destination "relp://127.0.0.1?window=64": missing port: bad destination
}
