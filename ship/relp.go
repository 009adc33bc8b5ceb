package ship

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// RELP, the Reliable Event Logging Protocol of rsyslog's imrelp, as its
// specification (librelp's doc/relp.md) describes it. Every frame is
//
//	TXNR SP COMMAND SP DATALEN [SP DATA] LF
//
// where TXNR is the transaction number (1 to 999,999,999, then 1 again; 0
// is for hints), COMMAND one to 32 letters and DATALEN the length of DATA
// in decimal. The client sends "open" with its offers, then one "syslog"
// command per message, and "close" at the end; the server answers each
// command with an "rsp" frame of the same TXNR, in order, whose data is a
// status code ("200 OK", anything else is an error), and may hint
// "serverclose" with TXNR 0 before it closes the connection. The client
// keeps up to a window of commands unanswered.

const (
	// relpMaxTxnr is the largest transaction number; the next is 1.
	relpMaxTxnr = 999_999_999
	// relpMaxData is the largest response data we accept. Responses are a
	// status and, for "open", a few offers; 128 KiB is the limit the
	// specification gives for version 1 frames.
	relpMaxData = 128 << 10
	// relpOffers is the data of our "open" command: protocol version 0,
	// which librelp speaks, and the one optional command we use.
	relpOffers = "relp_version=0\nrelp_software=auditkit-audit\ncommands=syslog"
)

// errRELPFrame is wrapped by the errors of a frame that breaks the syntax.
var errRELPFrame = errors.New("malformed RELP frame")

// nextTxnr returns the transaction number after t.
func nextTxnr(t int) int {
	if t >= relpMaxTxnr {
		return 1
	}
	return t + 1
}

// appendRELPHeader appends "TXNR SP COMMAND SP DATALEN" and, when
// datalen > 0, the SP before the data. The caller appends the data and
// the trailing LF.
func appendRELPHeader(dst []byte, txnr int, cmd string, datalen int) []byte {
	dst = strconv.AppendInt(dst, int64(txnr), 10)
	dst = append(dst, ' ')
	dst = append(dst, cmd...)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(datalen), 10)
	if datalen > 0 {
		dst = append(dst, ' ')
	}
	return dst
}

// appendRELPFrame appends a whole frame.
func appendRELPFrame(dst []byte, txnr int, cmd string, data []byte) []byte {
	dst = appendRELPHeader(dst, txnr, cmd, len(data))
	dst = append(dst, data...)
	return append(dst, '\n')
}

// relpFrame is a decoded frame. data aliases the reader's buffer or a
// fresh slice; it is valid until the next read.
type relpFrame struct {
	txnr int
	cmd  string
	data []byte
}

// readRELPFrame reads one frame from r, its data into buf when buf is
// large enough. Data longer than max is an error: the peer is not to be
// trusted with our memory.
func readRELPFrame(r *bufio.Reader, max int, buf []byte) (relpFrame, error) {
	var f relpFrame
	txnr, err := readRELPNumber(r, "TXNR", ' ')
	if err != nil {
		return f, err
	}
	f.txnr = txnr
	var cmd [32]byte
	n := 0
	for {
		c, err := r.ReadByte()
		if err != nil {
			return f, unexpectedEOF(err)
		}
		if c == ' ' {
			break
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') || n == len(cmd) {
			return f, fmt.Errorf("audit: RELP command: byte %q: %w", c, errRELPFrame)
		}
		cmd[n] = c
		n++
	}
	if n == 0 {
		return f, fmt.Errorf("audit: RELP command: empty: %w", errRELPFrame)
	}
	switch string(cmd[:n]) { // the usual commands without an allocation
	case "rsp":
		f.cmd = "rsp"
	case "serverclose":
		f.cmd = "serverclose"
	default:
		f.cmd = string(cmd[:n])
	}
	datalen, err := readRELPNumber(r, "DATALEN", 0)
	if err != nil {
		return f, err
	}
	if datalen > max {
		return f, fmt.Errorf("audit: RELP %s frame of %d bytes: more than %d: %w", f.cmd, datalen, max, errRELPFrame)
	}
	sep, err := r.ReadByte()
	if err != nil {
		return f, unexpectedEOF(err)
	}
	if datalen > 0 {
		if sep != ' ' {
			return f, fmt.Errorf("audit: RELP %s frame: byte %q after DATALEN: %w", f.cmd, sep, errRELPFrame)
		}
		if cap(buf) >= datalen {
			f.data = buf[:datalen]
		} else {
			f.data = make([]byte, datalen)
		}
		if _, err := io.ReadFull(r, f.data); err != nil {
			return f, unexpectedEOF(err)
		}
		if sep, err = r.ReadByte(); err != nil {
			return f, unexpectedEOF(err)
		}
	}
	if sep != '\n' {
		return f, fmt.Errorf("audit: RELP %s frame: byte %q where the trailer LF belongs: %w", f.cmd, sep, errRELPFrame)
	}
	return f, nil
}

