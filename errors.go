package audit

import "errors"

// Sentinel errors that callers can test with [errors.Is]. Errors returned by
// the library wrap one of these, or an error of the operating system (such as
// [syscall.ENOSPC] or [io/fs.ErrPermission]), or both.
var (
	// ErrClosed is returned by [Logger.Log], [Logger.SetMask] and
	// [Logger.Sync] after [Logger.Close].
	ErrClosed = errors.New("audit: logger closed")
	// ErrLocked means another writer, in this process or another, holds the
	// audit file of the same module in the same directory.
	ErrLocked = errors.New("audit file is locked by another writer")
	// ErrUnsafePath means the audit directory or file is not safe to write:
	// a symbolic link where the file should be, a file (audit, lock, key or
	// temporary file) owned by another user than the process's effective
	// user, a directory writable by everyone without the sticky bit, or a
	// path that is not a directory.
	ErrUnsafePath = errors.New("unsafe audit path")
	// ErrRecordTooLarge means a formatted record is larger than the file size
	// limit or [MaxRecordSize]; it is not written.
	ErrRecordTooLarge = errors.New("record too large")
	// ErrBadConfig is wrapped by errors about a [Config] or a parameter that
	// cannot be used.
	ErrBadConfig = errors.New("invalid configuration")
)

// MaxRecordSize is the largest formatted record, newline included, that a
// [Logger] writes: 1 MiB.
const MaxRecordSize = 1 << 20
