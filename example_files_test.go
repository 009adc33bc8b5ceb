package audit_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/auditkit/audit"
)

// A LineReader of audit data from elsewhere than a module's files, here a
// string, that passes over the lines without "FAILURE" in its buffer,
// without splitting them into lines, and still numbers the lines it
// returns as in the input.
func ExampleNewLineReader() {
	input := `2026-11-25T09:00:00.000000Z M LOGON SUCCESS seq=1 actor=alice
2026-11-25T09:00:01.000000Z M LOGON FAILURE seq=2 actor=bob
2026-11-25T09:00:02.000000Z M LOGOFF SUCCESS seq=3 actor=alice
2026-11-25T09:00:03.000000Z M LOGON FAILURE seq=4 actor=carol
`
	r := audit.NewLineReader(strings.NewReader(input), "input")
	r.SetSkip(func(lines []byte) int {
		i := bytes.Index(lines, []byte(" FAILURE "))
		if i < 0 {
			return len(lines) // none here: pass over them all
		}
		return bytes.LastIndexByte(lines[:i], '\n') + 1 // up to its line
	})
	for {
		ln, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s:%d: %s\n", r.Path(), ln.Number, ln.Text[28:])
	}
	// Output:
	// input:2: M LOGON FAILURE seq=2 actor=bob
	// input:4: M LOGON FAILURE seq=4 actor=carol
}
