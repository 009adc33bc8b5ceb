package audit

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Taking up the state of a module's files at New: the active file is
// continued when its records are ours, in our format and our chain;
// otherwise it is rotated away, and the new file's chain goes on from the
// newest sealed file, so that a crash inside a rotation, a change of
// AuditLogFormatter or turning integrity protection on or off never starts
// a second chain that verification would have to call a forgery.

// recover sets the logger's state from the module's existing files. Called
// by New, before any other goroutine can use the Logger.
func (l *Logger) recover(w *fileWriter) error {
	if err := l.checkChainKey(); err != nil {
		return err
	}
	if tail := w.Tail(); tail != nil {
		if l.resume(tail) {
			return nil
		}
		// Start a new file, so that each file holds one format, one run of
		// sequence numbers and one chain.
		if _, err := w.Rotate(); err != nil {
			return err
		}
		l.file.size = 0
		l.stats.rotations.Add(1)
	}
	l.file.cur = fileState{day: -1}
	l.file.forceRotate = false
	if l.key == nil {
		return nil
	}
	// The active file is empty (new, rotated away just now, or left empty
	// by a crash between a rotation and the new file's first record): its
	// chain goes on from the newest sealed file.
	last, found, err := newestSealed(l.dir, l.module)
	if err != nil {
		return err
	}
	l.file.cur.index = l.key.index
	if found {
		l.file.cur.index, l.file.cur.mac = last.index+1, last.mac
	}
	defer func() { l.file.unsealed, l.file.unsealedIndex = last.unsealedAfter, l.file.cur.index }()
	switch {
	case l.key.key == nil:
		l.key = newChainKey(l.file.cur.index, nil)
	case l.key.index > l.file.cur.index:
		// The key is ahead of the files: some are missing. Go on with the
		// key's file, which verification reports as the gap it is.
		l.file.cur.index = l.key.index
	default:
		return l.useKey(l.file.cur.index)
	}
	return nil
}

// resume takes up the state of the existing active file from its last
// record tail, and for integrity its first. It reports false if the file
// cannot be continued: its records are another module's, in another format,
// or sealed when integrity protection is now off (or the other way round).
func (l *Logger) resume(tail []byte) bool {
	p, ok := l.format.(Parser)
	if !ok {
		return false
	}
	rec, err := p.Parse(tail)
	if err != nil || rec.Module != l.module || (rec.MAC != "") != (l.key != nil) {
		return false
	}
	l.file.cur.seq, l.file.cur.day = rec.Seq, l.dayOf(rec.Event.Time)
	if l.key == nil {
		return true
	}
	if len(rec.MAC) != 2*macSize {
		return false
	}
	if _, err := hex.Decode(l.file.cur.mac[:], []byte(rec.MAC)); err != nil {
		return false
	}
	first, err := firstLine(File{Path: l.file.out.Path(), Module: l.module, Active: true})
	if err != nil || first == nil {
		return false
	}
	head, err := p.Parse(first)
	if err != nil {
		return false
	}
	index, _, alg, err := fileStartInfo(&head.Event)
	if err != nil || alg != l.key.algorithm() {
		return false
	}
	l.file.cur.index = index
	switch {
	case l.key.key == nil:
		l.key = newChainKey(index, nil)
	case l.key.index > index:
		// The key already moved on (a crash between evolving the key and
		// starting the next file): the next record starts that file.
		l.file.forceRotate = true
	case l.key.index < index:
		if err := l.useKey(index); err != nil {
			return false
		}
	}
	return true
}

// chainEnd is where a sealed file's chain ends.
type chainEnd struct {
	index uint64        // the file's index
	mac   [macSize]byte // its last record's MAC
	// unsealedAfter counts the unsealed backups after it (all of them
	// when no backup is sealed).
	unsealedAfter int
}

// newestSealed returns the end of the newest sealed backup of module in
// dir: the newest by name whose first record is a FileStart. found is false
// when no backup is sealed.
func newestSealed(dir, module string) (end chainEnd, found bool, err error) {
	files, err := ListFiles(dir, module)
	if err != nil {
		return end, false, err
	}
	for _, f := range slices.Backward(files) {
		if f.Active {
			continue
		}
		first, err := firstLine(f)
		if err != nil {
			return end, false, fmt.Errorf("audit: continue the chain from %s: %w", f.Path, err)
		}
		if first == nil {
			continue
		}
		if _, _, sealed := splitSeal(first); !sealed {
			end.unsealedAfter++
			continue
		}
		rec, err := ParseRecord(first)
		if err != nil {
			continue
		}
		index, _, _, err := fileStartInfo(&rec.Event)
		if err != nil {
			continue
		}
		last, err := lastLine(f)
		if err != nil {
			return end, false, fmt.Errorf("audit: continue the chain from %s: %w", f.Path, err)
		}
		_, mac, ok := splitSeal(last)
		if !ok {
			return end, false, fmt.Errorf("audit: continue the chain from %s: its last record carries no MAC", f.Path)
		}
		return chainEnd{index: index, mac: mac, unsealedAfter: end.unsealedAfter}, true, nil
	}
	return end, false, nil
}

