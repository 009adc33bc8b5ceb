package audit

import (
	"context"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// writeShipCursor writes a shipping cursor file as package ship does.
func writeShipCursor(t *testing.T, path, module, file string) {
	t.Helper()
	body := "audit-ship-cursor 1\nmodule " + strconv.Quote(module) +
		"\ndestination \"relp://collector:2514\"\nfile " + strconv.Quote(file) +
		"\noffset 0\nline 0\nseq 0\n"
	body += fmt.Sprintf("crc32 %08x\n", crc32.ChecksumIEEE([]byte(body)))
	require.NoError(t, os.WriteFile(path, []byte(body), 0o640))
}

// rotatedDir logs enough records to leave several backups of AgentServer
// in a new directory, and returns it with the backups' paths, oldest
// first.
func rotatedDir(t *testing.T, integrity bool) (string, Config, []File) {
	t.Helper()
	cfg := Config{AuditLogPath: t.TempDir(), MaxSize: MinFileSize, Now: fixedClock(day1, time.Second)}
	if integrity {
		cfg.Integrity = true
		cfg.IntegrityKeyFile, _ = newKeyFile(t)
	}
	l := newTestLogger(t, cfg)
	for i := range 160 { // several files at MinFileSize
		require.NoError(t, l.Log(context.Background(), Event{Type: Logon, Outcome: Succeeded, Actor: fmt.Sprint("user", i)}))
	}
	require.NoError(t, l.Close())
	files, err := ListFiles(cfg.AuditLogPath, "AgentServer")
	require.NoError(t, err)
	require.Greater(t, len(files), 4)
	return cfg.AuditLogPath, cfg, files[:len(files)-1]
}

func fingerprintOf(t *testing.T, f File) string {
	t.Helper()
	first, err := firstLine(f)
	require.NoError(t, err)
	return Fingerprint(first)
}

// backupsLeft opens a logger with MaxBackups 1 on dir, so that retention
// runs, and returns which of the backups are left and the errors it
// reported (Close returns them too). Opening a logger with integrity on
// may rotate again: backups made then are not in the answer.
func backupsLeft(t *testing.T, cfg Config, backups []File) ([]string, []error) {
	t.Helper()
	var mu sync.Mutex
	var errs []error
	cfg.MaxBackups = 1
	// No rotation while New runs retention: New reads the key that a
	// rotation in the retention goroutine replaces (a race outside
	// retention, seen by -race).
	cfg.MaxSize = 1 << 20
	cfg.OnError = func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }
	l := newTestLogger(t, cfg)
	closeErr := l.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(errs) == 0 {
		require.NoError(t, closeErr)
	} else {
		require.ErrorContains(t, closeErr, errs[0].Error())
	}
	was := map[string]bool{}
	for _, n := range names(backups) {
		was[n] = true
	}
	files, err := ListFiles(cfg.AuditLogPath, "AgentServer")
	require.NoError(t, err)
	var left []string
	for _, f := range files[:len(files)-1] {
		if n := filepath.Base(f.Path); was[n] {
			left = append(left, n)
		}
	}
	return left, errs
}

func names(files []File) []string {
	var out []string
	for _, f := range files {
		out = append(out, filepath.Base(f.Path))
	}
	return out
}

