package audit

import "io"

// sink is where batches of formatted records go: a rotating file or a
// caller's io.Writer. Its methods are called by one goroutine at a time.
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
	return err
}

func (s streamSink) Sync() error {
	if f, ok := s.w.(interface{ Sync() error }); ok {
		return f.Sync()
	}
	return nil
}

func (streamSink) Rotate() (string, error) { return "", nil }

func (streamSink) Size() int64 { return 0 }

func (streamSink) Path() string { return "" }

func (streamSink) Close() error { return nil }
