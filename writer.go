package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Names and modes of the files the writer creates. For module M in the audit
// directory:
//
//	M.audit.log                           the active file
//	M.audit.log.lock                      the advisory lock file, never removed
//	M.audit.log.torn-<time>               a torn final record moved aside at open
//	M.audit-<time>.log                    a backup made by rotation
//	M.audit-<time>.log.gz                 a compressed backup
//	M.audit-<time>.log.gz.tmp             a compression in progress (or left by a crash)
//
// where <time> is UTC in the layout of [backupTimeLayout].
const (
	activeSuffix   = ".audit.log"
	lockSuffix     = ".lock"
	tornSuffix     = ".torn-"
	backupInfix    = ".audit-"
	backupExt      = ".log"
	gzExt          = ".gz"
	tmpExt         = ".tmp"
	filePerm       = fs.FileMode(0o640)
	dirPerm        = fs.FileMode(0o750)
	maxNameRetries = 1 << 16 // milliseconds tried for a free backup or quarantine name
)

// fileSystem is the seam between the writer and the operating system, so that
// tests can inject faults. The default, [osFS], is the real file system.
type fileSystem interface {
	// OpenFile opens name like [os.OpenFile], but never follows a symbolic
	// link in the last element of name (O_NOFOLLOW) and never leaks the
	// descriptor to a child process (O_CLOEXEC).
	OpenFile(name string, flag int, perm fs.FileMode) (file, error)
	// Mkdir creates one directory like [os.Mkdir].
	Mkdir(name string, perm fs.FileMode) error
	// Chmod changes the mode of name, following symbolic links.
	Chmod(name string, mode fs.FileMode) error
	// Stat and Lstat describe name, following symbolic links or not.
	Stat(name string) (fs.FileInfo, error)
	Lstat(name string) (fs.FileInfo, error)
	// Rename, Remove and ReadDir behave like their namesakes in package os.
	Rename(oldpath, newpath string) error
	Remove(name string) error
	ReadDir(name string) ([]fs.DirEntry, error)
	// SyncDir makes the entries of directory name durable (fsync of the
	// directory), so that a created, renamed or removed name survives a crash.
	SyncDir(name string) error
}

// file is an open file of a [fileSystem].
type file interface {
	io.Reader
	io.ReaderAt
	io.Writer
	Stat() (fs.FileInfo, error)
	Truncate(size int64) error
	Chmod(mode fs.FileMode) error
	// Sync flushes data and metadata (fsync).
	Sync() error
	// Datasync flushes data and the metadata needed to read it back
	// (fdatasync where the system has it, else fsync).
	Datasync() error
	// Lock takes an exclusive advisory lock on the open file without
	// waiting. If another open file holds it, the error wraps [ErrLocked].
	// The lock is released when the file is closed.
	Lock() error
	Close() error
}

// osFS is the [fileSystem] of the operating system. OpenFile, SyncDir and
// the locking and syncing of files are in writer_unix.go and writer_other.go.
type osFS struct{}

// Mkdir implements [fileSystem].
func (osFS) Mkdir(name string, perm fs.FileMode) error { return os.Mkdir(name, perm) }

// Chmod implements [fileSystem].
func (osFS) Chmod(name string, mode fs.FileMode) error { return os.Chmod(name, mode) }

// Stat implements [fileSystem].
func (osFS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// Lstat implements [fileSystem].
func (osFS) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(name) }

