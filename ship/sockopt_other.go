//go:build !linux

package ship

import "net"

// quickAck does nothing outside Linux, which alone has TCP_QUICKACK.
func quickAck(net.Conn) {}

// peek reports nothing outside Linux: a closed connection is found
// when a write to it fails.
func peek(net.Conn) (closed, reset, pending bool) { return false, false, false }
