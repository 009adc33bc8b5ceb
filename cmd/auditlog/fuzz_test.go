package main

import (
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// FuzzParseTimeArg checks that --since and --until never panic, accept
// every canonical record time, and name the accepted forms, not Go's
// layout, when they refuse a value.
func FuzzParseTimeArg(f *testing.F) {
	for _, s := range []string{"2026-11-25T09:00:00Z", "2026-11-25", "2026-11-25 09:00", "today", "this-week", "1w2d", "90m", "1d12h", "-5h", "9999999d", "2026-13-01"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 25, 14, 30, 0, 0, time.FixedZone("CET", 3600))
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseTimeArg(s, now)
		if err != nil {
			require.Contains(t, err.Error(), "today, yesterday, this-week")
			require.NotContains(t, err.Error(), "2006")
			return
		}
		if d, err := parseAgo(strings.TrimSpace(s)); err == nil {
			require.True(t, got.Equal(now.Add(-d)), s)
		}
	})
}

// FuzzTableCell checks that a table cell, whatever it holds, is one line
// without control characters that takes exactly its column's display
// width, and that a CSV cell never starts a formula.
func FuzzTableCell(f *testing.F) {
	for _, s := range []string{"", "alice", "日本語日本語", "🎉party", "e\u0301", "tab\there", "\x1b[31m", "=1+2", "\xff", "\u202eevil"} {
		f.Add(s, uint8(8))
	}
	f.Fuzz(func(t *testing.T, s string, width uint8) {
		w := int(width%40) + 2
		cell := appendCell(nil, s)
		require.True(t, utf8.Valid(cell))
		for _, r := range string(cell) {
			require.True(t, r == ' ' || unicode.IsPrint(r), "%q in %q", r, cell)
		}
		padded := appendPadded(nil, cell, w, false)
		require.Equal(t, w+len(columnGap), displayWidth(padded), "%q", padded)
		if displayWidth(cell) <= w {
			require.True(t, strings.HasPrefix(string(padded), string(cell)))
		} else {
			require.Contains(t, string(padded), "…")
		}
		c := csvCell(s)
		require.False(t, c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])), "%q", c)
		require.True(t, c == s || c == "'"+s, "%q", c) // the value is kept
	})
}

// FuzzShellQuote checks that a drill-down argument is one line of
// printable text that starts as a shell word.
func FuzzShellQuote(f *testing.F) {
	for _, s := range []string{"", "alice", "a b", "it's", "tab\there", "x'\\\x1b", "\xff", "!bang", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := shellQuote(s)
		require.NotEmpty(t, q)
		require.True(t, printable(q), "%q", q)
		require.True(t, q == s || q[0] == '\'' || strings.HasPrefix(q, "$'"), "%q", q)
	})
}