// readRELPNumber reads 1 to 9 digits ended by end (or, when end is 0, by
// the byte after the digits, which is left unread).
func readRELPNumber(r *bufio.Reader, what string, end byte) (int, error) {
	v, n := 0, 0
	for {
		c, err := r.ReadByte()
		if err != nil {
			if n == 0 && err == io.EOF {
				return 0, io.EOF
			}
			return 0, unexpectedEOF(err)
		}
		if c < '0' || c > '9' {
			if n == 0 {
				return 0, fmt.Errorf("audit: RELP %s: byte %q: %w", what, c, errRELPFrame)
			}
			if end == 0 {
				return v, r.UnreadByte()
			}
			if c != end {
				return 0, fmt.Errorf("audit: RELP %s: byte %q after the digits: %w", what, c, errRELPFrame)
			}
			return v, nil
		}
		if n == 9 {
			return 0, fmt.Errorf("audit: RELP %s: more than 9 digits: %w", what, errRELPFrame)
		}
		v = v*10 + int(c-'0')
		n++
	}
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// relpResponse is the data of an "rsp" frame: RSP-CODE [SP HUMANMSG]
// [LF CMDDATA].
type relpResponse struct {
	code  int
	human []byte // aliases the frame's data
	data  []byte
}

// parseRELPResponse parses the data of an "rsp" frame.
func parseRELPResponse(data []byte) (relpResponse, error) {
	var rsp relpResponse
	if len(data) < 3 {
		return rsp, fmt.Errorf("audit: RELP response %q: no status code: %w", data, errRELPFrame)
	}
	for _, c := range data[:3] {
		if c < '0' || c > '9' {
			return rsp, fmt.Errorf("audit: RELP response %q: no status code: %w", data, errRELPFrame)
		}
		rsp.code = rsp.code*10 + int(c-'0')
	}
	rest := data[3:]
	if len(rest) > 0 && rest[0] != ' ' && rest[0] != '\n' {
		return rsp, fmt.Errorf("audit: RELP response %q: byte %q after the status code: %w", data, rest[0], errRELPFrame)
	}
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i:]
		} else {
			rest = nil
		}
		rsp.human = line
	}
	if len(rest) > 0 { // rest[0] == '\n'
		rsp.data = rest[1:]
	}
	return rsp, nil
}

// relpOffer returns the values of the offer named name in the data of an
// "open" response (lines "name=value,value"), and whether it is there.
func relpOffer(data []byte, name string) ([]string, bool) {
	for line := range bytes.SplitSeq(data, []byte{'\n'}) {
		k, v, _ := bytes.Cut(line, []byte{'='})
		if string(k) != name {
			continue
		}
		var vals []string
		for x := range bytes.SplitSeq(v, []byte{','}) {
			if len(x) > 0 {
				vals = append(vals, string(x))
			}
		}
		return vals, true
	}
	return nil, false
}
