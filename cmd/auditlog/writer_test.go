package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/auditkit/audit"
)

// writerEnv, when set in the environment of the test binary, makes it a
// writer process instead of running the tests (see writerMain).
const writerEnv = "AUDITLOG_TEST_WRITER"

// writerCommand returns a command that runs the test binary as a writer
// of n LOGON records, actors user-0 to user-(n-1), by module in dir,
// rotating every maxSize bytes.
func writerCommand(t *testing.T, dir, module string, n int, maxSize int64) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0])
	cmd.Env = append(os.Environ(), writerEnv+"=1", "WRITER_DIR="+dir, "WRITER_MODULE="+module,
		"WRITER_N="+strconv.Itoa(n), "WRITER_MAXSIZE="+strconv.FormatInt(maxSize, 10))
	cmd.Stderr = os.Stderr
	return cmd
}

// writerMain writes the records that writerCommand describes with the
// library, as a server would, and returns the exit status.
func writerMain() int {
	n, _ := strconv.Atoi(os.Getenv("WRITER_N"))
	maxSize, _ := strconv.ParseInt(os.Getenv("WRITER_MAXSIZE"), 10, 64)
	l, err := audit.New(audit.Config{Module: os.Getenv("WRITER_MODULE"), AuditLogPath: os.Getenv("WRITER_DIR"),
		MaxSize: maxSize, EventMask: audit.AllEvents})
	if err != nil {
		fmt.Fprintln(os.Stderr, "writer:", err)
		return 1
	}
	for i := range n {
		if err := l.Log(context.Background(), audit.Event{Outcome: audit.Succeeded, Type: audit.Logon, Actor: "user-" + strconv.Itoa(i)}); err != nil {
			fmt.Fprintln(os.Stderr, "writer:", err)
			return 1
		}
	}
	if err := l.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "writer:", err)
		return 1
	}
	return 0
}
