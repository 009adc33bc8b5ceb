// Command batchjob writes the audit files of a simulated day of the BatchJobServer
// module into ./logs (or -dir) and prints where it wrote and the first lines.
//
//	go run ./examples/batchjob [-dir logs] [-format BCM|JSON] [-mask presence+failure+...]
package main

import (
	"os"

	"github.com/auditkit/audit/examples/internal/demo"
)

func main() {
	os.Exit(demo.Main(demo.Script{
		Module:  "BatchJobServer",
		Agent:   "batch.operator",
		Channel: "sftp",
		Setting: "job-parallelism",
	}, os.Args[1:], os.Stdout, os.Stderr))
}
