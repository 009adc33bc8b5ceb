package audit

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// The integrity chain.
//
// Each record carries a MAC over the previous record's MAC and the record's
// own bytes without its mac field: HMAC-SHA256 keyed with the file's key, or
// plain SHA-256 when no key is configured. Each file starts with a
// [FileStart] record whose fields name the file's index in the sequence of
// files ("file"), the last MAC of the previous file ("prev") and the chain
// algorithm ("chain"). The key evolves at each file: the key of file n+1 is
// SHA-256 of a fixed label and the key of file n, and the key file is
// rewritten with it, so that a key stolen later cannot re-seal files already
// closed.

const (
	chainHMAC   = "hmac-sha256"
	chainSHA256 = "sha256"
	macSize     = sha256.Size
	// keyLabel separates key evolution from every other use of SHA-256.
	keyLabel = "auditkit/audit key evolution v1\x00"
)

// ErrBadKey is wrapped by errors about an integrity key file that cannot be
// read, parsed or used.
var ErrBadKey = errors.New("bad integrity key")

// maxKeyFileSize is the largest key file read: a key file holds one short
// line (or a raw key), so anything larger is not a key file.
const maxKeyFileSize = 4 << 10

// readKeyFile reads the logger's key file: one line holding the key in hex
// (at least 16 bytes), optionally preceded by "N:" where N is the index of
// the file the key belongs to (0 when absent), as NewKey and the library
// write it; or, failing that, a raw key of at least 16 bytes (the whole
// file, for file 0). The file must be a regular file of at most
// maxKeyFileSize bytes owned by the process's effective user (see
// readKeyData).
func readKeyFile(path string) (*chainKey, error) {
	data, err := readKeyData(path, true)
	if err != nil {
		return nil, err
	}
	return parseKey(path, data)
}

// readKeyData returns the contents of the key file at path. It refuses,
// with an error wrapping [ErrBadKey], anything but a regular file of at most
// maxKeyFileSize bytes: a symbolic link (it is opened with O_NOFOLLOW), a
// FIFO or a device such as /dev/zero (opened with O_NONBLOCK, so that
// opening a FIFO does not wait for a writer, and never read). With owned,
// a file that the process's effective user does not own is refused too
// (the error also wraps [ErrUnsafePath]): someone else could have chosen
// the key.
func readKeyData(path string, owned bool) ([]byte, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("audit: integrity key file %s: %w: "+format, append([]any{path, ErrBadKey}, args...)...)
	}
	f, err := openKeyFile(path)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, bad("%w: a symbolic link (give the path of the file itself)", ErrUnsafePath)
		}
		return nil, bad("%w", cause(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, bad("%w", cause(err))
	}
	if !st.Mode().IsRegular() {
		return nil, bad("not a regular file (mode %v)", st.Mode())
	}
	if owned {
		if err := checkOwner(path, st); err != nil {
			return nil, bad("%w", err)
		}
	}
	if st.Size() > maxKeyFileSize {
		return nil, bad("%d bytes (a key file holds at most %d)", st.Size(), maxKeyFileSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, bad("%w", cause(err))
	}
	if len(data) > maxKeyFileSize {
		return nil, bad("more than %d bytes (a key file holds at most %d)", maxKeyFileSize, maxKeyFileSize)
	}
	return data, nil
}

func parseKey(path string, data []byte) (*chainKey, error) {
	if index, key, ok := parseHexKey(data); ok {
		return newChainKey(index, key), nil
	}
	if len(data) < 16 {
		return nil, fmt.Errorf("audit: integrity key file %s: %w: want at least 32 hex digits or 16 bytes", path, ErrBadKey)
	}
	return newChainKey(0, slices.Clone(data)), nil
}

// parseHexKey parses the text form of a key: "N:" and the key in hex, or
// the key in hex alone (for file 0), with white space around it.
func parseHexKey(data []byte) (index uint64, key []byte, ok bool) {
	s := strings.TrimSpace(string(data))
	if i, k, found := strings.Cut(s, ":"); found {
		n, err := strconv.ParseUint(i, 10, 64)
		if err != nil {
			return 0, nil, false
		}
		index, s = n, k
	}
	key, err := hex.DecodeString(s)
	if err != nil || len(key) < 16 {
		return 0, nil, false
	}
	return index, key, true
}

// writeKeyFile replaces the key file with k, atomically and durably (see
// replaceFile).
func writeKeyFile(path string, k *chainKey) error {
	data := fmt.Appendf(nil, "%d:%x\n", k.index, k.key)
	defer clear(data)
	if err := replaceFile(osFS{}, path, data, 0o600); err != nil {
		return fmt.Errorf("audit: integrity key file: %w", err)
	}
	return nil
}

// replaceFile replaces the file at path with data, atomically and
// durably: through a temporary file created exclusively (O_EXCL) beside it
// with mode perm, synced and renamed over path, and the directory synced. A
// stale temporary file of ours, left by a crash, is removed first; one
// owned by another user is an error wrapping [ErrUnsafePath]. Errors name
// the file, without the "audit: " prefix.
func replaceFile(fsys fileSystem, path string, data []byte, perm fs.FileMode) error {
	tmp := path + tmpExt
	if st, err := fsys.Lstat(tmp); err == nil {
		if err := checkOwner(tmp, st); err != nil {
			return fmt.Errorf("stale temporary file: %w", err)
		}
		if err := fsys.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove stale temporary file %s: %w", tmp, cause(err))
		}
	}
	f, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, cause(err))
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Rename(tmp, path)
	}
	if err != nil {
		fsys.Remove(tmp)
		return fmt.Errorf("replace %s: %w", path, cause(err))
	}
	if err := fsys.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("replace %s: sync directory: %w", path, cause(err))
	}
	return nil
}

