//go:build !linux

package ship

import "net"

// quickAck does nothing outside Linux, which alone has TCP_QUICKACK.
func quickAck(net.Conn) {}

// peerClosed reports false outside Linux: a closed connection is found
// when a write to it fails.
func peerClosed(net.Conn) bool { return false }
