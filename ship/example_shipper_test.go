package ship_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/auditkit/audit"
	"github.com/auditkit/audit/ship"
)

// printer is a destination that prints what it is given and acknowledges
// it.
type printer struct{ mu sync.Mutex }

func (p *printer) Ship(_ context.Context, msgs []ship.Message) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range msgs {
		fmt.Printf("%s %s seq=%d %s\n", m.Module, m.Type, m.Seq, m.Outcome)
	}
	return len(msgs), nil
}

func (p *printer) Close() error { return nil }

func ExampleNewShipper() {
	dir, err := os.MkdirTemp("", "audit-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	l, err := audit.New(audit.Config{Module: "AgentServer", AuditLogPath: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()

	s, err := ship.NewShipper(ship.ShipperConfig{
		Dir: dir, Module: "AgentServer", Host: "agent01",
		Destination: ship.Config{URL: "relp://logs.example.net:2514"},
		// A real deployment leaves Open nil: ship.Open connects to the URL.
		Open:    func(ship.Config) (ship.Destination, error) { return &printer{}, nil },
		OnError: func(err error) { fmt.Println(err) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	s.Start()
	l.Log(context.Background(), audit.Event{Type: audit.Logon, Outcome: audit.Failed, Actor: "alice"})
	l.Log(context.Background(), audit.Event{Outcome: audit.Succeeded, Type: audit.Logon, Actor: "alice"})
	for s.Stats().Shipped < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		fmt.Println(err)
	}
	fmt.Println("shipped:", s.Stats().Shipped)
	// Output:
	// AgentServer LOGON seq=1 FAILURE
	// AgentServer LOGON seq=2 SUCCESS
	// shipped: 2
}
