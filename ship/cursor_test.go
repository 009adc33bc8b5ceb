package ship

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := CursorPath(dir, "AgentServer", "relp://logs:2514?window=64")
	for _, c := range []Cursor{
		{Module: "AgentServer", Destination: "relp://logs:2514?window=64", File: "7", Offset: 123456, Line: 41, Seq: 42},
		{Module: "AgentServer", Destination: "relp://logs:2514", File: "AgentServer.audit-2026-03-14T09-26-53.log\n\"x\"", Offset: 0, Seq: 0},
		{Module: "m", Destination: "d", File: "\xff", Offset: 1<<63 - 1, Line: 1<<31 - 1, Seq: 1<<64 - 1},
		{Module: "m", Destination: "d"},
	} {
		if err := WriteCursor(path, c); err != nil {
			t.Fatal(err)
		}
		got, err := ReadCursor(path)
		if err != nil {
			t.Fatal(err)
		}
		if got != c {
			t.Errorf("ReadCursor = %+v, want %+v", got, c)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want only the cursor (no temporary file left)", len(entries))
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", info.Mode().Perm())
	}
}

func TestCursorPath(t *testing.T) {
	a := CursorPath("/d", "AgentServer", "relp://logs:2514")
	if a != CursorPath("/d", "AgentServer", "relp://logs:2514?window=8") {
		t.Error("an option of the URL changed the cursor file")
	}
	for _, other := range []string{
		CursorPath("/d", "AgentServer", "tcp://logs:2514"),
		CursorPath("/d", "AgentServer", "relp://logs:2515"),
		CursorPath("/d", "CEMServer", "relp://logs:2514"),
	} {
		if other == a {
			t.Errorf("%s is shared by two destinations or modules", a)
		}
	}
	base := filepath.Base(a)
	if !strings.HasPrefix(base, "AgentServer.ship-") || !strings.HasSuffix(base, ".cursor") || strings.Contains(base, ".audit") {
		t.Errorf("cursor file name %q", base)
	}
}

func TestReadCursorMissing(t *testing.T) {
	_, err := ReadCursor(filepath.Join(t.TempDir(), "x.cursor"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadCursor of a missing file: %v, want fs.ErrNotExist", err)
	}
}

func TestReadCursorCorrupt(t *testing.T) {
	good, _ := Cursor{Module: "m", Destination: "relp://h:1", File: "3", Offset: 10, Seq: 2}.MarshalText()
	tests := []struct {
		name, content, want string
	}{
		{"empty", "", "not a cursor file"},
		{"other file", "hello\n", "not a cursor file"},
		{"truncated", string(good[:len(good)-10]), "crc32"},
		{"no checksum", strings.Split(string(good), "crc32")[0], "want crc32"},
		{"altered offset", strings.Replace(string(good), "offset 10", "offset 11", 1), "checksum"},
		{"negative offset", "audit-ship-cursor 1\nmodule \"m\"\ndestination \"d\"\nfile \"f\"\noffset -1\nline 0\nseq 2\ncrc32 0\n", "offset \"-1\""},
		{"negative line", "audit-ship-cursor 1\nmodule \"m\"\ndestination \"d\"\nfile \"f\"\noffset 1\nline -1\nseq 2\ncrc32 0\n", "line \"-1\""},
		{"bad seq", "audit-ship-cursor 1\nmodule \"m\"\ndestination \"d\"\nfile \"f\"\noffset 1\nline 1\nseq x\ncrc32 0\n", "seq \"x\""},
		{"empty file with offset", withCRC("audit-ship-cursor 1\nmodule \"m\"\ndestination \"d\"\nfile \"\"\noffset 1\nline 1\nseq 1\n"), "no file but offset 1"},
		{"empty module", "audit-ship-cursor 1\nmodule \"\"\n", "module \"\""},
		{"unquoted", "audit-ship-cursor 1\nmodule m\n", "module m"},
		{"trailing bytes", string(good) + "x", "after the checksum"},
		{"version 2", strings.Replace(string(good), "cursor 1", "cursor 2", 1), "not a cursor file of version 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.ship-x.cursor")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := ReadCursor(path)
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("ReadCursor: %v, want ErrBadCursor", err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadCursor: %q, want the path and %q", err, tt.want)
			}
		})
	}
}

// withCRC appends the checksum line a cursor file ends with.
func withCRC(body string) string {
	return body + fmt.Sprintf("crc32 %08x\n", crc32.ChecksumIEEE([]byte(body)))
}

func TestWriteCursorUnwritable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "m.cursor")
	if err := WriteCursor(path, Cursor{Module: "m", Destination: "d", File: "f"}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("WriteCursor into a missing directory: %v", err)
	}
}

// FuzzCursor checks that UnmarshalText accepts only what MarshalText
// writes: a cursor that reads back marshals to the same bytes.
func FuzzCursor(f *testing.F) {
	good, _ := Cursor{Module: "m", Destination: "relp://h:1", File: "3", Offset: 10, Seq: 2}.MarshalText()
	f.Add(good)
	f.Add([]byte("audit-ship-cursor 1\nmodule \"m\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Cursor
		if err := c.UnmarshalText(data); err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("error %v does not wrap ErrBadCursor", err)
			}
			return
		}
		again, _ := c.MarshalText()
		if string(again) != string(data) {
			t.Fatalf("%q reads as %+v, which writes %q", data, c, again)
		}
	})
}
