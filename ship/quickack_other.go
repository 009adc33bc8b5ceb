//go:build !linux

package ship

import "net"

// quickAck does nothing outside Linux, which alone has TCP_QUICKACK.
func quickAck(net.Conn) {}
