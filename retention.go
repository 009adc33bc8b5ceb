package audit

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// backupTimeLayout is the layout of the UTC time in the names of backups and
// quarantine files, such as "2026-11-20T23-59-59.999".
const backupTimeLayout = "2006-01-02T15-04-05.000"

// backupName returns the file name of module's backup made at t:
// "<module>.audit-<UTC time>.log".
func backupName(module string, t time.Time) string {
	return module + backupInfix + t.UTC().Format(backupTimeLayout) + backupExt
}

// parseBackupName reports whether name is exactly the name of a backup of
// module, compressed ("….log.gz") or not ("….log"), and returns the time in
// it. Any other name, including those of other modules, of the active, lock
// and quarantine files, and names with a malformed time or an extra suffix,
// gives ok false.
func parseBackupName(module, name string) (t time.Time, compressed bool, ok bool) {
	t, kind, ok := parseBackupFile(module, name)
	if !ok || kind == backupTmp {
		return time.Time{}, false, false
	}
	return t, kind == backupGz, true
}

// backupKind tells the three kinds of files made from a backup.
type backupKind int

const (
	backupPlain backupKind = iota // <module>.audit-<time>.log
	backupGz                      // <module>.audit-<time>.log.gz
	backupTmp                     // <module>.audit-<time>.log.gz.tmp, a compression in progress or abandoned
)

// parseBackupFile is parseBackupName that also accepts the temporary file
// of a compression.
func parseBackupFile(module, name string) (t time.Time, kind backupKind, ok bool) {
	rest, found := strings.CutPrefix(name, module+backupInfix)
	if !found || len(rest) < len(backupTimeLayout) {
		return time.Time{}, 0, false
	}
	stamp, suffix := rest[:len(backupTimeLayout)], rest[len(backupTimeLayout):]
	switch suffix {
	case backupExt:
		kind = backupPlain
	case backupExt + gzExt:
		kind = backupGz
	case backupExt + gzExt + tmpExt:
		kind = backupTmp
	default:
		return time.Time{}, 0, false
	}
	t, err := time.Parse(backupTimeLayout, stamp)
	if err != nil || t.Format(backupTimeLayout) != stamp {
		return time.Time{}, 0, false
	}
	return t, kind, true
}

// backupFile is a file of a module's backup found in the audit directory.
type backupFile struct {
	name string // file name in the directory
	time time.Time
	kind backupKind
}

// listBackups returns the regular files of dir that are backups of module,
// compressed or not, or compressions of them in progress, sorted by name.
func listBackups(fsys fileSystem, dir, module string) ([]backupFile, error) {
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read directory %s: %w", dir, cause(err))
	}
	var out []backupFile
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if t, kind, ok := parseBackupFile(module, e.Name()); ok {
			out = append(out, backupFile{e.Name(), t, kind})
		}
	}
	slices.SortFunc(out, func(a, b backupFile) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// pruneBackups removes from dir the backups of module (".log", ".log.gz",
// and abandoned ".log.gz.tmp" files) whose name's time is before olderThan,
// and returns their paths, sorted. It leaves every other file alone: the
// active, lock and quarantine files, other modules' files, trace logs and
// anything whose name is not exactly that of a backup of module. It goes on
// after a failed removal, and returns the failures joined with
// [errors.Join]. A nil fsys means the real file system.
func pruneBackups(fsys fileSystem, dir, module string, olderThan time.Time) (removed []string, err error) {
	return removeBackups(fsys, dir, module, olderThan, false)
}

// pruneChain is pruneBackups for a sealed chain: it removes the backups
// oldest first and stops at the first one it has to keep (being compressed,
// or failing to be removed), so that the files left are always every file
// from some point on. Removing the files after a kept one would leave a gap
// in the middle of the chain, which only the next retention would close: a
// crash before it leaves a set that verification must call incomplete.
func pruneChain(fsys fileSystem, dir, module string, olderThan time.Time) (removed []string, err error) {
	return removeBackups(fsys, dir, module, olderThan, true)
}

// removeBackups is pruneBackups, stopping at the first backup kept when
// inOrder is true.
func removeBackups(fsys fileSystem, dir, module string, olderThan time.Time, inOrder bool) (removed []string, err error) {
	if fsys == nil {
		fsys = osFS{}
	}
	backups, err := listBackups(fsys, dir, module)
	if err != nil {
		return nil, fmt.Errorf("audit: prune backups of %s: %w", module, err)
	}
	var errs []error
	for _, b := range backups {
		if !b.time.Before(olderThan) {
			continue
		}
		p := filepath.Join(dir, b.name)
		if isCompressing(filepath.Join(dir, backupName(module, b.time))) {
			if inOrder {
				break
			}
			continue // the compressor owns it; a later prune takes the .gz
		}
		if err := fsys.Remove(p); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("audit: prune %s: %w", p, cause(err)))
				if inOrder {
					break
				}
			}
			continue
		}
		removed = append(removed, p)
	}
	slices.Sort(removed)
	return removed, errors.Join(errs...)
}

// compressing holds the backups being compressed in this process, by
// cleaned path, so that pruneBackups leaves their files to the compressor.
var compressing = struct {
	sync.Mutex
	m map[string]int
}{m: make(map[string]int)}

// markCompressing records that backup is being compressed until release is
// called.
func markCompressing(backup string) (release func()) {
	key := filepath.Clean(backup)
	compressing.Lock()
	compressing.m[key]++
	compressing.Unlock()
	return func() {
		compressing.Lock()
		if compressing.m[key]--; compressing.m[key] <= 0 {
			delete(compressing.m, key)
		}
		compressing.Unlock()
	}
}

