package audit

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors that callers can test with [errors.Is]. Errors returned by
// the library wrap one of these, or an error of the operating system (such as
// [syscall.ENOSPC] or [io/fs.ErrPermission]), or both.
var (
	// ErrClosed is returned by [Logger.Log], [Logger.SetMask] and
	// [Logger.Sync] after [Logger.Close].
	ErrClosed = errors.New("logger closed")
	// ErrLocked means another writer, in this process or another, holds the
	// audit file of the same module in the same directory.
	ErrLocked = errors.New("audit file is locked by another writer")
	// ErrUnsafePath means the audit directory or file is not safe to write:
	// a symbolic link where the file should be, a file (audit, lock, key or
	// temporary file) owned by another user than the process's effective
	// user, a directory writable by everyone without the sticky bit, or a
	// path that is not a directory.
	ErrUnsafePath = errors.New("unsafe audit path")
	// ErrRecordTooLarge means a formatted record is longer than
	// [MaxRecordSize], or too long to start a file of [Config.MaxSize]
	// bytes after the library's own records that start a file (FILE_START
	// when integrity protection is on, FILE_REPLACED after the file was
	// replaced); it is not written. The error says which limit and the
	// sizes.
	ErrRecordTooLarge = errors.New("record too large")
	// ErrBadConfig is wrapped by errors about a [Config] or a parameter that
	// cannot be used.
	ErrBadConfig = errors.New("invalid configuration")
)

// tooLargeError is the error about a record of type t, n bytes long with
// its newline, that is not written: longer than MaxRecordSize, or, as the
// first record of a file, longer than maxSize together with the head bytes
// of the library's own records that start the file (FILE_START when
// integrity protection is on, FILE_REPLACED after the file was replaced).
func tooLargeError(t EventType, n int, head, maxSize int64) error {
	switch {
	case n > MaxRecordSize:
		return fmt.Errorf("audit: %s event: %w: %d bytes, more than MaxRecordSize (%d bytes)", t, ErrRecordTooLarge, n, MaxRecordSize)
	case head > 0:
		return fmt.Errorf("audit: %s event: %w: %d bytes, after the %d bytes of the library's records that start a file "+
			"(%d in all), more than Config.MaxSize (%d bytes)", t, ErrRecordTooLarge, n, head, head+int64(n), maxSize)
	}
	return fmt.Errorf("audit: %s event: %w: %d bytes, more than Config.MaxSize (%d bytes)", t, ErrRecordTooLarge, n, maxSize)
}

// unprefixed returns err for use as the cause of another error of this
// package: its text without the leading "audit: ", so that the error that
// wraps it says the prefix once. errors.Is and errors.As still find err
// and what it wraps.
func unprefixed(err error) error {
	if err == nil || !strings.HasPrefix(err.Error(), prefix) {
		return err
	}
	return unprefixedError{err}
}

// prefix begins the text of every error of this package.
const prefix = "audit: "

type unprefixedError struct{ err error }

func (e unprefixedError) Error() string { return strings.TrimPrefix(e.err.Error(), prefix) }

func (e unprefixedError) Unwrap() error { return e.err }

// samePath returns err, whose text begins with an operation on path
// ("open /var/log/audit/A.audit.log: ..."), for use as the cause of an error
// that names path itself: its text without the operation and path, so that
// the path is said once. errors.Is and errors.As still find err and what it
// wraps. Any other err is returned as it is.
func samePath(err error, path string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	op, rest, ok := strings.Cut(msg, " ")
	if !ok || strings.ContainsAny(op, " :") {
		return err
	}
	if rest, ok = strings.CutPrefix(rest, path+": "); !ok {
		return err
	}
	return trimmedError{err, op + ": " + rest}
}

// trimmedError is err with another text.
type trimmedError struct {
	err  error
	text string
}

func (e trimmedError) Error() string { return e.text }

func (e trimmedError) Unwrap() error { return e.err }

// MaxRecordSize is the largest formatted record, newline included, that a
// [Logger] writes: 1 MiB.
const MaxRecordSize = 1 << 20
