package ship

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// stream is the tcp:// and tls:// destination: octet-counted RFC 5424
// messages on one connection, with no acknowledgement. A message counts as
// delivered once its whole batch was written to the connection.
type stream struct {
	c     *config
	retry retry
	conn  net.Conn
	buf   []byte
	// resend holds the frames written on conn since it was last seen
	// open, resendN how many. When the receiver turns out to have closed
	// conn, they are written again first on the next connection: the
	// receiver may have closed it without reading them.
	resend  []byte
	resendN int
	// seenOpen is whether the last send found its connection open, which
	// ends a streak of failures.
	seenOpen bool
	cache    renderCache
	closed   bool
}

const (
	// flushSize is how many bytes of frames are written at a time.
	flushSize = 64 << 10
	// maxResend bounds the frames kept to be written again.
	maxResend = 4 << 20
)

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
			if s.seenOpen {
				s.retry.succeeded()
			}
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
//
// A connection the receiver closed since the last send may have taken
// frames with it: those written on it since it was last seen open
// (normally the last batch) counted as delivered but may never have been
// read. They are written again first on the next connection; the receiver
// drops the duplicates by id. A connection closed in order (a receiver
// restarting, an idle timeout) is otherwise no failure. A reset one is: a
// peer that closes with data unread, or a closed socket that data reaches,
// answers with a reset, as when a load balancer without a backend, or a
// receiver past its session limit, accepts a connection and closes it at
// once. It is reported once per streak, with a backoff.
func (s *stream) send(ctx context.Context, msgs []Message) (int, error) {
	s.seenOpen = false
	if s.conn != nil {
		closed, reset := s.peerClosed()
		switch {
		case reset:
			s.drop()
			return 0, fmt.Errorf("audit: %s: the receiver reset the connection; the %d records written on it since it was last seen open are sent again", s.c.name, s.resendN)
		case closed:
			s.drop()
		default:
			s.resend, s.resendN, s.seenOpen = s.resend[:0], 0, true
		}
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
	if len(s.resend) > 0 && !s.seenOpen {
		if err := s.write(dl, s.resend); err != nil {
			return 0, err
		}
	}
	buf := s.buf[:0]
	defer func() { s.buf = buf[:0] }()
	mark, markN := len(s.resend), s.resendN
	written := 0 // msgs in the frames written
	flush := func(upto int) error {
		if err := s.write(dl, buf); err != nil {
			// The whole batch is sent again: keep none of it.
			s.resend, s.resendN = s.resend[:mark], markN
			return err
		}
		s.keep(buf, upto-written)
		written = upto
		return nil
	}
	for i := range msgs {
		start := len(buf)
		var err error
		buf, err = appendFramed(buf, s.c.Format, &msgs[i], &s.cache)
		if err == nil {
			frame := buf[start:]
			if n := len(frame) - bytes.IndexByte(frame, ' ') - 1; n > s.c.MaxMessageSize {
				buf, err = buf[:start], s.c.errTooLong(&msgs[i], n)
			}
		}
		if err != nil {
			if werr := flush(i); werr != nil {
				return 0, werr
			}
			return i, err
		}
		if len(buf) >= flushSize {
			if err := flush(i + 1); err != nil {
				return 0, err
			}
			buf = buf[:0]
		}
	}
	if err := flush(len(msgs)); err != nil {
		return 0, err
	}
	return len(msgs), nil
}

// keep adds n frames written in b to those to write again should the
// receiver close the connection. Past maxResend the oldest go, and that is
// reported: they may be lost.
func (s *stream) keep(b []byte, n int) {
	if n == 0 {
		return
	}
	if len(s.resend)+len(b) > maxResend {
		if s.resendN > 0 && s.c.OnError != nil {
			s.c.OnError(fmt.Errorf("audit: %s: %d records written on connections the receiver closed are more than %d bytes and are not sent again: they may be lost", s.c.name, s.resendN, maxResend))
		}
		s.resend, s.resendN = s.resend[:0], 0
		if len(b) > maxResend {
			return
		}
	}
	s.resend = append(s.resend, b...)
	s.resendN += n
}

// peerClosed reports whether the receiver closed the connection, and
// whether it reset it rather than closing it in order. Over TLS, bytes
// waiting on it are read, with a short deadline: a TLS 1.3 server sends
// session tickets after the handshake, and a closing one a close_notify
// alert first, so that pending bytes do not tell a receiver that is still
// there from one that closed.
func (s *stream) peerClosed() (closed, reset bool) {
	closed, reset, pending := peek(s.conn)
	if closed || !pending {
		return closed, reset
	}
	tc, ok := s.conn.(*tls.Conn)
	if !ok {
		return false, false // a plain-text receiver said something: it is there
	}
	tc.SetReadDeadline(time.Now().Add(tlsPeekWait))
	defer tc.SetReadDeadline(time.Time{})
	var b [1]byte
	_, err := tc.Read(b[:])
	var ne net.Error
	switch {
	case err == nil || errors.As(err, &ne) && ne.Timeout():
		return false, false // tickets, or data: the receiver is there
	case errors.Is(err, io.EOF):
		return true, false // close_notify
	default:
		return true, true
	}
}

// tlsPeekWait is how long peerClosed waits for the rest of a TLS record
// whose first bytes have arrived.
const tlsPeekWait = 5 * time.Millisecond

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