func TestRetentionKeepsUnshippedFiles(t *testing.T) {
	for _, integrity := range []bool{false, true} {
		t.Run(fmt.Sprint("integrity=", integrity), func(t *testing.T) {
			cursor := func(dir string) string {
				return filepath.Join(dir, "AgentServer.ship-0123456789abcdef.cursor")
			}
			t.Run("nothing shipped yet", func(t *testing.T) {
				dir, cfg, backups := rotatedDir(t, integrity)
				writeShipCursor(t, cursor(dir), "AgentServer", "")
				left, errs := backupsLeft(t, cfg, backups)
				require.Empty(t, errs)
				require.Equal(t, names(backups), left, "every backup waits for the shipper")
			})
			t.Run("shipped into the second backup", func(t *testing.T) {
				dir, cfg, backups := rotatedDir(t, integrity)
				writeShipCursor(t, cursor(dir), "AgentServer", fingerprintOf(t, backups[1]))
				left, errs := backupsLeft(t, cfg, backups)
				require.Empty(t, errs)
				require.Equal(t, names(backups[1:]), left, "the backup being shipped and the later ones stay; the shipped one goes")
			})
			t.Run("the least advanced of two cursors holds", func(t *testing.T) {
				dir, cfg, backups := rotatedDir(t, integrity)
				writeShipCursor(t, cursor(dir), "AgentServer", fingerprintOf(t, backups[3]))
				writeShipCursor(t, filepath.Join(dir, "AgentServer.ship-fedcba9876543210.cursor"), "AgentServer", fingerprintOf(t, backups[2]))
				// Another module's cursor holds nothing here.
				writeShipCursor(t, filepath.Join(dir, "CEMServer.ship-fedcba9876543210.cursor"), "CEMServer", "")
				left, errs := backupsLeft(t, cfg, backups)
				require.Empty(t, errs)
				require.Equal(t, names(backups[2:]), left)
			})
			t.Run("shipped into the active file", func(t *testing.T) {
				dir, cfg, backups := rotatedDir(t, integrity)
				files, err := ListFiles(dir, "AgentServer")
				require.NoError(t, err)
				writeShipCursor(t, cursor(dir), "AgentServer", fingerprintOf(t, files[len(files)-1]))
				left, errs := backupsLeft(t, cfg, backups)
				require.Empty(t, errs)
				require.Equal(t, names(backups[len(backups)-1:]), left, "MaxBackups applies as without a shipper")
			})
			t.Run("no cursor", func(t *testing.T) {
				_, cfg, backups := rotatedDir(t, integrity)
				left, errs := backupsLeft(t, cfg, backups)
				require.Empty(t, errs)
				require.Equal(t, names(backups[len(backups)-1:]), left)
			})
			for _, tt := range []struct{ name, content, want string }{
				{"corrupt cursor", "audit-ship-cursor 1\nmodule \"AgentServer\"\n", "not a valid shipping cursor"},
				{"cursor into a removed file", "", "is not among the files"},
				{"cursor of another module", "", "not \"AgentServer\""},
			} {
				t.Run(tt.name, func(t *testing.T) {
					dir, cfg, backups := rotatedDir(t, integrity)
					switch tt.name {
					case "cursor into a removed file":
						writeShipCursor(t, cursor(dir), "AgentServer", Fingerprint([]byte("gone")))
					case "cursor of another module":
						writeShipCursor(t, cursor(dir), "CEMServer", "")
					default:
						require.NoError(t, os.WriteFile(cursor(dir), []byte(tt.content), 0o640))
					}
					left, errs := backupsLeft(t, cfg, backups)
					require.Equal(t, names(backups), left, "every file stays when the cursor cannot be read")
					require.NotEmpty(t, errs)
					require.ErrorContains(t, errs[0], cursor(dir))
					require.ErrorContains(t, errs[0], tt.want)
				})
			}
		})
	}
}

func TestIsShipCursorName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"AgentServer.ship-0123456789abcdef.cursor", true},
		{"AgentServer.ship-0123456789abcdef.cursor.tmp-123", false},
		{"AgentServer.ship-0123456789ABCDEF.cursor", false},
		{"AgentServer.ship-0123456789abcde.cursor", false},
		{"AgentServer.ship-0123456789abcdef0.cursor", false},
		{"Agent.ship-0123456789abcdef.cursor", false},
		{"AgentServerX.ship-0123456789abcdef.cursor", false},
		{"AgentServer.audit.log", false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, isShipCursorName("AgentServer", tt.name), tt.name)
	}
}

// FuzzReadShipCursorFile checks that the cursor reader of retention never
// accepts a file whose checksum does not match, and that what it accepts
// names the module and file the file holds.
func FuzzReadShipCursorFile(f *testing.F) {
	good := "audit-ship-cursor 1\nmodule \"AgentServer\"\ndestination \"relp://h:1\"\nfile \"ab\"\noffset 3\nline 1\nseq 1\n"
	f.Add([]byte(good + fmt.Sprintf("crc32 %08x\n", crc32.ChecksumIEEE([]byte(good)))))
	f.Add([]byte("audit-ship-cursor 1\nmodule \"m\"\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "AgentServer.ship-0123456789abcdef.cursor")
		require.NoError(t, os.WriteFile(path, data, 0o640))
		module, file, err := readShipCursorFile(path)
		if err != nil {
			return
		}
		body, sum, ok := strings.Cut(string(data), "crc32 ")
		require.True(t, ok)
		require.Equal(t, fmt.Sprintf("%08x\n", crc32.ChecksumIEEE([]byte(body))), sum)
		require.Contains(t, body, "module "+strconv.Quote(module)+"\n")
		require.Contains(t, body, "file "+strconv.Quote(file)+"\n")
	})
}
