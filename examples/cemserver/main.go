// Command cemserver writes the audit files of a simulated day of the CEMServer
// module into ./logs (or -dir) and prints where it wrote and the first lines.
//
//	go run ./examples/cemserver [-dir logs] [-format BCM|JSON] [-mask presence+failure+...]
package main

import (
	"os"

	"github.com/auditkit/audit/examples/internal/demo"
)

func main() {
	os.Exit(demo.Main(demo.Script{
		Module:  "CEMServer",
		Agent:   "agent.jones",
		Channel: "email",
		Setting: "mailbox-poll-seconds",
	}, os.Args[1:], os.Stdout, os.Stderr))
}
