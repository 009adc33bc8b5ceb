package ship

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
)

// tcpConn returns the TCP connection under conn, if there is one.
func tcpConn(conn net.Conn) *net.TCPConn {
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	tc, _ := conn.(*net.TCPConn)
	return tc
}

// quickAck asks Linux to acknowledge what arrives on conn at once instead
// of delaying the ACK. A RELP server writes each answer as a small
// segment, and Nagle's algorithm holds the next one back until the
// previous one is acknowledged; when the client has sent its last command
// and only waits, a delayed ACK (40 ms or more) stalls every answer behind
// it. The kernel leaves quick-ACK mode on its own, so this is called each
// time the client starts waiting.
func quickAck(conn net.Conn) {
	tc := tcpConn(conn)
	if tc == nil {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	raw.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}

// peek reports, without waiting or consuming anything, whether the other
// end closed conn (an end of stream), reset it (a connection error, as
// when a peer closes with data unread, or data reaches a closed socket),
// and whether bytes wait to be read on it. For a TLS connection it looks
// at the TCP connection under it, where a close_notify alert or a session
// ticket is pending data.
func peek(conn net.Conn) (closed, reset, pending bool) {
	tc := tcpConn(conn)
	if tc == nil {
		return false, false, false
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return false, false, false
	}
	raw.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == nil:
			closed, pending = n == 0, n > 0
		case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
		default:
			closed, reset = true, true
		}
	})
	return closed, reset, pending
}