// Rename implements [fileSystem].
func (osFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove implements [fileSystem].
func (osFS) Remove(name string) error { return os.Remove(name) }

// ReadDir implements [fileSystem].
func (osFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }

// osFile is a [file] of [osFS].
type osFile struct {
	*os.File
	release func() // undoes Lock where locks are emulated in the process; nil otherwise
}

// Close implements [file]; it also releases an emulated lock.
func (f *osFile) Close() error {
	if f.release != nil {
		f.release()
		f.release = nil
	}
	return f.File.Close()
}

// writerConfig configures a fileWriter. Dir and Module are already validated
// by the caller (Module matches [A-Za-z0-9_-]{1,64}).
type writerConfig struct {
	Dir      string
	Module   string
	Compress bool             // gzip backups after rotation, in a background goroutine owned by the writer
	Now      func() time.Time // never nil (caller fills time.Now)
	OnError  func(error)      // never nil; background errors (compression) go here
	fs       fileSystem       // nil means the real OS; tests inject faults
}

// fileWriter appends records to the active audit file of one module and
// rotates it into backups. It holds an advisory lock on the module's lock
// file from openWriter to Close, so that one writer at a time, in any
// process, writes the file.
//
// Its methods must be called by one goroutine at a time. The only goroutine
// of its own is the compressor (when Compress is set), which touches only
// backups and is stopped by Close.
type fileWriter struct {
	fs     fileSystem
	dir    string
	module string
	path   string // the active file
	now    func() time.Time

	lock file // the lock file, open and locked until Close
	f    file // the active file; nil when it must be opened before the next write
	size int64

	// dirty means a failed write may have left bytes past size that could
	// not be truncated yet: nothing is appended until they are.
	dirty bool
	// fresh means the active file was rotated away: the next open must
	// create a new file (O_EXCL).
	fresh bool
	// lastName is the time of the last backup name used, so that the next
	// one is later even with a clock that stands still or steps back.
	lastName time.Time

	tail       []byte
	quarantine string
	quarantSz  int64

	comp   *compressor // nil without Compress
	closed bool
}

// errFileReplaced is wrapped by the error of [fileWriter.Sync] when the
// active file was removed or replaced behind the writer's back.
var errFileReplaced = errors.New("audit file was removed or replaced by someone else")

// openWriter prepares cfg.Dir, locks the module's audit file, opens it for
// appending, repairs a torn final record and, with cfg.Compress, starts the
// compressor with the backups a previous run left uncompressed.
func openWriter(cfg writerConfig) (*fileWriter, error) {
	fsys := cfg.fs
	if fsys == nil {
		fsys = osFS{}
	}
	w := &fileWriter{
		fs:     fsys,
		dir:    cfg.Dir,
		module: cfg.Module,
		path:   filepath.Join(cfg.Dir, cfg.Module+activeSuffix),
		now:    cfg.Now,
	}
	if err := prepareDir(fsys, cfg.Dir); err != nil {
		return nil, err
	}
	if err := w.takeLock(); err != nil {
		return nil, err
	}
	// Backup names go on from the newest one, even if the clock stepped
	// back since it was made, so that names sort in the order written.
	if backups, err := listBackups(fsys, cfg.Dir, cfg.Module); err == nil {
		for _, b := range backups {
			if b.time.After(w.lastName) {
				w.lastName = b.time
			}
		}
	}
	if err := w.openActive(false); err != nil {
		w.lock.Close()
		return nil, fmt.Errorf("audit: %w", err)
	}
	if err := w.repairTail(); err != nil {
		w.f.Close()
		w.lock.Close()
		return nil, err
	}
	if cfg.Compress {
		w.comp = startCompressor(fsys, cfg.Dir, cfg.Module, cfg.OnError)
	}
	return w, nil
}

// prepareDir creates dir with mode 0750 if it is missing, and checks that it
// is a directory (possibly through a symbolic link) that others cannot write
// unless it is sticky.
func prepareDir(fsys fileSystem, dir string) error {
	st, err := fsys.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := makeDirs(fsys, dir); err != nil {
			return err
		}
		st, err = fsys.Stat(dir)
	}
	if err != nil {
		return fmt.Errorf("audit: directory %s: %w", dir, cause(err))
	}
	if !st.IsDir() {
		return fmt.Errorf("audit: directory %s: %w: %w", dir, ErrUnsafePath, syscall.ENOTDIR)
	}
	if dirModeUnsafe(st.Mode()) {
		return fmt.Errorf("audit: directory %s: %w: writable by others (mode %v) without the sticky bit", dir, ErrUnsafePath, st.Mode())
	}
	return nil
}

// makeDirs creates dir and its missing parents, and sets exactly dirPerm on
// each directory it created, whatever the umask. It never changes the mode
// of a directory that already existed, even one created meanwhile by
// someone else.
func makeDirs(fsys fileSystem, dir string) error {
	var missing []string
	for d := filepath.Clean(dir); ; {
		_, err := fsys.Stat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("audit: directory %s: %w", d, cause(err))
		}
		missing = append(missing, d)
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		if err := fsys.Mkdir(d, dirPerm); err != nil {
			if errors.Is(err, fs.ErrExist) {
				continue // created by someone else meanwhile: not ours to chmod
			}
			return fmt.Errorf("audit: create directory %s: %w", d, cause(err))
		}
		if err := fsys.Chmod(d, dirPerm); err != nil {
			return fmt.Errorf("audit: create directory %s: chmod: %w", d, cause(err))
		}
	}
	return nil
}

