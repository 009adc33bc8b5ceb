package ship

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"syscall"
	"time"
)

// relpDest is the relp:// destination: one RELP session to rsyslog's
// imrelp, with up to a window of "syslog" commands unanswered. A message
// counts as delivered when the server answered its command with 200.
type relpDest struct {
	c      *config
	retry  retry
	conn   net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
	txnr   int    // the last transaction number used on conn
	msg    []byte // scratch for one rendered message
	hdr    []byte // scratch for one frame header
	sent   []int  // transaction numbers of the commands sent in this call
	head   int    // sent[head] is the oldest unanswered one
	rbuf   []byte // scratch for the data of one answer
	cache  renderCache
	closed bool
}

func newRELP(c *config) *relpDest {
	return &relpDest{c: c, retry: newRetry(c)}
}

// errServerClose is returned when the server hinted "serverclose".
var errServerClose = errors.New("server closed the RELP session")

// ErrRefused is wrapped by the error of a message that the RELP server
// answered with a status other than 200. Ship retries it like a lost
// connection.
var ErrRefused = errors.New("refused by the server")

// Ship implements [Destination].
func (d *relpDest) Ship(ctx context.Context, msgs []Message) (int, error) {
	if d.closed {
		return 0, ErrClosed
	}
	done := 0
	for done < len(msgs) {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		n, err := d.send(ctx, msgs[done:])
		done += n
		if err == nil {
			d.retry.succeeded()
			continue
		}
		if n > 0 {
			// Progress: the streak starts again from this failure.
			d.retry.succeeded()
		}
		if errors.Is(err, ErrBadMessage) {
			return done, err
		}
		d.drop()
		if ctx.Err() != nil {
			return done, errors.Join(ctx.Err(), err)
		}
		if err := d.retry.failed(ctx, err); err != nil {
			return done, err
		}
	}
	return done, nil
}

// send sends msgs in a window of unanswered commands, connecting first
// when needed, and returns how many of them, from the first, the server
// answered with 200. Any error leaves the rest unacknowledged; the caller
// drops the connection and sends them again on a new one.
func (d *relpDest) send(ctx context.Context, msgs []Message) (int, error) {
	if d.conn == nil {
		if err := d.connect(ctx); err != nil {
			return 0, err
		}
	}
	dl := watch(ctx, d.conn)
	defer dl.done()
	d.sent, d.head = d.sent[:0], 0
	if d.rbuf == nil {
		d.rbuf = make([]byte, 512)
	}
	acked, next := 0, 0
	var stop error // a message that cannot be rendered, after the ones ahead
	for acked < len(msgs) {
		// The writer may flush on its own while it fills: bound that too.
		dl.set(time.Now().Add(d.c.WriteTimeout))
		for stop == nil && next < len(msgs) && next-acked < d.c.Window {
			var err error
			d.msg, err = d.c.Format.append(d.msg[:0], &msgs[next], &d.cache)
			if err == nil && len(d.msg) > d.c.MaxMessageSize {
				err = d.c.errTooLong(&msgs[next], len(d.msg))
			}
			if err != nil {
				stop = err
				break
			}
			d.txnr = nextTxnr(d.txnr)
			d.hdr = appendRELPHeader(d.hdr[:0], d.txnr, "syslog", len(d.msg))
			d.w.Write(d.hdr)
			d.w.Write(d.msg)
			d.w.WriteByte('\n')
			d.sent = append(d.sent, d.txnr)
			next++
		}
		if next == acked { // stopped at the bad message with nothing pending
			return acked, stop
		}
		if err := d.w.Flush(); err != nil {
			return acked, fmt.Errorf("audit: %s: write: %w", d.c.name, err)
		}
		// Wait for an answer when the window is full or nothing is left to
		// send; take whatever other answers have arrived meanwhile.
		for acked < next {
			wait := next-acked >= d.c.Window || next == len(msgs) || stop != nil
			if !wait && d.r.Buffered() == 0 {
				break
			}
			if d.r.Buffered() == 0 {
				quickAck(d.conn)
			}
			if err := d.answer(dl, &msgs[acked]); err != nil {
				return acked, err
			}
			d.head++
			acked++
		}
	}
	return acked, nil
}

