package main

import (
	"flag"
	"fmt"

	"github.com/auditkit/audit"
)

// keyCommand makes a new integrity key file.
var keyCommand = &command{
	name:    "key",
	args:    "FILE",
	summary: "make a new integrity key file for AuditLogKeyFile",
	details: `Key writes a new random 256-bit integrity key to FILE (mode 0600), and
fails if FILE exists. Point AuditLogKeyFile at it, and before the first
record is written give the auditor a copy: the library replaces the key in
FILE with the next one at each new audit file (forward security), and
'auditlog verify --key-file' needs the original.`,
	flags: func(e *env, c *command, set *flag.FlagSet) func([]string) int {
		return func(args []string) int {
			if len(args) != 1 {
				return e.usageError(c, "want one file name, got %d arguments", len(args))
			}
			if err := audit.NewKey(args[0]); err != nil {
				return e.errorf(c, "%v", err)
			}
			fmt.Fprintf(e.stdout, "wrote a new integrity key to %s; keep a copy for the auditor\n", args[0])
			return exitOK
		}
	},
}
