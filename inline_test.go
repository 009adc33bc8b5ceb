package audit

import (
	"os/exec"
	"regexp"
	"testing"
)

// TestLogIsInlined pins what keeps a filtered-out Log cheap: Log is small
// enough to be inlined into its caller, so the caller's Event is passed by
// address instead of being copied (320 bytes) into the call's arguments, and
// Enabled is inlined too; so are Logger.Event and the EventBuilder methods
// that a filtered-out event goes through, so that such an event is built
// and dropped without a call. The compiler's own report decides.
func TestLogIsInlined(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(goTool, "build", "-gcflags=-m", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	for _, fn := range []string{`\(\*Logger\)\.Log`, `\(\*Logger\)\.Enabled`, `\(\*Logger\)\.Event`,
		`EventBuilder\.Actor`, `EventBuilder\.Subject`, `EventBuilder\.Object`, `EventBuilder\.Client`,
		`EventBuilder\.Session`, `EventBuilder\.Reason`, `EventBuilder\.Log`} {
		if !regexp.MustCompile(`can inline ` + fn + `(\s|$)`).Match(out) {
			t.Errorf("%s is not inlined any more; the compiler said:\n%s", fn, regexp.MustCompile(`(?m)^.*`+fn+`.*$`).FindAll(out, -1))
		}
	}
}
