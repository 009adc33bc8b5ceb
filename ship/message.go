package ship

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/auditkit/audit"
)

// Message is one audit record on its way to a destination: the record line
// exactly as written in its audit file, and the fields that identify it and
// go into the syslog header and structured data.
//
// A receiver can drop duplicates by (Host, Module, File, Seq): the shipper
// delivers at least once, so after an outage or a restart some records may
// arrive twice.
type Message struct {
	// Host names the machine that wrote the record. It goes into the
	// HOSTNAME field, so it must be printable US-ASCII without spaces, at
	// most 255 bytes; empty is sent as "-".
	Host string
	// Module names the server module that wrote the record; it is the
	// APP-NAME, so printable US-ASCII without spaces, at most 48 bytes.
	Module string
	// File identifies the audit file that holds the record. The [Shipper]
	// sends the file's fingerprint ([audit.Fingerprint] of its first
	// line), which stays the same when the file is rotated or compressed.
	// Valid UTF-8.
	File string
	// Seq is the record's sequence number in its file.
	Seq uint64
	// Type is the record's event type, sent as the MSGID ("-" when it is
	// not a valid type).
	Type audit.EventType
	// Outcome is the record's outcome; it sets the syslog severity.
	Outcome audit.Outcome
	// Time is the record's time, sent as the TIMESTAMP in UTC with
	// microseconds ("-" when it is the zero time or outside years 0-9999).
	Time time.Time
	// Line is the record exactly as written in the file, without its
	// final newline. It is sent as the MSG, byte for byte.
	Line []byte
}

// Facility is a syslog facility code. Audit records go under one of the
// three facilities meant for them.
type Facility uint8

// The syslog facilities for audit records (RFC 5424, section 6.2.1).
const (
	// FacilityAuth is security/authorization messages (4).
	FacilityAuth Facility = 4
	// FacilityAuthPriv is security/authorization messages (private) (10).
	FacilityAuthPriv Facility = 10
	// FacilityLogAudit is log audit (13), the default.
	FacilityLogAudit Facility = 13
)

// Severities chosen for the outcomes: a successful audited action is a
// notice (5), a failed or refused one a warning (4).
const (
	severitySucceeded = 5
	severityFailed    = 4
)

// DefaultSDID is the SD-ID of the structured-data element when
// [Format.SDID] is empty. RFC 5424 (section 7.2.2) requires a private
// SD-ID to end in "@" and the private enterprise number (PEN) of its
// owner; 32473 is the number IANA reserves for documentation and examples
// (RFC 5612). The project has no enterprise number of its own, so
// deployments that register one should set [Format.SDID], and receivers
// should match the SD-ID they configured rather than assume this one.
const DefaultSDID = "audit@32473"

// ErrBadMessage is wrapped by the error of a [Message] that cannot be
// rendered as RFC 5424: a header field with bytes or a length that the
// header does not allow, or a structured-data value that is not valid UTF-8.
var ErrBadMessage = errors.New("message cannot be sent as syslog")

// Format says how a [Message] is rendered as an RFC 5424 syslog message.
// The zero Format uses [FacilityLogAudit] and [DefaultSDID].
type Format struct {
	// Facility is the syslog facility: [FacilityAuth], [FacilityAuthPriv]
	// or [FacilityLogAudit]. Zero means FacilityLogAudit.
	Facility Facility `json:"facility"`
	// SDID is the SD-ID of the structured-data element that carries host,
	// module, file, seq and outcome, of the form name@PEN. Empty means
	// [DefaultSDID].
	SDID string `json:"sdid"`
}

// Validate reports whether f can be used: a facility for audit records
// and an SD-ID of the form name@number (RFC 5424, sections 6.3.2 and
// 7.2.2).
func (f Format) Validate() error {
	switch f.Facility {
	case 0, FacilityAuth, FacilityAuthPriv, FacilityLogAudit:
	default:
		return fmt.Errorf("audit: syslog facility %d: want 4, 10 or 13", f.Facility)
	}
	if f.SDID == "" {
		return nil
	}
	if err := checkSDID(f.SDID); err != nil {
		return fmt.Errorf("audit: syslog SD-ID %q: %w", f.SDID, err)
	}
	return nil
}

