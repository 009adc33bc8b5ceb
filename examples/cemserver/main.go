// Command cemserver writes the audit files of a simulated day of the CEMServer
// module into ./logs (or -dir) and prints where it wrote and the first lines.
//
//	go run ./examples/cemserver [-dir logs] [-format BCM|JSON] [-mask presence+failure+...] [-seal]
//
// The simulated day ends at the time of the run and starts after the newest
// record already written, so that time moves forward from run to run. With
// -seal the files are sealed with the key file logs/keys/<Module>.key, which
// the library rewrites as the chain moves on; the original is kept beside it
// as <Module>.original.key for verifying.
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