// NewKey writes a new random integrity key for file index 0 to path, with
// mode 0600, failing if path exists. Give the auditor a copy of it before
// the first record is written: the library replaces the key in the file
// with the next one at each new audit file, so the original is needed to
// verify every file.
func NewKey(path string) error {
	key := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return fmt.Errorf("audit: new key: %w", err)
	}
	f, err := osFS{}.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("audit: new key: %w", err)
	}
	_, err = fmt.Fprintf(f, "0:%x\n", key)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// sealBody appends the mac field for mac to a built-in format's rendering
// of a record whose MAC is empty, exactly as the formatter would render it
// with r.MAC set.
func sealBody(dst []byte, start int, json bool, mac *[macSize]byte) []byte {
	if json {
		dst = dst[:len(dst)-1] // the closing '}'
		dst = append(dst, `,"mac":"`...)
		dst = hex.AppendEncode(dst, mac[:])
		return append(dst, `"}`...)
	}
	dst = append(dst, " mac="...)
	return hex.AppendEncode(dst, mac[:])
}

// splitSeal splits a sealed line of a built-in format into the body the MAC
// covers and the MAC. ok is false when the line carries no well-formed mac
// field at its end.
func splitSeal(line []byte) (body []byte, mac [macSize]byte, ok bool) {
	const hexLen = 2 * macSize
	if n := len(line); n > 0 && line[0] == '{' {
		const pre, post = `,"mac":"`, `"}`
		if n < len(pre)+hexLen+len(post) || !bytes.HasSuffix(line, []byte(post)) {
			return nil, mac, false
		}
		h := line[n-len(post)-hexLen : n-len(post)]
		if !bytes.HasSuffix(line[:n-len(post)-hexLen], []byte(pre)) {
			return nil, mac, false
		}
		if _, err := hex.Decode(mac[:], h); err != nil {
			return nil, mac, false
		}
		body = append(append([]byte{}, line[:n-len(post)-hexLen-len(pre)]...), '}')
		return body, mac, true
	}
	const pre = " mac="
	n := len(line)
	if n < len(pre)+hexLen || !bytes.HasSuffix(line[:n-hexLen], []byte(pre)) {
		return nil, mac, false
	}
	if _, err := hex.Decode(mac[:], line[n-hexLen:]); err != nil {
		return nil, mac, false
	}
	return line[:n-hexLen-len(pre)], mac, true
}

// fileStartEvent is the first record of file index of a chain.
func fileStartEvent(index uint64, prev *[macSize]byte, algorithm string, unsealed int) Event {
	e := Event{Type: FileStart, Outcome: Succeeded, Object: "audit file"}
	e.AddField("file", strconv.FormatUint(index, 10))
	e.AddField("prev", hex.EncodeToString(prev[:]))
	e.AddField("chain", algorithm)
	e.AddField("unsealed", strconv.Itoa(unsealed))
	return e
}

