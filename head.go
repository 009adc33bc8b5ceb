package audit

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The head file.
//
// The chain proves that the records it holds are the ones written, in
// order, but not that nothing was removed after its newest record: whoever
// deletes the newest files, or cuts the active one, leaves a shorter chain
// that is just as valid. So a sealed Logger keeps, beside its files, a head
// file <Module>.audit.head naming the newest position of the chain it has
// made durable: a file index, a sequence number and that record's MAC. The
// head is sealed with the key in use when it was written (the key of file
// "key"), and the keys of earlier files are gone by then, so nobody can
// write a head that points back into an earlier file: rolling the chain
// back needs a copy of an older head kept from before (the shipped
// checkpoints are the anchor against that). Verify requires the head to be
// there and the record it names to be in the files.
//
// The head is rewritten, atomically and durably, when the Logger starts,
// after each rotation (naming the end of the file just closed, which the
// rotation synced), and whenever the active file is synced: at Sync, every
// SyncInterval, at each checkpoint and at Close. Records written after the
// last of those are vouched for by the chain alone.

const (
	headSuffix = ".audit.head"
	headMagic  = "audit-head v1"
	// headLabel separates the head's seal from the records' MACs.
	headLabel = "auditkit/audit head v1\x00"
	// maxHeadSize bounds what is read of a head file.
	maxHeadSize = 4096
)

// head is the newest position of a chain that its Logger vouches for.
type head struct {
	module string
	chain  string        // chainHMAC or chainSHA256
	key    uint64        // index of the key that seals the head
	file   uint64        // index of the file of the newest record vouched for
	seq    uint64        // its sequence number; 0 for "before the file's first record"
	mac    [macSize]byte // that record's MAC; with seq 0, the chain value before the file
	time   time.Time     // when the head was written
}

// headPath returns the path of module's head file in dir.
func headPath(dir, module string) string { return filepath.Join(dir, module+headSuffix) }

// body returns the head's text without its seal.
func (h *head) body() []byte {
	var b []byte
	b = append(b, headMagic...)
	b = append(b, " module="...)
	b = append(b, h.module...)
	b = append(b, " chain="...)
	b = append(b, h.chain...)
	b = append(b, " key="...)
	b = strconv.AppendUint(b, h.key, 10)
	b = append(b, " file="...)
	b = strconv.AppendUint(b, h.file, 10)
	b = append(b, " seq="...)
	b = strconv.AppendUint(b, h.seq, 10)
	b = append(b, " mac="...)
	b = hex.AppendEncode(b, h.mac[:])
	b = append(b, " time="...)
	b = append(b, h.time.UTC().Format(time.RFC3339Nano)...)
	return b
}

// sealHead returns the seal of a head's body under k, the key of the head's
// key index.
func sealHead(k *chainKey, body []byte) [macSize]byte {
	k.mac.Reset()
	k.mac.Write([]byte(headLabel))
	k.mac.Write(body)
	var out [macSize]byte
	copy(out[:], k.mac.Sum(k.sum[:0]))
	return out
}

// marshal returns the sealed head file's contents.
func (h *head) marshal(k *chainKey) []byte {
	b := h.body()
	seal := sealHead(k, b)
	b = append(b, " seal="...)
	b = hex.AppendEncode(b, seal[:])
	return append(b, '\n')
}

// errBadHead is wrapped by the errors of parseHead.
var errBadHead = errors.New("malformed head file")

