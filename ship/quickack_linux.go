package ship

import (
	"net"
	"syscall"
)

// quickAck asks Linux to acknowledge what arrives on conn at once instead
// of delaying the ACK. A RELP server writes each answer as a small
// segment, and Nagle's algorithm holds the next one back until the
// previous one is acknowledged; when the client has sent its last command
// and only waits, a delayed ACK (40 ms or more) stalls every answer behind
// it. The kernel leaves quick-ACK mode on its own, so this is called each
// time the client starts waiting.
func quickAck(conn net.Conn) {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
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
