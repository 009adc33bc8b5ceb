package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/auditkit/audit"
	"github.com/stretchr/testify/require"
)

// runMainEnv, when set, makes the test binary run main with the arguments
// after "--", so that the test can start the program as a process.
const runMainEnv = "AUDIT_EXAMPLE_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		for i, a := range os.Args {
			if a == "--" {
				os.Args = append([]string{os.Args[0]}, os.Args[i+1:]...)
				break
			}
		}
		main()
		return
	}
	os.Exit(m.Run())
}

// TestProgram runs the program as a process in every format and reads its
// audit file back: the simulated day's failed logon of mallory is there,
// with the module's name, in a gapless file.
func TestProgram(t *testing.T) {
	for _, format := range []string{audit.FormatBCM, audit.FormatJSON, audit.FormatCEF, audit.FormatOCSF} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "-dir", dir, "-format", format, "-show", "1")
			cmd.Env = append(os.Environ(), runMainEnv+"=1")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			require.Contains(t, string(out), "CEMServer wrote ")

			f, err := os.Open(filepath.Join(dir, "CEMServer.audit.log"))
			require.NoError(t, err)
			defer f.Close()
			var rs []audit.Record
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				r, err := audit.ParseRecord(sc.Bytes())
				require.NoError(t, err, "line %q", sc.Text())
				rs = append(rs, r)
			}
			require.NoError(t, sc.Err())
			require.NotEmpty(t, rs)
			var failed []audit.Record
			for i, r := range rs {
				require.Equal(t, uint64(i+1), r.Seq)
				require.Equal(t, "CEMServer", r.Module)
				if r.Event.Type == audit.Logon && r.Event.Outcome == audit.Failed {
					failed = append(failed, r)
				}
			}
			require.Len(t, failed, 1)
			require.Equal(t, "mallory", failed[0].Event.Actor)
			require.Equal(t, "invalid password", failed[0].Event.Reason)
		})
	}
}
