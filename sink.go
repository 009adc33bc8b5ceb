package audit

import (
	"fmt"
	"io"
)

// sink is where batches of formatted records go: a rotating file or a
// caller's io.Writer. Its methods are called by one goroutine at a time.
// Their errors are complete: "audit: ", the operation and the file, so
// that the Logger returns them as they are.
type sink interface {
	Write(p []byte) error
	Sync() error
	Rotate() (backup string, err error)
	Size() int64
	Path() string
	Close() error
}

var (
	_ sink = (*fileWriter)(nil)
	_ sink = streamSink{}
)

// streamSink writes to a caller's io.Writer (Config.Output): one Write per
// batch, Sync if the writer has one, and never a rotation.
type streamSink struct{ w io.Writer }

func (s streamSink) Write(p []byte) error {
	n, err := s.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("audit: write to Config.Output: %w", err)
	}
	return nil
}

func (s streamSink) Sync() error {
	if f, ok := s.w.(interface{ Sync() error }); ok {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("audit: sync Config.Output: %w", err)
		}
	}
	return nil
}

func (streamSink) Rotate() (string, error) { return "", nil }

func (streamSink) Size() int64 { return 0 }

func (streamSink) Path() string { return "" }

func (streamSink) Close() error { return nil }
