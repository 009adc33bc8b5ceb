package audit

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestVerifyWhileTheLoggerRotates verifies a module while its Logger
// writes, with rotations at the two moments where one used to make a
// legitimate set look tampered with: between listing the files and reading
// them (the active file listed was a backup by then: "file missing"), and
// between reading the active file's first record and walking it (another
// file by then: "record 1 does not match its MAC"). A rotation just before
// the active file is opened made Verify fail with "no such file".
func TestVerifyWhileTheLoggerRotates(t *testing.T) {
	for _, step := range []string{stepListed, stepClassified} {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			keyFile, key := newKeyFile(t)
			cfg := sealedConfig(dir, FormatBCM, keyFile, nil)
			cfg.Compress = true
			l, err := New(cfg)
			require.NoError(t, err)
			defer l.Close()
			logN(t, l, 20, "before")
			n := 0
			opts := VerifyOptions{hook: func(s string) {
				if s != step {
					return
				}
				n++
				rotated := l.Stats().Rotations
				for i := 0; l.Stats().Rotations == rotated; i++ {
					require.NoError(t, l.Log(context.Background(), Event{Type: DataRead, Outcome: Succeeded, Actor: "bob", Subject: fmt.Sprint(i), Object: "o", Reason: sealedPadding}))
				}
				logN(t, l, 2, "after")
			}}
			r, err := VerifyWith(dir, evModule, key, opts)
			require.NoError(t, err)
			require.Nil(t, r.Problem, "%v", r.Problem)
			require.Positive(t, n, "the files changed during verification")
		})
	}
}
