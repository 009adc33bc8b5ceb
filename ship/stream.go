package ship

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// stream is the tcp:// and tls:// destination: octet-counted RFC 5424
// messages on one connection, with no acknowledgement. A message counts as
// delivered once its whole batch was written to the connection.
type stream struct {
	c      *config
	retry  retry
	conn   net.Conn
	buf    []byte
	cache  renderCache
	closed bool
}

// flushSize is how many bytes of frames are written at a time.
const flushSize = 64 << 10

func newStream(c *config) *stream {
	return &stream{c: c, retry: newRetry(c)}
}

// Ship implements [Destination].
func (s *stream) Ship(ctx context.Context, msgs []Message) (int, error) {
	if s.closed {
		return 0, ErrClosed
	}
	done := 0
	for done < len(msgs) {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		n, err := s.send(ctx, msgs[done:])
		done += n
		if err == nil {
			s.retry.succeeded()
			continue
		}
		if errors.Is(err, ErrBadMessage) {
			return done, err
		}
		s.drop()
		if ctx.Err() != nil {
			return done, errors.Join(ctx.Err(), err)
		}
		if err := s.retry.failed(ctx, err); err != nil {
			return done, err
		}
	}
	return done, nil
}

// send writes msgs on the connection, connecting first when needed. On a
// write error it reports none of msgs as delivered: bytes the kernel took
// before the error may be lost with the connection, so the whole batch is
// sent again. A message that cannot be rendered ends the batch before it,
// after the messages ahead of it were written.
func (s *stream) send(ctx context.Context, msgs []Message) (int, error) {
	if s.conn != nil && peerClosed(s.conn) {
		// The receiver closed the connection since the last batch. Writing
		// to it would succeed once and count as delivered while the bytes
		// are lost, so connect again first.
		s.drop()
	}
	if s.conn == nil {
		conn, err := s.c.dial(ctx)
		if err != nil {
			return 0, err
		}
		s.conn = conn
	}
	dl := watch(ctx, s.conn)
	defer dl.done()
	buf := s.buf[:0]
	defer func() { s.buf = buf[:0] }()
	for i := range msgs {
		var err error
		buf, err = appendFramed(buf, s.c.Format, &msgs[i], &s.cache)
		if err != nil {
			if werr := s.write(dl, buf); werr != nil {
				return 0, werr
			}
			return i, err
		}
		if len(buf) >= flushSize {
			if err := s.write(dl, buf); err != nil {
				return 0, err
			}
			buf = buf[:0]
		}
	}
	if err := s.write(dl, buf); err != nil {
		return 0, err
	}
	return len(msgs), nil
}

func (s *stream) write(dl *deadline, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	dl.set(time.Now().Add(s.c.WriteTimeout))
	if _, err := s.conn.Write(b); err != nil {
		return fmt.Errorf("audit: %s: write: %w", s.c.name, err)
	}
	return nil
}

func (s *stream) drop() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

// Close implements [Destination].
func (s *stream) Close() error {
	s.closed = true
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	if err != nil {
		return fmt.Errorf("audit: %s: close: %w", s.c.name, err)
	}
	return nil
}