// parseHead parses a head file's contents and returns the head, its body
// and its seal; the seal is not checked.
func parseHead(data []byte) (h head, body []byte, seal [macSize]byte, err error) {
	line, ok := bytes.CutSuffix(data, []byte("\n"))
	if !ok || bytes.IndexByte(line, '\n') >= 0 {
		return h, nil, seal, fmt.Errorf("%w: want one line", errBadHead)
	}
	i := bytes.LastIndex(line, []byte(" seal="))
	if i < 0 {
		return h, nil, seal, fmt.Errorf("%w: no seal", errBadHead)
	}
	body = line[:i]
	if s := line[i+len(" seal="):]; len(s) != 2*macSize {
		return h, nil, seal, fmt.Errorf("%w: bad seal", errBadHead)
	} else if _, err := hex.Decode(seal[:], s); err != nil {
		return h, nil, seal, fmt.Errorf("%w: bad seal", errBadHead)
	}
	rest, ok := bytes.CutPrefix(body, []byte(headMagic+" "))
	if !ok {
		return h, nil, seal, fmt.Errorf("%w: not a head file", errBadHead)
	}
	seen := 0
	for _, f := range strings.Fields(string(rest)) {
		k, v, _ := strings.Cut(f, "=")
		var err error
		switch k {
		case "module":
			h.module = v
		case "chain":
			h.chain = v
		case "key":
			h.key, err = strconv.ParseUint(v, 10, 64)
		case "file":
			h.file, err = strconv.ParseUint(v, 10, 64)
		case "seq":
			h.seq, err = strconv.ParseUint(v, 10, 64)
		case "mac":
			if len(v) != 2*macSize {
				err = errBadHead
			} else {
				_, err = hex.Decode(h.mac[:], []byte(v))
			}
		case "time":
			h.time, err = time.Parse(time.RFC3339Nano, v)
		default:
			return h, nil, seal, fmt.Errorf("%w: unknown field %q", errBadHead, k)
		}
		if err != nil {
			return h, nil, seal, fmt.Errorf("%w: field %s", errBadHead, k)
		}
		seen++
	}
	if seen != 7 || !moduleRE.MatchString(h.module) || (h.chain != chainHMAC && h.chain != chainSHA256) || h.file > h.key {
		return h, nil, seal, fmt.Errorf("%w: missing or inconsistent fields", errBadHead)
	}
	return h, body, seal, nil
}

// readHeadFile reads module's head file in dir. A missing file gives nil
// data and no error.
func readHeadFile(dir, module string) ([]byte, error) {
	path := headPath(dir, module)
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: head file: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("audit: head file %s: %w: not a regular file", path, ErrUnsafePath)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxHeadSize+1))
	if err != nil {
		return nil, fmt.Errorf("audit: head file: %w", err)
	}
	if len(data) == 0 {
		data = []byte{} // present but empty: not the same as missing
	}
	return data, nil
}

// writeHeadFile replaces module's head file in dir with data, atomically
// and durably: a temporary file created exclusively, synced and renamed
// over the head, and the directory synced.
func writeHeadFile(fsys fileSystem, dir, module string, data []byte) error {
	if err := replaceFile(fsys, headPath(dir, module), data, filePerm); err != nil {
		return fmt.Errorf("audit: head file: %w", err)
	}
	return nil
}

// headData returns the sealed head naming pos, sealed with the key of file
// keyIndex, or nil when the logger keeps no head (no integrity protection,
// or records go to Config.Output) or when the key in use is no longer that
// key (a newer file is being started; its rotation writes the next head).
// Called with l.mu held.
func (l *Logger) headData(pos fileState, keyIndex uint64) []byte {
	if l.key == nil || l.dir == "" || l.key.index != keyIndex || pos.index > keyIndex {
		return nil
	}
	h := head{module: l.module, chain: l.key.algorithm(), key: keyIndex,
		file: pos.index, seq: pos.seq, mac: pos.mac, time: l.now()}
	return h.marshal(l.key)
}

// writeHead writes the head file data made by headData (nothing for nil).
// Called by the owner of l.file.out, without l.mu.
func (l *Logger) writeHead(data []byte) error {
	if data == nil {
		return nil
	}
	w, ok := l.file.out.(*fileWriter)
	if !ok {
		return nil
	}
	return writeHeadFile(w.fs, l.dir, l.module, data)
}