// takeLock opens the lock file and locks it.
func (w *fileWriter) takeLock() error {
	lockPath := w.path + lockSuffix
	l, err := openRegular(w.fs, lockPath, os.O_WRONLY|os.O_CREATE)
	if err != nil {
		return fmt.Errorf("audit: lock file: %w", err)
	}
	if err := l.Lock(); err != nil {
		l.Close()
		if errors.Is(err, ErrLocked) {
			return fmt.Errorf("audit: open %s: %w (lock file %s is held): %w", w.path, ErrLocked, lockPath, cause(err))
		}
		return fmt.Errorf("audit: lock %s: %w", lockPath, cause(err))
	}
	w.lock = l
	return nil
}

// openRegular opens the regular file name with flag (and O_NOFOLLOW). With
// O_CREATE it creates a missing file exclusively (O_EXCL), with mode 0640,
// so that a file it did not create is only ever opened as an existing file
// and checked. A symbolic link or any other kind of file at name, or a file
// owned by another user than the process's effective user, is an error
// wrapping [ErrUnsafePath]. The file is given mode 0640 whatever the umask
// or its earlier mode. Its errors name the operation and the path; the
// caller adds the "audit: " prefix and its context.
func openRegular(fsys fileSystem, name string, flag int) (file, error) {
	if st, err := fsys.Lstat(name); err == nil && !st.Mode().IsRegular() {
		if st.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("open %s: %w: %w", name, ErrUnsafePath, syscall.ELOOP)
		}
		return nil, fmt.Errorf("open %s: %w: not a regular file (mode %v)", name, ErrUnsafePath, st.Mode())
	}
	f, err := openExisting(fsys, name, flag)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) || isSymlink(fsys, name) {
			return nil, fmt.Errorf("open %s: %w: %w", name, ErrUnsafePath, cause(err))
		}
		return nil, fmt.Errorf("open %s: %w", name, cause(err))
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", name, cause(err))
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("open %s: %w: not a regular file (mode %v)", name, ErrUnsafePath, st.Mode())
	}
	if err := checkOwner(name, st); err != nil {
		f.Close()
		return nil, err
	}
	if st.Mode().Perm() != filePerm {
		if err := f.Chmod(filePerm); err != nil {
			f.Close()
			return nil, fmt.Errorf("chmod %s: %w", name, cause(err))
		}
	}
	return f, nil
}

// openExisting opens name with flag; when flag asks to create the file
// without O_EXCL, it opens an existing file without O_CREATE and creates a
// missing one with O_EXCL, retrying if someone else creates or removes the
// file in between.
func openExisting(fsys fileSystem, name string, flag int) (file, error) {
	if flag&os.O_CREATE == 0 || flag&os.O_EXCL != 0 {
		return fsys.OpenFile(name, flag, filePerm)
	}
	var err error
	for range 8 {
		var f file
		if f, err = fsys.OpenFile(name, flag&^os.O_CREATE, filePerm); !errors.Is(err, fs.ErrNotExist) {
			return f, err
		}
		if f, err = fsys.OpenFile(name, flag|os.O_EXCL, filePerm); !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, err
}

// checkOwner refuses a file that the process's effective user does not
// own: another user could read or change what is written to it. The error
// wraps [ErrUnsafePath] and names the owner.
func checkOwner(name string, st fs.FileInfo) error {
	uid, ok := fileOwner(st)
	if !ok {
		return nil // no owners on this system
	}
	if me := os.Geteuid(); uid != me {
		return fmt.Errorf("open %s: %w: owned by %s, not by this process's user (%s)", name, ErrUnsafePath, userName(uid), userName(me))
	}
	return nil
}

// userName describes the user uid for an error: "uid 65534 (nobody)", or
// "uid 65534" when the name cannot be found.
func userName(uid int) string {
	s := "uid " + strconv.Itoa(uid)
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		s += " (" + u.Username + ")"
	}
	return s
}

// isSymlink reports whether name is a symbolic link.
func isSymlink(fsys fileSystem, name string) bool {
	st, err := fsys.Lstat(name)
	return err == nil && st.Mode()&fs.ModeSymlink != 0
}

// openActive opens the active file for appending; with excl it must not
// exist yet. Errors are those of openRegular, without the "audit: " prefix.
func (w *fileWriter) openActive(excl bool) error {
	flag := os.O_WRONLY | os.O_APPEND | os.O_CREATE
	if excl {
		flag |= os.O_EXCL
	}
	f, err := openRegular(w.fs, w.path, flag)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat %s: %w", w.path, cause(err))
	}
	w.f, w.size, w.dirty, w.fresh = f, st.Size(), false, false
	return nil
}