// fileStartUnsealed returns the unsealed field of a FileStart record: how
// many unsealed files (written while integrity protection was off) came
// between the newest sealed file before it and its file. ok is false for a
// FileStart written before the field existed.
func fileStartUnsealed(e *Event) (n int, ok bool) {
	for i := range e.NumFields() {
		if f := e.Field(i); f.Key == "unsealed" {
			n, err := strconv.Atoi(f.Value)
			return n, err == nil && n >= 0 && strconv.Itoa(n) == f.Value
		}
	}
	return 0, false
}

// fileStartInfo reads the fields of a FileStart record.
func fileStartInfo(e *Event) (index uint64, prev [macSize]byte, algorithm string, err error) {
	if e.Type != FileStart {
		return 0, prev, "", fmt.Errorf("first record is %s, not %s", e.Type, FileStart)
	}
	var haveFile, havePrev bool
	for i := range e.NumFields() {
		f := e.Field(i)
		switch f.Key {
		case "file":
			index, err = strconv.ParseUint(f.Value, 10, 64)
			haveFile = err == nil
		case "prev":
			// hex.Decode writes past prev for a longer value: check first.
			havePrev = len(f.Value) == 2*macSize
			if havePrev {
				_, err = hex.Decode(prev[:], []byte(f.Value))
				havePrev = err == nil
			}
		case "chain":
			algorithm = f.Value
		}
	}
	if !haveFile || !havePrev || (algorithm != chainHMAC && algorithm != chainSHA256) {
		return 0, prev, "", errors.New("FILE_START record lacks a valid file, prev or chain field")
	}
	return index, prev, algorithm, nil
}

// ReadKey reads a key file written by [NewKey] and returns the key for
// [Verify]. A key file that the library has already evolved (the key of a
// later file) is an error wrapping [ErrBadKey]: verifying needs the
// original key.
func ReadKey(path string) ([]byte, error) {
	// An auditor's copy of the key need not belong to the verifying user,
	// so only the logger's own key file is held to its owner.
	data, err := readKeyData(path, false)
	if err != nil {
		return nil, err
	}
	k, err := parseKey(path, data)
	if err != nil {
		return nil, err
	}
	if k.index != 0 {
		return nil, fmt.Errorf("audit: integrity key file %s: %w: it holds the key of file %d, which the library evolved from the original; verifying needs the original key (of file 0), kept when the key was made", path, ErrBadKey, k.index)
	}
	return k.key, nil
}

// checkFreshKey refuses a key file that another chain has already moved on
// (the key file of another module, say) when this module has no files yet:
// its chain would start in the middle, which verifying reports as missing
// files. Each module needs a key file of its own.
func (l *Logger) checkFreshKey() error {
	if l.key == nil || l.key.key == nil || l.key.index == 0 || l.file.size > 0 {
		return nil
	}
	backups, err := listBackups(osFS{}, l.dir, l.module)
	if err != nil || len(backups) > 0 {
		return err
	}
	return fmt.Errorf("audit: integrity key file %s: %w: it holds the key of file %d of a chain, but module %s has no audit files yet; give each module a key file of its own",
		l.cfg.IntegrityKeyFile, ErrBadKey, l.key.index, l.module)
}

// useKey makes l.key the key of file index, evolving it as needed. The key
// file is rewritten with the new key before the logger uses it and before
// the old key is wiped, so that the key on disk never lags behind the key in
// use; if it cannot be rewritten, the logger keeps the old key and the error
// is returned. Called with l.mu held (or by New).
func (l *Logger) useKey(index uint64) error {
	if l.key.index > index {
		return fmt.Errorf("audit: integrity: %w: the key is for file %d, after file %d", ErrBadKey, l.key.index, index)
	}
	if l.key.index == index {
		return nil
	}
	next := l.key.next()
	for next.index < index {
		n := next.next()
		next.wipe()
		next = n
	}
	if next.key != nil && l.cfg.IntegrityKeyFile != "" {
		if err := writeKeyFile(l.cfg.IntegrityKeyFile, next); err != nil {
			next.wipe()
			return err
		}
	}
	l.key.wipe()
	l.key = next
	return nil
}

