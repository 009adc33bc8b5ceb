package main

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/auditkit/audit"
	"github.com/stretchr/testify/require"
)

func TestRuneWidth(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int
	}{
		{"alice", 5},
		{"日本語", 6},
		{"한국어", 6},
		{"ｶﾀｶﾅ", 4}, // halfwidth katakana
		{"ＡＢ", 4},   // fullwidth Latin
		{"🎉", 2},
		{"e\u0301", 1}, // e and a combining acute accent
		{"Zoë", 3},
		{"→", 1},
		{"", 0},
	} {
		require.Equal(t, tc.want, displayWidth([]byte(tc.s)), "%q", tc.s)
	}
}

// Columns keep their display width whatever the characters, and a value
// that is too wide is cut with an ellipsis at a character boundary.
func TestAppendPadded(t *testing.T) {
	for _, tc := range []struct {
		cell, want string
	}{
		{"bob", "bob     " + columnGap},
		{"日本語", "日本語  " + columnGap},
		{"日本語日本語", "日本語… " + columnGap},
		{"🎉🎉🎉🎉🎉", "🎉🎉🎉… " + columnGap},
		{"abcdefgh", "abcdefgh" + columnGap},
		{"abcdefghi", "abcdefg…" + columnGap},
	} {
		got := appendPadded(nil, []byte(tc.cell), 8, false)
		require.Equal(t, tc.want, string(got), "%q", tc.cell)
		require.Equal(t, 8+len(columnGap), displayWidth(got), "%q", tc.cell)
	}
	require.Equal(t, "日本語日本語日本語", string(appendPadded(nil, []byte("日本語日本語日本語"), 8, true)))
}

func tableRecords() []audit.Record {
	return []audit.Record{
		{Seq: 7, Module: "AgentServer", Event: audit.Event{Outcome: audit.Succeeded, Time: at(1), Type: audit.UserChange, Actor: "admin", Subject: "山田太郎", Object: "phone", OldValue: "+49 30 1234", NewValue: "=HYPERLINK(\"x\")", Session: "S-1", Reason: "moved"}},
		{Seq: 8, Module: "AgentServer", Event: audit.Event{Time: at(2), Type: audit.Logon, Outcome: audit.Failed, Actor: "🎉party🎉party🎉", Client: "203.0.113.9", Reason: "bad\tpassword"}},
		{Seq: 9, Module: "WebServer", Event: audit.Event{Outcome: audit.Succeeded, Time: at(3), Type: audit.DataRead, Actor: "-1+1", Subject: "@bob", Object: "a,\"b\"\nc"}},
	}
}

// The table is written row by row with fixed column widths: every row's
// columns start at the header's, in display columns.
func TestTablePrinterAligned(t *testing.T) {
	var out bytes.Buffer
	p, err := newPrinter("table", &out, nil)
	require.NoError(t, err)
	for _, r := range tableRecords() {
		require.NoError(t, p.print(recordEntry(&r, nil)))
	}
	require.NoError(t, p.flush())
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 4)
	// The start of each column, in display columns, from the header.
	var starts []int
	for _, name := range []string{"MODULE", "TYPE", "OUTCOME", "ACTOR", "SUBJECT", "OBJECT", "OLD", "NEW", "CLIENT", "SESSION", "REASON"} {
		i := strings.Index(lines[0], name)
		require.GreaterOrEqual(t, i, 0)
		starts = append(starts, displayWidth([]byte(lines[0][:i])))
	}
	for _, line := range lines[1:] {
		for _, s := range starts {
			prefix := cutColumns(line, s)
			require.Equal(t, columnGap, prefix[len(prefix)-2:], "%q at %d", line, s)
		}
	}
	require.Contains(t, lines[1], "山田太郎")
	require.Contains(t, lines[2], "🎉party🎉part…  ")
	require.Contains(t, lines[2], `bad\tpassword`)
	require.Contains(t, lines[3], `a,"b"\nc`)
}

// cutColumns returns the prefix of s that takes n display columns.
func cutColumns(s string, n int) string {
	w := 0
	for i, r := range s {
		if w >= n {
			return s[:i]
		}
		w += runeWidth(r)
	}
	return s
}

func TestCSVPrinter(t *testing.T) {
	var out bytes.Buffer
	v := &view{columns: columns, loc: time.FixedZone("X", 3600)}
	p, err := newPrinter("csv", &out, v)
	require.NoError(t, err)
	for _, r := range tableRecords() {
		require.NoError(t, p.print(recordEntry(&r, nil)))
	}
	require.NoError(t, p.flush())
	require.Contains(t, out.String(), "\r\n")
	rows, err := csv.NewReader(strings.NewReader(out.String())).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 4)
	require.Equal(t, []string{"time", "module", "seq", "type", "outcome", "actor", "subject", "object", "old", "new", "client", "session", "reason", "fields", "file"}, rows[0])
	require.Equal(t, "2026-11-25T10:01:00.000000+01:00", rows[1][0])
	require.Equal(t, "7", rows[1][2])
	require.Equal(t, "'=HYPERLINK(\"x\")", rows[1][9])
	require.Equal(t, "'+49 30 1234", rows[1][8])
	require.Equal(t, "'-1+1", rows[3][5])
	require.Equal(t, "'@bob", rows[3][6])
	require.Equal(t, "a,\"b\"\nc", rows[3][7])
	require.Equal(t, "bad\tpassword", rows[2][12])
}