// repairTail finds the last complete line of the active file and moves an
// incomplete final line, left by a crash in the middle of a write, into a
// quarantine file before cutting it off.
func (w *fileWriter) repairTail() error {
	if w.size == 0 {
		return nil
	}
	r, err := w.fs.OpenFile(w.path, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("audit: read %s: %w", w.path, cause(err))
	}
	defer r.Close()
	if err := sameFile(w.f, r); err != nil {
		return fmt.Errorf("audit: read %s: %w", w.path, err)
	}
	size := w.size
	nl, err := lastNewline(r, size)
	if err != nil {
		return fmt.Errorf("audit: read %s: %w", w.path, cause(err))
	}
	if nl < size-1 {
		if err := w.quarantineTail(r, nl+1, size); err != nil {
			return err
		}
	}
	if nl < 0 {
		return nil
	}
	// The last complete line ends at nl. Read at most MaxRecordSize bytes
	// before it; a longer line is not one of ours, and gives no tail.
	start := max(0, nl-MaxRecordSize)
	buf := make([]byte, nl-start)
	if _, err := r.ReadAt(buf, start); err != nil {
		return fmt.Errorf("audit: read %s: %w", w.path, cause(err))
	}
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		buf = buf[i+1:]
	} else if start > 0 {
		buf = nil
	}
	if len(buf) > 0 {
		w.tail = bytes.Clone(buf) // not the whole window
	}
	return nil
}

// sameFile checks that a and b are the same file.
func sameFile(a, b file) error {
	sa, err := a.Stat()
	if err != nil {
		return cause(err)
	}
	sb, err := b.Stat()
	if err != nil {
		return cause(err)
	}
	if !os.SameFile(sa, sb) {
		return fmt.Errorf("%w: file replaced while opening it", ErrUnsafePath)
	}
	return nil
}

// lastNewline returns the offset of the last '\n' in the first size bytes of
// r, or -1 if there is none. It reads backwards, MaxRecordSize+1 bytes at a
// time, so that a file whose last line is a record needs one read.
func lastNewline(r io.ReaderAt, size int64) (int64, error) {
	chunk := int64(MaxRecordSize + 1)
	var buf []byte
	for end := size; end > 0; {
		start := max(0, end-chunk)
		if int64(cap(buf)) < end-start {
			buf = make([]byte, end-start)
		}
		b := buf[:end-start]
		if _, err := r.ReadAt(b, start); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			return start + int64(i), nil
		}
		end = start
	}
	return -1, nil
}

// quarantineTail copies bytes [from, to) of the active file, read through r,
// into a new quarantine file, makes it durable, and then cuts the active
// file at from.
func (w *fileWriter) quarantineTail(r file, from, to int64) error {
	q, name, err := createUnique(w.fs, w.now(), func(t time.Time) string {
		return w.path + tornSuffix + t.Format(backupTimeLayout)
	})
	if err != nil {
		return fmt.Errorf("audit: quarantine torn record of %s: %w", w.path, err)
	}
	_, err = io.Copy(q, io.NewSectionReader(r, from, to-from))
	if err == nil {
		err = q.Sync()
	}
	if cerr := q.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = w.fs.SyncDir(w.dir)
	}
	if err != nil {
		w.fs.Remove(name)
		return fmt.Errorf("audit: quarantine torn record of %s into %s: %w", w.path, name, cause(err))
	}
	if err := w.f.Truncate(from); err != nil {
		return fmt.Errorf("audit: truncate torn record of %s (copied to %s): %w", w.path, name, cause(err))
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("audit: sync %s: %w", w.path, cause(err))
	}
	w.size, w.quarantine, w.quarantSz = from, name, to-from
	return nil
}