// answer reads the server's answer to the oldest unanswered command, the
// one that carried m.
func (d *relpDest) answer(dl *deadline, m *Message) error {
	want := d.sent[d.head]
	for {
		dl.set(time.Now().Add(d.c.WriteTimeout))
		f, err := readRELPFrame(d.r, relpMaxData, d.rbuf)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("audit: %s: the server closed the connection before answering record %d: %w", d.c.name, m.Seq, err)
		}
		if err != nil {
			return fmt.Errorf("audit: %s: waiting for the answer to record %d: %w", d.c.name, m.Seq, err)
		}
		if f.txnr == 0 {
			if f.cmd == "serverclose" {
				return fmt.Errorf("audit: %s: %w", d.c.name, errServerClose)
			}
			continue // another hint: nothing to do with it
		}
		if f.cmd != "rsp" {
			return fmt.Errorf("audit: %s: server sent command %q: %w", d.c.name, f.cmd, errRELPFrame)
		}
		if f.txnr != want {
			return fmt.Errorf("audit: %s: answer for transaction %d where %d was due: %w", d.c.name, f.txnr, want, errRELPFrame)
		}
		rsp, err := parseRELPResponse(f.data)
		if err != nil {
			return fmt.Errorf("audit: %s: %w", d.c.name, err)
		}
		if rsp.code != 200 {
			return fmt.Errorf("audit: %s: record %d: %d %s: %w", d.c.name, m.Seq, rsp.code, rsp.human, ErrRefused)
		}
		return nil
	}
}

// connect dials and opens a RELP session: "open" with our offers, and a
// 200 answer that offers the syslog command.
func (d *relpDest) connect(ctx context.Context) error {
	conn, err := d.c.dial(ctx)
	if err != nil {
		return err
	}
	d.conn = conn
	d.r = bufio.NewReaderSize(conn, 16<<10)
	d.w = bufio.NewWriterSize(conn, flushSize)
	d.txnr = 1
	fail := func(err error) error {
		d.drop()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
			errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
			hint := ""
			if d.c.tls != nil && len(d.c.tls.Certificates) == 0 {
				hint = " (does it want a client certificate?)"
			}
			return fmt.Errorf("audit: %s: open: the server closed the connection instead of answering%s: %w", d.c.name, hint, err)
		}
		return fmt.Errorf("audit: %s: open: %w", d.c.name, err)
	}
	dl := watch(ctx, conn)
	defer dl.done()
	dl.set(time.Now().Add(d.c.DialTimeout))
	d.w.Write(appendRELPFrame(d.hdr[:0], d.txnr, "open", []byte(relpOffers)))
	if err := d.w.Flush(); err != nil {
		return fail(err)
	}
	f, err := readRELPFrame(d.r, relpMaxData, nil)
	if err != nil {
		return fail(err)
	}
	if f.cmd != "rsp" || f.txnr != d.txnr {
		return fail(fmt.Errorf("answer %d %s: %w", f.txnr, f.cmd, errRELPFrame))
	}
	rsp, err := parseRELPResponse(f.data)
	if err != nil {
		return fail(err)
	}
	if rsp.code != 200 {
		return fail(fmt.Errorf("%d %s: %w", rsp.code, rsp.human, ErrRefused))
	}
	if _, ok := relpOffer(rsp.data, "relp_version"); !ok {
		return fail(errors.New("the server's answer has no relp_version offer"))
	}
	if cmds, _ := relpOffer(rsp.data, "commands"); !slices.Contains(cmds, "syslog") {
		return fail(errors.New("the server does not offer the syslog command"))
	}
	return nil
}

func (d *relpDest) drop() {
	if d.conn != nil {
		d.conn.Close()
		d.conn, d.r, d.w = nil, nil, nil
	}
}

// Close implements [Destination]: it sends "close", waits briefly for the
// answer and closes the connection.
func (d *relpDest) Close() error {
	d.closed = true
	if d.conn == nil {
		return nil
	}
	d.conn.SetDeadline(time.Now().Add(d.c.DialTimeout))
	d.txnr = nextTxnr(d.txnr)
	d.w.Write(appendRELPFrame(d.hdr[:0], d.txnr, "close", nil))
	err := d.w.Flush()
	if err == nil {
		for {
			var f relpFrame
			if f, err = readRELPFrame(d.r, relpMaxData, nil); err != nil || f.txnr == d.txnr {
				break
			}
		}
	}
	cerr := d.conn.Close()
	d.conn, d.r, d.w = nil, nil, nil
	if err != nil {
		return fmt.Errorf("audit: %s: close: %w", d.c.name, err)
	}
	if cerr != nil {
		return fmt.Errorf("audit: %s: close: %w", d.c.name, cerr)
	}
	return nil
}