// lastLine returns the last complete line of f: read from the end of a
// plain file, streamed through a compressed one.
func lastLine(f File) ([]byte, error) {
	if f.Compressed {
		_, last, err := firstAndLastLines(f)
		return last, err
	}
	fh, err := os.Open(f.Path)
	if errors.Is(err, fs.ErrNotExist) && !f.Active {
		// Compressed since it was listed.
		f.Path, f.Compressed = f.Path+gzExt, true
		return lastLine(f)
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	nl, err := lastNewline(fh, size)
	if err != nil {
		return nil, err
	}
	if nl < 0 {
		return nil, fmt.Errorf("%s: no complete record", f.Path)
	}
	prev, err := lastNewline(fh, nl)
	if err != nil {
		return nil, err
	}
	if nl-prev-1 > MaxRecordSize {
		return nil, fmt.Errorf("%s: %w", f.Path, ErrLineTooLong)
	}
	buf := make([]byte, nl-prev-1)
	if _, err := fh.ReadAt(buf, prev+1); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf, nil
}

// checkChainKey refuses, before anything is written, a configuration that
// cannot continue the module's chain: a chain sealed with a key restarted
// without one or the other way round, or a key file replaced by the key of
// another chain (a new key). Continuing would write files that verify with
// neither key. The key is checked against the FileStart record of the
// newest sealed file, and failing that against the head file, whenever the
// key has not already moved past them (after a crash between evolving the
// key and starting the next file, nothing earlier can be checked with it).
func (l *Logger) checkChainKey() error {
	if l.key == nil {
		return nil
	}
	files, err := ListFiles(l.dir, l.module)
	if err != nil {
		return err
	}
	for _, f := range slices.Backward(files) {
		first, err := firstLine(f)
		if err != nil || first == nil {
			continue
		}
		body, stored, sealed := splitSeal(first)
		if !sealed {
			continue
		}
		rec, err := ParseRecord(first)
		if err != nil || rec.Module != l.module {
			continue
		}
		index, prev, alg, err := fileStartInfo(&rec.Event)
		if err != nil || index > maxFileIndex {
			continue
		}
		if alg != l.key.algorithm() {
			if l.key.key == nil {
				return fmt.Errorf("audit: integrity: %w: module %s's chain is sealed with %s (a key), and no IntegrityKeyFile is set: give the module's key file, or move its files away to start a new chain", ErrBadKey, l.module, alg)
			}
			return fmt.Errorf("audit: integrity key file %s: %w: module %s's chain is sealed with %s (no key), and a chain cannot take a key in the middle: move its files away to start a new chain with this key", l.cfg.IntegrityKeyFile, ErrBadKey, l.module, alg)
		}
		if l.key.key == nil || l.key.index > index {
			return nil
		}
		k := keyAt(l.key.key, index-l.key.index)
		ok := k.seal(&prev, body) == stored
		k.wipe()
		if ok || l.headSealedWith() {
			return nil
		}
		return fmt.Errorf("audit: integrity key file %s: %w: its key does not seal module %s's chain (file %s, or the head file): it is the key of another chain; put back the module's key file, or move the module's files away to start a new chain", l.cfg.IntegrityKeyFile, ErrBadKey, l.module, filepath.Base(f.Path))
	}
	return nil
}

// headSealedWith reports whether the module's head file is sealed with the
// logger's key (evolved to the head's key index).
func (l *Logger) headSealedWith() bool {
	data, err := readHeadFile(l.dir, l.module)
	if err != nil || data == nil {
		return false
	}
	h, body, seal, err := parseHead(data)
	if err != nil || h.module != l.module || h.key < l.key.index || h.key > maxFileIndex {
		return false
	}
	k := keyAt(l.key.key, h.key-l.key.index)
	defer k.wipe()
	return sealHead(k, body) == seal
}
