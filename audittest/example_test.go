package audittest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/auditkit/audit"
	"github.com/auditkit/audit/audittest"
)

// logon is the code under test: it records a logon attempt.
func logon(l *audit.Logger, user, password string) error {
	e := audit.Event{Type: audit.Logon, Outcome: audit.Succeeded, Actor: user, Client: "203.0.113.9"}
	if password != "secret" {
		e.Outcome, e.Reason = audit.Failed, "invalid password"
	}
	return l.Log(context.Background(), e)
}

// testLogon is the body of a test of logon.
func testLogon(t testing.TB) {
	clock := func() time.Time { return time.Date(2026, 11, 25, 9, 14, 40, 0, time.UTC) }
	l := audittest.New(t, audittest.WithModule("AgentServer"), audittest.WithClock(clock))
	if err := logon(l.Logger, "mallory", "guess"); err != nil {
		t.Fatalf("logon: %v", err)
	}
	failed := l.Records().Type(audit.Logon).Outcome(audit.Failed).Actor("mallory")
	if len(failed) != 1 {
		t.Fatalf("want one failed logon of mallory, got %q", l.Lines())
	}
	fmt.Println(failed[0].Event.Reason)
	fmt.Println(l.Lines()[0])
}

// exampleT stands in for the *testing.T of a real test, so that the example
// runs.
type exampleT struct {
	testing.TB
	cleanups []func()
}

func (*exampleT) Helper()                           {}
func (*exampleT) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }
func (*exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleT) Cleanup(f func())                { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) end() {
	for _, f := range t.cleanups {
		f()
	}
}

func Example() {
	t := &exampleT{}
	testLogon(t) // in a test file: func TestLogon(t *testing.T) { testLogon(t) }
	t.end()
	// Output:
	// invalid password
	// 2026-11-25T09:14:40.000000Z AgentServer LOGON FAILURE seq=1 actor=mallory client=203.0.113.9 reason="invalid password"
}