// checkSDID checks a private SD-ID: an SD-NAME (1 to 32 printable US-ASCII
// bytes but '=', ' ', ']' and '"') holding one '@' followed by a private
// enterprise number, digits with optional dotted sub-identifiers.
func checkSDID(id string) error {
	if len(id) > 32 {
		return errors.New("longer than 32 bytes")
	}
	at := -1
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c < 33 || c > 126 || c == '=' || c == ']' || c == '"' {
			return fmt.Errorf("byte %q not allowed", c)
		}
		if c == '@' {
			if at >= 0 {
				return errors.New("more than one '@'")
			}
			at = i
		}
	}
	if at <= 0 {
		return errors.New("want name@enterprise-number")
	}
	pen := id[at+1:]
	if pen == "" || pen[0] == '.' || pen[len(pen)-1] == '.' {
		return errors.New("bad enterprise number")
	}
	for i := 0; i < len(pen); i++ {
		if (pen[i] < '0' || pen[i] > '9') && !(pen[i] == '.' && pen[i-1] != '.') {
			return errors.New("bad enterprise number")
		}
	}
	return nil
}

// Append appends m to dst as one RFC 5424 message, without framing:
//
//	<PRI>1 TIMESTAMP HOSTNAME MODULE - EVENT_TYPE [SDID host=".." module=".." file=".." seq=".." outcome=".."] LINE
//
// MSG is m.Line byte for byte: any octets, with no byte-order mark, since
// the line is whatever the audit file holds (RFC 5424 MSG-ANY). It may hold
// newlines; the framing, not the content, delimits messages. On error dst
// is returned unchanged with an error wrapping [ErrBadMessage]. f must be
// valid (see [Format.Validate]).
func (f Format) Append(dst []byte, m *Message) ([]byte, error) {
	return f.append(dst, m, nil)
}

// renderCache keeps what a destination's last messages had in common
// with the next ones, rendered: the host, module and file, checked and
// escaped (a shipper's messages all have the same host and module, and
// all of a file's the same file), and the second of the last timestamp
// (records come many to a second).
type renderCache struct {
	host, module, file string
	ok                 bool
	names              []byte // HOSTNAME SP APP-NAME
	params             []byte // the host, module and file parameters

	sec     int64 // Unix time of stamp
	stamp   [len("2006-01-02T15:04:05.")]byte
	stampOK bool
}

// appendTimestamp is [appendTimestamp], with the date and time of day
// copied from the cache for a time in the second of the last one.
func (c *renderCache) appendTimestamp(dst []byte, t time.Time) []byte {
	if c == nil || t.IsZero() {
		return appendTimestamp(dst, t)
	}
	sec := t.Unix()
	if c.stampOK && sec == c.sec {
		us := t.Nanosecond() / 1000
		var b [7]byte
		put2(b[0:], us/10000)
		put2(b[2:], us/100%100)
		put2(b[4:], us%100)
		b[6] = 'Z'
		dst = append(dst, c.stamp[:]...)
		return append(dst, b[:]...)
	}
	n := len(dst)
	dst = appendTimestamp(dst, t)
	if len(dst)-n == len("2006-01-02T15:04:05.000000Z") {
		copy(c.stamp[:], dst[n:])
		c.sec, c.stampOK = sec, true
	}
	return dst
}

