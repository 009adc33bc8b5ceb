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
// dst, without a second copy of the message.
func appendFramed(dst []byte, f Format, m *Message) ([]byte, error) {
	start := len(dst)
	// Reserve room for the longest length prefix we write (a record is
	// at most a few MiB), render, then move the message down behind the
	// real prefix.
	const room = 12
	dst = append(dst, make([]byte, room)...)
	dst, err := f.Append(dst, m)
	if err != nil {
		return dst[:start], err
	}
	n := len(dst) - start - room
	var p [room]byte
	prefix := strconv.AppendInt(p[:0], int64(n), 10)
	prefix = append(prefix, ' ')
	off := start + room - len(prefix)
	copy(dst[off:], prefix)
	copy(dst[start:], dst[off:])
	return dst[:start+len(prefix)+n], nil
}
