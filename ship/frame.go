package ship

import "strconv"

// appendFrame appends msg to dst with RFC 6587 octet-counting framing, as
// RFC 5425 uses it over TLS and rsyslog's imtcp accepts it over TCP:
// MSG-LEN SP SYSLOG-MSG, where MSG-LEN is the length of msg in decimal
// without leading zeros. Unlike newline framing, the frame carries any
// bytes, newlines included.
func appendFrame(dst, msg []byte) []byte {
	dst = strconv.AppendInt(dst, int64(len(msg)), 10)
	dst = append(dst, ' ')
	return append(dst, msg...)
}

// appendFramed renders m with f straight into an octet-counted frame in
// dst, without a second copy of the message. c, when not nil, is the
// destination's [renderCache].
func appendFramed(dst []byte, f Format, m *Message, c *renderCache) ([]byte, error) {
	start := len(dst)
	// Reserve room for the length prefix the message will most likely
	// need (its line plus a header of the usual size), render, and move
	// the message only when the prefix turns out longer or shorter.
	guess := len(m.Line) + 2*len(m.Host) + 2*len(m.Module) + len(m.File) + len(f.SDID) + 120
	room := 2 // digits and the space
	for v := guess; v >= 10; v /= 10 {
		room++
	}
	dst = append(dst, make([]byte, room)...)
	dst, err := f.append(dst, m, c)
	if err != nil {
		return dst[:start], err
	}
	n := len(dst) - start - room
	var p [24]byte
	prefix := strconv.AppendInt(p[:0], int64(n), 10)
	prefix = append(prefix, ' ')
	if len(prefix) != room {
		dst = append(dst[:start+len(prefix)], dst[start+room:]...)
	}
	copy(dst[start:], prefix)
	return dst, nil
}
