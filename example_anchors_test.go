package audit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/auditkit/audit"
)

// central returns the lines of module's files in dir in chain order, as a
// collector writes them.
func central(dir, module string) string {
	files, _ := audit.ListFiles(dir, module)
	var b strings.Builder
	for _, f := range files {
		r, err := audit.OpenFile(f)
		if err != nil {
			continue
		}
		for {
			ln, err := r.Next()
			if err != nil {
				break
			}
			b.Write(ln.Text)
			b.WriteByte('\n')
		}
		r.Close()
	}
	return b.String()
}

// A collector's copy of a module's records verifies with the original key,
// and what the collector received anchors the verification of the host's
// files.
func ExampleVerifyWith() {
	dir, _ := os.MkdirTemp("", "audit-example")
	defer os.RemoveAll(dir)
	keyFile := filepath.Join(dir, "keys", "AgentServer.key")
	os.Mkdir(filepath.Dir(keyFile), 0o700)
	audit.NewKey(keyFile)
	key, _ := audit.ReadKey(keyFile) // the auditor's copy of the original key

	logs := filepath.Join(dir, "logs")
	os.Mkdir(logs, 0o750)
	head := filepath.Join(logs, "AgentServer.audit.head")
	var oldHead []byte
	for run := range 2 {
		l, _ := audit.New(audit.Config{Module: "AgentServer", AuditLogPath: logs, Integrity: true,
			IntegrityKeyFile: keyFile, MaxSize: audit.MinFileSize, Now: clock, EventMask: audit.ReadEvents})
		for range 10 {
			l.Log(context.Background(), audit.Event{Outcome: audit.Succeeded, Type: audit.DataRead, Actor: "agent7", Subject: "customer-42", Object: "email-history"})
		}
		l.Close()
		if run == 0 {
			oldHead, _ = os.ReadFile(head) // kept by an attacker
		}
	}
	received := central(logs, "AgentServer")

	r, _ := audit.VerifyReader(strings.NewReader(received), "central.log", "AgentServer", key)
	fmt.Printf("copy: ok=%v files %d to %d, newest seq %d\n", r.OK(), r.FirstIndex, r.LastIndex, r.LastSeq)

	anchors := &audit.Anchors{Key: func(module string) ([]byte, bool) { return key, module == "AgentServer" }}
	anchors.Read(strings.NewReader(received), "central.log")
	r, _ = audit.VerifyWith(logs, "AgentServer", key, audit.VerifyOptions{Anchors: anchors})
	fmt.Printf("host: ok=%v anchored at file %d seq %d: %v\n", r.OK(), r.Anchor.File, r.Anchor.Seq, r.AnchorMatched)

	// Whoever deletes the newest file and puts an older head back fools
	// the head, not the anchor.
	os.Remove(filepath.Join(logs, "AgentServer.audit.log"))
	os.WriteFile(head, oldHead, 0o640)
	r, _ = audit.Verify(logs, "AgentServer", key)
	fmt.Println("host without anchors: ok =", r.OK())
	r, _ = audit.VerifyWith(logs, "AgentServer", key, audit.VerifyOptions{Anchors: anchors})
	fmt.Println("host with anchors:", r.Problem.Kind)
	// Output:
	// copy: ok=true files 0 to 2, newest seq 3
	// host: ok=true anchored at file 2 seq 3: true
	// host without anchors: ok = true
	// host with anchors: file missing
}