// isCompressing reports whether backup is being compressed in this process.
func isCompressing(backup string) bool {
	compressing.Lock()
	defer compressing.Unlock()
	return compressing.m[filepath.Clean(backup)] > 0
}

// prune removes the backups that Retention and MaxBackups no longer keep.
// With integrity protection on, it first records what it is about to remove
// and the chain value at the cut in a [RetentionPrune] record, so that a
// verifier can tell retention from tampering; the files go only once that
// record is written. A crash or a Close between the two leaves files that
// the record names: verification accepts them. Many files are removed in
// several steps, each with its own record, so that no record is too large.
func (l *Logger) prune() {
	var olderThan time.Time
	if l.cfg.Retention > 0 {
		olderThan = l.now().Add(-l.cfg.Retention)
	}
	if l.cfg.MaxBackups > 0 {
		t, err := l.oldestKept()
		if err != nil {
			l.backgroundError(fmt.Errorf("audit: retention: %w", unprefixed(err)))
			return
		}
		if t.After(olderThan) {
			olderThan = t
		}
	}
	// A file not yet shipped to its end stays while a shipper is
	// configured for the module (it keeps a cursor file beside the files).
	if keepFrom, held, err := shippingHold(l.dir, l.module); err != nil {
		l.backgroundError(fmt.Errorf("audit: retention in %s: %w", l.dir, err))
		return
	} else if held && keepFrom.Before(olderThan) {
		olderThan = keepFrom
	}
	if !l.cfg.Integrity { // l.key is guarded by l.mu; the setting is not
		removed, err := pruneBackups(nil, l.dir, l.module, olderThan)
		if err != nil {
			l.backgroundError(err)
		}
		l.stats.pruned.Add(uint64(len(removed)))
		return
	}
	steps, err := l.pruneSteps(olderThan)
	if err != nil {
		l.backgroundError(fmt.Errorf("audit: retention in %s: %w", l.dir, unprefixed(err)))
		return // keep the files rather than lose the chain
	}
	for _, step := range steps {
		cut, err := retentionCut(step.newest)
		if err == nil {
			cut.Object = strings.Join(step.names, " ")
			err = l.write(cut)
		}
		if err != nil {
			if !errors.Is(err, ErrClosed) {
				l.backgroundError(fmt.Errorf("audit: retention in %s: %w", l.dir, unprefixed(err)))
			}
			return // the files stay until a record can say they went
		}
		removed, err := pruneChain(nil, l.dir, l.module, step.until)
		if err != nil {
			l.backgroundError(err)
		}
		l.stats.pruned.Add(uint64(len(removed)))
	}
}

// pruneStep is a run of backups removed after one RetentionPrune record.
type pruneStep struct {
	names  []string  // the backups' file names
	newest File      // the newest of them, whose end is the cut
	until  time.Time // pruneBackups removes the backups older than this
}

// pruneSteps splits the backups older than olderThan into steps whose
// records fit within the record size limit.
func (l *Logger) pruneSteps(olderThan time.Time) ([]pruneStep, error) {
	files, err := ListFiles(l.dir, l.module)
	if err != nil {
		return nil, err
	}
	// The names of one step take at most a quarter of the largest record.
	budget := int(min(l.cfg.MaxSize, MaxRecordSize)/4) - 64
	var steps []pruneStep
	var cur pruneStep
	size := 0
	for _, f := range files {
		if f.Active || !f.Rotated.Before(olderThan) {
			continue
		}
		name := filepath.Base(f.Path)
		if len(cur.names) > 0 && size+len(name)+1 > budget {
			steps = append(steps, cur)
			cur, size = pruneStep{}, 0
		}
		cur.names = append(cur.names, name)
		cur.newest, cur.until = f, f.Rotated.Add(time.Millisecond)
		size += len(name) + 1
	}
	if len(cur.names) > 0 {
		steps = append(steps, cur)
	}
	return steps, nil
}

// oldestKept returns the rotation time of the oldest of the MaxBackups
// newest backups, or the zero time if there are no more than that.
func (l *Logger) oldestKept() (time.Time, error) {
	backups, err := listBackups(osFS{}, l.dir, l.module)
	if err != nil {
		return time.Time{}, err
	}
	var times []time.Time // distinct, ascending: a .log and its .log.gz are one backup
	for _, b := range backups {
		if n := len(times); n == 0 || !times[n-1].Equal(b.time) {
			times = append(times, b.time)
		}
	}
	if len(times) <= l.cfg.MaxBackups {
		return time.Time{}, nil
	}
	return times[len(times)-l.cfg.MaxBackups], nil
}

// retentionCut returns the RetentionPrune event for removing the backups up
// to newest: it names the chain value at newest's end and newest's index.
func retentionCut(newest File) (*Event, error) {
	first, err := firstLine(newest)
	if err != nil {
		return nil, err
	}
	head, err := ParseRecord(first)
	if err != nil {
		return nil, fmt.Errorf("%s: first record: %w", newest.Path, err)
	}
	index, _, _, err := fileStartInfo(&head.Event)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", newest.Path, err)
	}
	last, err := lastLine(newest)
	if err != nil {
		return nil, fmt.Errorf("%s: last record: %w", newest.Path, err)
	}
	_, mac, ok := splitSeal(last)
	if !ok {
		return nil, fmt.Errorf("%s: last record carries no MAC", newest.Path)
	}
	e := &Event{Type: RetentionPrune, Outcome: Succeeded, Reason: "retention"}
	e.AddField("cut-file", strconv.FormatUint(index, 10))
	e.AddField("cut", hex.EncodeToString(mac[:]))
	return e, nil
}