// createUnique creates a new file, named by name(t) for the first
// millisecond t from now on whose name is free, with mode 0640.
func createUnique(fsys fileSystem, now time.Time, name func(time.Time) string) (file, string, error) {
	t := now.UTC().Truncate(time.Millisecond)
	for range maxNameRetries {
		n := name(t)
		f, err := openRegular(fsys, n, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		if err == nil {
			return f, n, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, "", err
		}
		t = t.Add(time.Millisecond)
	}
	return nil, "", fmt.Errorf("no free file name from %s on: %w", name(now.UTC()), fs.ErrExist)
}

// Path returns the active file's path.
func (w *fileWriter) Path() string { return w.path }

// Size returns the length of the active file as the writer knows it: the
// bytes found at open (after repair) plus those of successful writes.
func (w *fileWriter) Size() int64 { return w.size }

// Tail returns the last complete line of the active file found at open,
// without its '\n', or nil if there is none (or it is empty, or longer than
// [MaxRecordSize]).
func (w *fileWriter) Tail() []byte { return w.tail }

// Quarantine returns the file that received the torn final record found at
// open, and its length; "", 0 if the file ended cleanly.
func (w *fileWriter) Quarantine() (path string, n int64) { return w.quarantine, w.quarantSz }

// Write appends p to the active file with one write. It is all or nothing:
// if the write fails or is short, the file is cut back to its length before
// the call, and the error wraps the cause ([io.ErrShortWrite] for a short
// write without one, [syscall.ENOSPC] for a full disk). If that cut fails
// too, every later Write retries it first and fails until it succeeds, so
// nothing is ever appended after a partial record.
func (w *fileWriter) Write(p []byte) error {
	if err := w.ready("write"); err != nil {
		return err
	}
	if len(p) == 0 {
		return nil
	}
	n, err := w.f.Write(p)
	if err == nil && n == len(p) {
		w.size += int64(n)
		return nil
	}
	if err == nil {
		err = io.ErrShortWrite
	}
	if terr := w.f.Truncate(w.size); terr != nil {
		w.dirty = true
		return fmt.Errorf("audit: write %s: %w (and removing the %d bytes written failed: %w)", w.path, cause(err), n, cause(terr))
	}
	return fmt.Errorf("audit: write %s: %w", w.path, cause(err))
}

// ready makes the active file ready for op: open, and without garbage left
// by a failed write.
func (w *fileWriter) ready(op string) error {
	if w.closed {
		return fmt.Errorf("audit: %s %s: %w", op, w.path, fs.ErrClosed)
	}
	if w.f == nil {
		if err := w.openActive(w.fresh); err != nil {
			return fmt.Errorf("audit: %s %s: no open file: %w", op, w.path, err)
		}
	}
	if w.dirty {
		if err := w.f.Truncate(w.size); err != nil {
			return fmt.Errorf("audit: %s %s: removing a partial write failed again: %w", op, w.path, cause(err))
		}
		w.dirty = false
	}
	return nil
}

// Sync flushes the active file to stable storage (fdatasync). It also
// checks that the active file's path still names the open file: if someone
// removed or replaced it, records would go nowhere, so the error wraps
// errFileReplaced (a [fileWriter.Rotate] starts a new file).
func (w *fileWriter) Sync() error {
	if w.closed {
		return fmt.Errorf("audit: sync %s: %w", w.path, fs.ErrClosed)
	}
	if w.f == nil {
		return nil // nothing written since the last rotation or Sync
	}
	if err := w.f.Datasync(); err != nil {
		return fmt.Errorf("audit: sync %s: %w", w.path, cause(err))
	}
	if !w.inPlace() {
		return fmt.Errorf("audit: sync %s: %w", w.path, errFileReplaced)
	}
	return nil
}

// Replaced reports whether the active file was removed or replaced from
// outside: its path no longer names the open file.
func (w *fileWriter) Replaced() bool {
	return w.f != nil && !w.closed && !w.inPlace()
}

// inPlace reports whether the active file's path still names the open file.
// It reports true when that cannot be told.
func (w *fileWriter) inPlace() bool {
	open, err := w.f.Stat()
	if err != nil {
		return true
	}
	named, err := w.fs.Lstat(w.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	return err != nil || os.SameFile(open, named)
}

// Rotate syncs and closes the active file, renames it to a new backup named
// after Now (UTC, milliseconds, made unique by taking the next free
// millisecond), opens a new empty active file and syncs the directory. With
// Compress the backup is queued for compression. It returns the backup's
// path.
//
// If the rename fails, the writer goes on with the old file and backup is
// "". If the rename succeeded but a later step failed (opening the new file,
// syncing the directory), backup is not "" and err is not nil: the rotation
// happened, and if the new file is not open the next Write opens it. If the
// active file had been removed or replaced behind the writer's back (see
// [fileWriter.Sync]), there is nothing to rename: Rotate only opens a new
// file and returns "", nil; so it does after a rotation that renamed the
// file but could not open the new one. Either way, on a nil error the active
// file is a new one.
func (w *fileWriter) Rotate() (backup string, err error) {
	if !w.closed && w.f == nil && w.fresh {
		// An earlier rotation renamed the file but could not open a new
		// one: opening it now completes that rotation.
		if err := w.openActive(true); err != nil {
			return "", fmt.Errorf("audit: rotate %s: opening a new file failed again: %w", w.path, err)
		}
		return "", w.syncDir("rotate")
	}
	if err := w.ready("rotate"); err != nil {
		return "", err
	}
	if err := w.f.Datasync(); err != nil {
		return "", fmt.Errorf("audit: rotate %s: sync: %w", w.path, cause(err))
	}
	if !w.inPlace() {
		w.f.Close()
		w.f, w.size, w.fresh = nil, 0, true
		if err := w.openActive(true); err != nil {
			return "", fmt.Errorf("audit: rotate %s: the file was removed or replaced, and opening a new one failed: %w", w.path, err)
		}
		return "", w.syncDir("rotate")
	}
	backup, err = w.freeBackupName()
	if err != nil {
		return "", fmt.Errorf("audit: rotate %s: %w", w.path, err)
	}
	if err := w.f.Close(); err != nil {
		w.f = nil // the descriptor is gone either way; reopen the same file
		if rerr := w.openActive(false); rerr != nil {
			return "", fmt.Errorf("audit: rotate %s: close: %w (and reopening it: %w)", w.path, cause(err), rerr)
		}
		return "", fmt.Errorf("audit: rotate %s: close: %w", w.path, cause(err))
	}
	w.f = nil
	if err := w.fs.Rename(w.path, backup); err != nil {
		if rerr := w.openActive(false); rerr != nil {
			return "", fmt.Errorf("audit: rotate %s: rename to %s: %w (and reopening it: %w)", w.path, backup, cause(err), rerr)
		}
		return "", fmt.Errorf("audit: rotate %s: rename to %s: %w", w.path, backup, cause(err))
	}
	w.size, w.fresh = 0, true
	if w.comp != nil {
		w.comp.add(backup)
	}
	if err := w.openActive(true); err != nil {
		return backup, fmt.Errorf("audit: rotate %s: renamed to %s, but opening a new file failed: %w", w.path, backup, err)
	}
	return backup, w.syncDir("rotate")
}

// syncDir syncs the audit directory for op.
func (w *fileWriter) syncDir(op string) error {
	if err := w.fs.SyncDir(w.dir); err != nil {
		return fmt.Errorf("audit: %s %s: sync directory %s: %w", op, w.path, w.dir, cause(err))
	}
	return nil
}

// freeBackupName returns the name of a backup made now: the first
// millisecond from Now on (and after the previous backup) for which neither
// the backup nor its compressed form exists.
func (w *fileWriter) freeBackupName() (string, error) {
	t := w.now().UTC().Truncate(time.Millisecond)
	if !t.After(w.lastName) {
		t = w.lastName.Add(time.Millisecond)
	}
	for range maxNameRetries {
		name := filepath.Join(w.dir, backupName(w.module, t))
		free := true
		for _, n := range [...]string{name, name + gzExt} {
			_, err := w.fs.Lstat(n)
			if err == nil {
				free = false
				break
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("backup name %s: %w", n, cause(err))
			}
		}
		if free {
			w.lastName = t
			return name, nil
		}
		t = t.Add(time.Millisecond)
	}
	return "", fmt.Errorf("no free backup name from %s on: %w", t.Format(backupTimeLayout), fs.ErrExist)
}

// Close stops the compressor (a backup being compressed is finished or
// cleanly abandoned; queued ones stay uncompressed until the next open),
// syncs and closes the active file and releases the lock. Calling it again
// does nothing.
func (w *fileWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.comp != nil {
		w.comp.stop()
	}
	var errs []error
	if w.f != nil {
		if w.dirty {
			if err := w.f.Truncate(w.size); err != nil {
				errs = append(errs, fmt.Errorf("audit: close %s: removing a partial write: %w", w.path, cause(err)))
			}
		}
		if err := w.f.Datasync(); err != nil {
			errs = append(errs, fmt.Errorf("audit: close %s: sync: %w", w.path, cause(err)))
		}
		if err := w.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("audit: close %s: %w", w.path, cause(err)))
		}
		w.f = nil
	}
	if err := w.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("audit: close lock file of %s: %w", w.path, cause(err)))
	}
	return errors.Join(errs...)
}

// cause strips the operation and path that package os adds to an error, so
// that messages name the path once; the system error stays wrapped.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Err != nil {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) && le.Err != nil {
		return le.Err
	}
	return err
}
