package audit_test

import (
	"context"
	"fmt"
	"os"

	"github.com/auditkit/audit"
)

func ExampleLogger_Event() {
	l, _ := audit.New(audit.Config{Module: "CEMServer", Output: os.Stdout, Now: clock})
	defer l.Close()
	ctx := context.Background()

	// DATA_READ is outside the default mask: this builder stores nothing
	// and costs a few nanoseconds, but is still checked.
	err := l.Event(audit.DataRead, audit.Succeeded).Actor("agent7").Subject("customer-42").Log(ctx)
	fmt.Println(err)
	err = l.Event(audit.DataRead, audit.Succeeded).Subject("customer-42").Log(ctx)
	fmt.Println(err)

	// A failed logon is written.
	l.Event(audit.Logon, audit.Failed).
		Actor("alice").Client("10.1.2.3").Reason("bad password").
		Field("tenant", "north").
		Log(ctx)
	// Output:
	// <nil>
	// audit: DATA_READ event: invalid event: field actor is required (Event.Actor is empty)
	// 2026-11-25T09:14:40.123456Z CEMServer LOGON FAILURE seq=1 actor=alice client=10.1.2.3 reason="bad password" tenant=north
}
