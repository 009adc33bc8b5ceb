package main

import (
	"testing"

	"github.com/auditkit/audit/examples/internal/programtest"
)

func TestMain(m *testing.M) { programtest.Main(m, main) }

// TestProgram runs the program as a process in every format and reads its
// audit file back.
func TestProgram(t *testing.T) { programtest.Check(t, "BatchJobServer") }