// append is Append, with c (when not nil) standing for the checks and
// escaping of the host, module and file it holds.
func (f Format) append(dst []byte, m *Message, c *renderCache) ([]byte, error) {
	start := len(dst)
	fac := f.Facility
	if fac == 0 {
		fac = FacilityLogAudit
	}
	sev := severitySucceeded
	if m.Outcome != audit.Succeeded {
		sev = severityFailed
	}
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(fac)*8+int64(sev), 10)
	dst = append(dst, ">1 "...)
	dst = c.appendTimestamp(dst, m.Time)
	dst = append(dst, ' ')
	cached := c != nil && c.ok && c.host == m.Host && c.module == m.Module && c.file == m.File
	names := len(dst)
	if cached {
		dst = append(dst, c.names...)
	} else {
		var err error
		if dst, err = appendHeaderField(dst, "host", m.Host, 255); err != nil {
			return dst[:start], err
		}
		dst = append(dst, ' ')
		if dst, err = appendHeaderField(dst, "module", m.Module, 48); err != nil {
			return dst[:start], err
		}
	}
	namesEnd := len(dst)
	dst = append(dst, " - "...)
	if m.Type.Valid() {
		dst = append(dst, m.Type.String()...)
	} else {
		dst = append(dst, '-')
	}
	dst = append(dst, " ["...)
	if f.SDID == "" {
		dst = append(dst, DefaultSDID...)
	} else {
		dst = append(dst, f.SDID...)
	}
	params := len(dst)
	if cached {
		dst = append(dst, c.params...)
	} else {
		for _, p := range [...]struct{ name, value string }{
			{"host", m.Host}, {"module", m.Module}, {"file", m.File},
		} {
			if !utf8.ValidString(p.value) {
				return dst[:start], fmt.Errorf("audit: record %d: %s %q is not valid UTF-8: %w", m.Seq, p.name, p.value, ErrBadMessage)
			}
			dst = append(dst, ' ')
			dst = append(dst, p.name...)
			dst = append(dst, `="`...)
			dst = appendParamValue(dst, p.value)
			dst = append(dst, '"')
		}
		if c != nil {
			c.host, c.module, c.file, c.ok = m.Host, m.Module, m.File, true
			c.names = append(c.names[:0], dst[names:namesEnd]...)
			c.params = append(c.params[:0], dst[params:]...)
		}
	}
	dst = append(dst, ` seq="`...)
	dst = strconv.AppendUint(dst, m.Seq, 10)
	dst = append(dst, `" outcome="`...)
	dst = append(dst, outcomeName(m.Outcome)...)
	dst = append(dst, `"] `...)
	return append(dst, m.Line...), nil
}

func outcomeName(o audit.Outcome) string {
	if o == audit.Succeeded {
		return "SUCCESS"
	}
	return "FAILURE"
}

// appendTimestamp appends t as an RFC 5424 TIMESTAMP: UTC, six fractional
// digits (the most the format allows), or "-" when t cannot be written.
func appendTimestamp(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, '-')
	}
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return append(dst, '-')
	}
	// The layout 2006-01-02T15:04:05.000000Z, written digit by digit:
	// a third of the cost of time.Time.AppendFormat, once per record.
	h, mi, s := t.Clock()
	us := t.Nanosecond() / 1000
	var b [27]byte
	put2(b[0:], y/100)
	put2(b[2:], y%100)
	b[4] = '-'
	put2(b[5:], int(mo))
	b[7] = '-'
	put2(b[8:], d)
	b[10] = 'T'
	put2(b[11:], h)
	b[13] = ':'
	put2(b[14:], mi)
	b[16] = ':'
	put2(b[17:], s)
	b[19] = '.'
	put2(b[20:], us/10000)
	put2(b[22:], us/100%100)
	put2(b[24:], us%100)
	b[26] = 'Z'
	return append(dst, b[:]...)
}

// put2 writes the two decimal digits of 0 <= v < 100 at b[0:2].
func put2(b []byte, v int) {
	b[0], b[1] = byte('0'+v/10), byte('0'+v%10)
}

// appendHeaderField appends a HOSTNAME or APP-NAME: "-" when empty, else
// 1 to max printable US-ASCII bytes.
func appendHeaderField(dst []byte, name, v string, max int) ([]byte, error) {
	if v == "" {
		return append(dst, '-'), nil
	}
	if len(v) > max {
		return dst, fmt.Errorf("audit: %s %.20q...: longer than %d bytes: %w", name, v, max, ErrBadMessage)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 33 || v[i] > 126 {
			return dst, fmt.Errorf("audit: %s %q: byte %q is not printable US-ASCII: %w", name, v, v[i], ErrBadMessage)
		}
	}
	if v == "-" {
		// A lone "-" is the NILVALUE; it reads back as empty.
		return dst, fmt.Errorf("audit: %s %q: reads as no value: %w", name, v, ErrBadMessage)
	}
	return append(dst, v...), nil
}

// appendParamValue appends v as a PARAM-VALUE, escaping '"', '\' and ']'
// with a backslash (RFC 5424, section 6.3.3).
func appendParamValue(dst []byte, v string) []byte {
	start := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '"', '\\', ']':
			dst = append(dst, v[start:i]...)
			dst = append(dst, '\\', c)
			start = i + 1
		}
	}
	return append(dst, v[start:]...)
}