// checkpoint writes a Checkpoint record (every CheckpointInterval) and
// syncs the file, which moves the head to it.
func (l *Logger) checkpoint() {
	e := Event{Type: Checkpoint, Outcome: Succeeded}
	err := l.write(&e)
	if err == nil {
		err = l.Sync()
	}
	if err != nil && !errors.Is(err, ErrClosed) {
		l.backgroundError(err)
	}
}

// sealedParts splits a sealed line of a built-in format into the body the
// MAC covers, as a and b (the body is a followed by b), and the MAC, without
// copying. ok is false when the line carries no well-formed mac field at its
// end.
func sealedParts(line []byte) (a, b []byte, mac [macSize]byte, ok bool) {
	const hexLen = 2 * macSize
	n := len(line)
	if n > 0 && line[0] == '{' {
		const pre, post = `,"mac":"`, `"}`
		if n < len(pre)+hexLen+len(post) || !bytes.HasSuffix(line, []byte(post)) ||
			!bytes.HasSuffix(line[:n-len(post)-hexLen], []byte(pre)) {
			return nil, nil, mac, false
		}
		if _, err := hex.Decode(mac[:], line[n-len(post)-hexLen:n-len(post)]); err != nil {
			return nil, nil, mac, false
		}
		return line[:n-len(post)-hexLen-len(pre)], closingBrace, mac, true
	}
	const pre = " mac="
	if n < len(pre)+hexLen || !bytes.HasSuffix(line[:n-hexLen], []byte(pre)) {
		return nil, nil, mac, false
	}
	if _, err := hex.Decode(mac[:], line[n-hexLen:]); err != nil {
		return nil, nil, mac, false
	}
	return line[:n-hexLen-len(pre)], nil, mac, true
}

var closingBrace = []byte("}")

// jsonTimePrefix starts every record of the JSON format.
const jsonTimePrefix = `{"time":"`

// quickTime returns the time text of a record of a built-in format, without
// parsing it: fixed-width RFC 3339 in UTC, so that times compare as bytes.
func quickTime(line []byte) []byte {
	if bytes.HasPrefix(line, []byte(jsonTimePrefix)) {
		line = line[len(jsonTimePrefix):]
	}
	if len(line) < timeLen || line[timeLen-1] != 'Z' {
		return nil
	}
	return line[:timeLen]
}

// quickSeq returns the sequence number of a record of a built-in format
// without parsing the rest of it.
func quickSeq(line []byte) (uint64, bool) {
	var rest []byte
	if bytes.HasPrefix(line, []byte(jsonTimePrefix)) {
		i := bytes.Index(line, []byte(`","seq":`))
		if i < 0 {
			return 0, false
		}
		rest = line[i+len(`","seq":`):]
	} else {
		// time module type outcome seq=N
		spaces, i := 0, 0
		for ; i < len(line) && spaces < 4; i++ {
			if line[i] == ' ' {
				spaces++
			}
		}
		var ok bool
		if rest, ok = bytes.CutPrefix(line[i:], []byte("seq=")); !ok {
			return 0, false
		}
	}
	var n uint64
	end := 0
	for ; end < len(rest) && end < 19 && '0' <= rest[end] && rest[end] <= '9'; end++ {
		n = n*10 + uint64(rest[end]-'0')
	}
	if end == 0 || end > 1 && rest[0] == '0' {
		return 0, false
	}
	return n, true
}

// quickType returns the event type of a record of a built-in format written
// by module, without parsing the rest of it.
func quickType(line []byte, module string) []byte {
	var rest []byte
	var end byte
	if bytes.HasPrefix(line, []byte(jsonTimePrefix)) {
		i := bytes.Index(line, []byte(`"type":"`))
		if i < 0 {
			return nil
		}
		rest, end = line[i+len(`"type":"`):], '"'
	} else {
		start := timeLen + 1 + len(module) + 1
		if len(line) < start {
			return nil
		}
		rest, end = line[start:], ' '
	}
	if i := bytes.IndexByte(rest, end); i >= 0 {
		return rest[:i]
	}
	return nil
}
