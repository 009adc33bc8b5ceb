// Command agentserver writes the audit files of a simulated day of the AgentServer
// module into ./logs (or -dir) and prints where it wrote and the first lines.
//
//	go run ./examples/agentserver [-dir logs] [-format BCM|JSON] [-mask presence+failure+...]
package main

import (
	"os"

	"github.com/auditkit/audit/examples/internal/demo"
)

func main() {
	os.Exit(demo.Main(demo.Script{
		Module:  "AgentServer",
		Agent:   "agent.smith",
		Channel: "voice",
		Setting: "max-agents",
	}, os.Args[1:], os.Stdout, os.Stderr))
}
