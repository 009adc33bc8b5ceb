package audit

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The product that the CEF and OCSF formatters registered as [FormatCEF]
// and [FormatOCSF] name as the source of every record: the CEF Device
// Vendor, Device Product and Device Version, and OCSF's metadata.product.
// [NewCEFFormatter] and [NewOCSFFormatter] make formatters that name
// another product, such as the server that uses this library.
const (
	// DefaultVendor is the vendor of the product.
	DefaultVendor = "auditkit"
	// DefaultProduct is the name of the product.
	DefaultProduct = "audit"
	// DefaultVersion is the version of the product: the version of the
	// library's mapping of records to CEF and OCSF, which changes only when
	// the mapping does.
	DefaultVersion = "1"
)

// CEFFormatter renders ArcSight's Common Event Format (CEF), read by
// ArcSight, QRadar, Microsoft Sentinel and most SIEMs: one line per record,
//
//	CEF:0|Vendor|Product|Version|Signature ID|Name|Severity|Extension
//
// for example
//
//	CEF:0|auditkit|audit|1|LOGON|Logon failed|7|rt=1795598080123 externalId=3 deviceFacility=AgentServer outcome=failure suser=alice src=10.1.2.3 spt=5060 reason=bad password cs4Label=session cs4=S-77 flexString1Label=time flexString1=2026-11-25T09:14:40.123456Z ad.attempt=2
//
// The Signature ID is the event type ([EventType.String]), the Name says
// what happened in words, and the Severity (0 to 10) follows from the type
// and the outcome: failed logons, access changes, changes to the audit
// configuration and the library's records of a damaged or replaced file
// rank highest. By type, on success and on failure: LOGON 3 and 7, LOGOFF 1
// and 3, SESSION_START 3 and 6, CHANNEL_OPEN 2 and 4, CHANNEL_CLOSE 1 and 3,
// CHANNEL_REJECT 5, SERVER_START 3 and 6, SERVER_STOP 4 and 6, USER_CHANGE
// 5 and 6, ACCESS_CHANGE 7 and 8, NO_CONSENT_OVERRIDE 7 and 5, DATA_READ 3
// and 5, SYSTEM_CONFIG_CHANGE 5 and 6, AUDIT_CONFIG_CHANGE 7 and 8,
// FILE_START and CHECKPOINT 1 and 3, TORN_RECORD 8, RETENTION_PRUNE 3 and
// 5, FILE_REPLACED 9. In the header, '\' and '|' are escaped with a
// backslash.
//
// The extension holds, in this order and only when not empty: rt (the time
// in milliseconds since the Unix epoch), externalId (seq), deviceFacility
// (the module), outcome (success or failure), suser (actor), duser
// (subject), src and spt (client, when it is an IP address or an IP address
// and port in their canonical forms), reason, then the custom strings with
// their labels: cs1 object, cs2 old, cs3 new, cs4 session, cs5 client (when
// it is not an IP address), cs6 mac, flexString1 time (the exact time, RFC
// 3339 in UTC with microseconds, since rt has only milliseconds), then each
// extra field as ad.KEY (in the style of ArcSight's additional data), even
// empty, in order.
//
// Values are escaped as CEF requires, '\' as \\, '=' as \=, newline as \n
// and carriage return as \r; beyond CEF, so that no record can hide a
// control or a bidirectional override, a tab is written \t, a byte of
// invalid UTF-8 \xHH and any other rune that is not printable
// ([unicode.IsPrint]) \uHHHH or \UHHHHHHHH, as in BCM; and so that a reader
// that trims values (as CEF readers and syslog relays commonly do) cannot
// show "root " as "root", a space that starts or ends a value is written
// \u0020. [ParseCEF] reads the records back.
//
// A CEFFormatter is safe for concurrent use.
type CEFFormatter struct {
	header string // "CEF:0|vendor|product|version|", escaped
}

var defaultCEF = mustCEF(DefaultVendor, DefaultProduct, DefaultVersion)

func mustCEF(vendor, product, version string) *CEFFormatter {
	f, err := NewCEFFormatter(vendor, product, version)
	if err != nil {
		panic(err)
	}
	return f
}

// NewCEFFormatter returns a CEF formatter that writes vendor, product and
// version as the Device Vendor, Device Product and Device Version of every
// record. Register it under a name of your own with [RegisterFormatter];
// [FormatCEF] uses [DefaultVendor], [DefaultProduct] and
// [DefaultVersion]. Each field must be 1 to 63 bytes of printable UTF-8
// ([unicode.IsPrint], space allowed).
func NewCEFFormatter(vendor, product, version string) (*CEFFormatter, error) {
	b := []byte("CEF:0|")
	for _, f := range [...]struct{ name, v string }{{"vendor", vendor}, {"product", product}, {"version", version}} {
		if !validProductField(f.v) {
			return nil, fmt.Errorf("audit: cef %s %q: %w: want 1 to 63 bytes of printable UTF-8", f.name, f.v, ErrBadConfig)
		}
		b = appendCEFHeader(b, f.v)
		b = append(b, '|')
	}
	return &CEFFormatter{header: string(b)}, nil
}

// validProductField reports whether s may be the vendor, name or version of
// the product in a CEF or OCSF record.
func validProductField(s string) bool {
	return s != "" && len(s) <= 63 && utf8.ValidString(s) &&
		!strings.ContainsFunc(s, func(r rune) bool { return !isPrintRune(r) })
}

// appendCEFHeader appends s with the escapes of a CEF header field.
func appendCEFHeader(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '|' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return dst
}

// cefInfo holds, for each event type, the Name of its CEF records and their
// Severity when the event succeeded and when it failed. The Name of a
// failure ends in " failed", except for the types that are always written
// as failures (CHANNEL_REJECT, TORN_RECORD, FILE_REPLACED), whose Name
// says what happened.
var cefInfo = [numEventTypes]struct {
	name         string
	sev          [2]uint8 // [success, failure]
	alwaysFailed bool
}{
	Logon:              {"Logon", [2]uint8{3, 7}, false},
	Logoff:             {"Logoff", [2]uint8{1, 3}, false},
	SessionStart:       {"Session start", [2]uint8{3, 6}, false},
	ChannelOpen:        {"Channel open", [2]uint8{2, 4}, false},
	ChannelClose:       {"Channel close", [2]uint8{1, 3}, false},
	ChannelReject:      {"Channel reject", [2]uint8{5, 5}, true},
	ServerStart:        {"Server start", [2]uint8{3, 6}, false},
	ServerStop:         {"Server stop", [2]uint8{4, 6}, false},
	UserChange:         {"User change", [2]uint8{5, 6}, false},
	AccessChange:       {"Access change", [2]uint8{7, 8}, false},
	NoConsentOverride:  {"No-consent override", [2]uint8{7, 5}, false},
	DataRead:           {"Data read", [2]uint8{3, 5}, false},
	SystemConfigChange: {"System configuration change", [2]uint8{5, 6}, false},
	AuditConfigChange:  {"Audit configuration change", [2]uint8{7, 8}, false},
	FileStart:          {"Audit file start", [2]uint8{1, 3}, false},
	TornRecord:         {"Torn audit record", [2]uint8{8, 8}, true},
	RetentionPrune:     {"Audit files pruned", [2]uint8{3, 5}, false},
	Checkpoint:         {"Audit checkpoint", [2]uint8{1, 3}, false},
	FileReplaced:       {"Audit file replaced", [2]uint8{9, 9}, true},
}

// severity returns the CEF Severity, 0 to 10, of an event of type t with
// outcome o, which checkRecord has validated.
func severity(t EventType, o Outcome) int {
	if o == Failed {
		return int(cefInfo[t].sev[1])
	}
	return int(cefInfo[t].sev[0])
}

// cefCustom are the labels of cs1 to cs6, the custom strings of CEF.
var cefCustom = [...]string{"object", "old", "new", "session", "client", "mac"}

// Append implements [Formatter].
func (f *CEFFormatter) Append(dst []byte, r *Record) ([]byte, error) {
	if err := checkRecord(r); err != nil {
		return dst, err
	}
	dst, ok := appendCEF(dst, f.header, r)
	if !ok {
		return dst, timeError(r)
	}
	return dst, nil
}

// Parse implements [Parser] with [ParseCEF].
func (f *CEFFormatter) Parse(line []byte) (Record, error) { return ParseCEF(line) }

// appendCEF appends the CEF line of r after header. r must have passed
// checkRecord's checks; ok is false if its time cannot be written (and
// nothing was appended).
func appendCEF(dst []byte, header string, r *Record) ([]byte, bool) {
	e := &r.Event
	start := len(dst)
	dst = append(dst, header...)
	dst = append(dst, eventTypeInfo[e.Type].name...)
	dst = append(dst, '|')
	dst = append(dst, cefInfo[e.Type].name...)
	if e.Outcome == Failed && !cefInfo[e.Type].alwaysFailed {
		dst = append(dst, " failed"...)
	}
	dst = append(dst, '|')
	dst = strconv.AppendInt(dst, int64(severity(e.Type, e.Outcome)), 10)
	dst = append(dst, "|rt="...)
	dst = strconv.AppendInt(dst, e.Time.UnixMilli(), 10)
	dst = append(dst, " externalId="...)
	dst = strconv.AppendUint(dst, r.Seq, 10)
	dst = appendCEFPair(dst, "deviceFacility", r.Module)
	if e.Outcome == Failed {
		dst = append(dst, " outcome=failure"...)
	} else {
		dst = append(dst, " outcome=success"...)
	}
	dst = appendCEFPair(dst, "suser", e.Actor)
	dst = appendCEFPair(dst, "duser", e.Subject)
	client := e.Client
	if addr, port, ok := splitIP(client); ok {
		dst = append(dst, " src="...)
		dst = append(dst, addr...)
		if port != "" {
			dst = append(dst, " spt="...)
			dst = append(dst, port...)
		}
		client = ""
	}
	dst = appendCEFPair(dst, "reason", e.Reason)
	for i, v := range [...]string{e.Object, e.OldValue, e.NewValue, e.Session, client, r.MAC} {
		if v == "" {
			continue
		}
		n := byte('1' + i)
		dst = append(dst, " cs"...)
		dst = append(dst, n)
		dst = append(dst, "Label="...)
		dst = append(dst, cefCustom[i]...)
		dst = append(dst, " cs"...)
		dst = append(dst, n, '=')
		dst = appendCEFValue(dst, v)
	}
	dst = append(dst, " flexString1Label=time flexString1="...)
	dst, ok := appendTime(dst, e.Time)
	if !ok {
		return dst[:start], false
	}
	for i := range e.NumFields() {
		f := e.Field(i)
		dst = append(dst, " ad."...)
		dst = append(dst, f.Key...)
		dst = append(dst, '=')
		dst = appendCEFValue(dst, f.Value)
	}
	return dst, true
}

// appendCEFPair appends " key=value" when value is not empty.
func appendCEFPair(dst []byte, key, value string) []byte {
	if value == "" {
		return dst
	}
	dst = append(dst, ' ')
	dst = append(dst, key...)
	dst = append(dst, '=')
	return appendCEFValue(dst, value)
}

// splitIP reports whether client is an IP address, or an IP address and a
// port, each in its canonical form (as [netip.Addr.String] and
// [netip.AddrPort.String] write them), and returns the address and the
// port. It allocates nothing, unless client is made of hex digits, dots and
// at least two colons without being an IPv6 address.
func splitIP(client string) (addr, port string, ok bool) {
	if client == "" || len(client) > 47 {
		return "", "", false
	}
	// Cheap test first: only hex digits, '.', ':', '[' and ']'.
	for i := 0; i < len(client); i++ {
		c := client[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || c == '.' || c == ':' || c == '[' || c == ']') {
			return "", "", false
		}
	}
	if client[0] == '[' {
		end := strings.LastIndex(client, "]:")
		if end < 0 {
			return "", "", false
		}
		host, p := client[1:end], client[end+2:]
		if !canonicalPort(p) || !canonicalIPv6(host) {
			return "", "", false
		}
		return host, p, true
	}
	switch strings.Count(client, ":") {
	case 0:
		if canonicalIPv4(client) {
			return client, "", true
		}
	case 1:
		host, p, _ := strings.Cut(client, ":")
		if canonicalIPv4(host) && canonicalPort(p) {
			return host, p, true
		}
	default:
		if canonicalIPv6(client) {
			return client, "", true
		}
	}
	return "", "", false
}

// canonicalIPv4 reports whether s is an IPv4 address in dotted decimal
// without leading zeros.
func canonicalIPv4(s string) bool {
	for part := range 4 {
		n := 0
		for n < len(s) && n < 4 && '0' <= s[n] && s[n] <= '9' {
			n++
		}
		if n == 0 || n > 3 || n > 1 && s[0] == '0' {
			return false
		}
		if v := atoi3(s[:n]); v > 255 {
			return false
		}
		s = s[n:]
		if part < 3 {
			if s == "" || s[0] != '.' {
				return false
			}
			s = s[1:]
		}
	}
	return s == ""
}

// canonicalPort reports whether s is a port number, 0 to 65535, without
// leading zeros.
func canonicalPort(s string) bool {
	if s == "" || len(s) > 5 || len(s) > 1 && s[0] == '0' {
		return false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v <= 65535
}

// atoi3 returns the value of up to three decimal digits.
func atoi3(s string) int {
	v := 0
	for i := 0; i < len(s); i++ {
		v = v*10 + int(s[i]-'0')
	}
	return v
}

// canonicalIPv6 reports whether s is an IPv6 address, without zone, as
// [netip.Addr.String] writes it.
func canonicalIPv6(s string) bool {
	a, err := netip.ParseAddr(s)
	var buf [64]byte
	return err == nil && a.Is6() && a.Zone() == "" && string(a.AppendTo(buf[:0])) == s
}

// appendCEFValue appends s with the escapes of a CEF extension value.
func appendCEFValue(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 0x20 <= c && c < 0x7f && c != '\\' && c != '=' && (c != ' ' || 0 < i && i < len(s)-1) {
				i++
				continue
			}
			if c == ' ' { // at an edge of the value
				dst = append(append(dst, s[start:i]...), `\u0020`...)
				i++
				start = i
				continue
			}
			dst = appendEscapedByte(append(dst, s[start:i]...), c)
			i++
			start = i
			continue
		}
		dst, i, start = appendEscapedRune(dst, s, start, i)
	}
	return append(dst, s[start:]...)
}

// ParseCEF parses one CEF line, without its newline, as written by a
// [CEFFormatter] with any vendor, product and version.
//
// Like [ParseBCM] it is strict: it accepts exactly the lines that a
// [Logger] writes in CEF, and whatever it accepts formats back to the same
// bytes. A line that breaks a rule gives an error that wraps [ErrBadRecord],
// names the byte offset of the fault and says why.
func ParseCEF(line []byte) (Record, error) {
	p := cefParser{s: string(line)}
	var r Record
	header, err := p.parse(&r)
	if err != nil {
		return Record{}, err
	}
	if why, part := unwritten(&r); why != "" {
		return Record{}, p.errorf(p.at[part], "%s", why)
	}
	var stack [512]byte
	out, _ := appendCEF(stack[:0], header, &r)
	if string(out) != p.s {
		return Record{}, notCanonical("cef", out, line)
	}
	return r, nil
}

// cefParser reads one CEF line.
type cefParser struct {
	s  string
	i  int
	at [numParts]int
}

// errorf returns an error wrapping ErrBadRecord about the byte at off.
func (p *cefParser) errorf(off int, format string, args ...any) error {
	return fmt.Errorf("audit: %w: cef byte %d: %s", ErrBadRecord, off, fmt.Sprintf(format, args...))
}

// headerField reads a header field up to its unescaped '|' and returns it
// unescaped.
func (p *cefParser) headerField(what string) (string, error) {
	start := p.i
	var b []byte
	for i := p.i; i < len(p.s); i++ {
		switch c := p.s[i]; c {
		case '|':
			p.i = i + 1
			if b == nil {
				return p.s[start:i], nil
			}
			return string(b), nil
		case '\\':
			if i+1 == len(p.s) || p.s[i+1] != '\\' && p.s[i+1] != '|' {
				return "", p.errorf(i, "in the %s, a backslash escapes only '\\\\' or '|'", what)
			}
			if b == nil {
				b = append([]byte(nil), p.s[start:i]...)
			}
			i++
			b = append(b, p.s[i])
		default:
			if b != nil {
				b = append(b, c)
			}
		}
	}
	return "", p.errorf(start, "line ends in the %s", what)
}

// isCEFKeyStart reports whether s[i:] starts with a key and '='.
func isCEFKeyStart(s string, i int) bool {
	j := i
	for j < len(s) && keyASCII[s[j]] {
		j++
	}
	return j > i && j < len(s) && s[j] == '='
}

// parse reads the line into r, which is the zero Record, and returns the
// header up to the Signature ID.
func (p *cefParser) parse(r *Record) (string, error) {
	const prefix = "CEF:0|"
	if !strings.HasPrefix(p.s, prefix) {
		return "", p.errorf(0, "want %q", prefix)
	}
	p.i = len(prefix)
	for _, what := range [...]string{"vendor", "product", "version"} {
		off := p.i
		v, err := p.headerField(what)
		if err != nil {
			return "", err
		}
		if !validProductField(v) {
			return "", p.errorf(off, "%s %q: want 1 to 63 bytes of printable UTF-8", what, snip(v))
		}
	}
	header := p.s[:p.i]
	off := p.i
	sig, err := p.headerField("signature id")
	if err != nil {
		return "", err
	}
	typ, ok := lookupType(sig)
	if !ok {
		return "", p.errorf(off, "unknown event type %q", snip(sig))
	}
	r.Event.Type = typ
	if _, err := p.headerField("name"); err != nil {
		return "", err
	}
	if _, err := p.headerField("severity"); err != nil {
		return "", err
	}
	e := &r.Event
	seen := map[string]bool{}
	var client, port string
	for p.i < len(p.s) {
		keyOff := p.i
		j := p.i
		for j < len(p.s) && keyASCII[p.s[j]] {
			j++
		}
		if j == p.i || j == len(p.s) || p.s[j] != '=' {
			return "", p.errorf(p.i, "want key=value")
		}
		key := p.s[p.i:j]
		if seen[key] {
			return "", p.errorf(keyOff, "duplicate key %q", key)
		}
		seen[key] = true
		p.i = j + 1
		valOff := p.i
		val, err := p.value()
		if err != nil {
			return "", err
		}
		switch key {
		case "rt", "flexString1Label", "cs1Label", "cs2Label", "cs3Label", "cs4Label", "cs5Label", "cs6Label":
			// Written from the other fields: the final comparison checks them.
		case "externalId":
			p.at[partSeq] = valOff
			if r.Seq, ok = parseSeq(val); !ok {
				return "", p.errorf(valOff, "externalId %q: want the sequence number", snip(val))
			}
		case "deviceFacility":
			p.at[partModule] = valOff
			r.Module = val
		case "outcome":
			p.at[partOutcome] = valOff
			switch val {
			case "success":
				e.Outcome = Succeeded
			case "failure":
				e.Outcome = Failed
			default:
				return "", p.errorf(valOff, "outcome %q: want success or failure", snip(val))
			}
		case "suser":
			e.Actor = val
		case "duser":
			e.Subject = val
		case "src":
			client = val
		case "spt":
			port = val
		case "reason":
			e.Reason = val
		case "cs1":
			e.Object = val
		case "cs2":
			e.OldValue = val
		case "cs3":
			e.NewValue = val
		case "cs4":
			e.Session = val
		case "cs5":
			e.Client = val
		case "cs6":
			p.at[partMAC] = valOff
			r.MAC = val
		case "flexString1":
			p.at[partTime] = valOff
			if e.Time, err = parseTime(val); err != nil {
				return "", fmt.Errorf("audit: %w: cef byte %d: time: %w", ErrBadRecord, valOff, err)
			}
		default:
			xkey, found := strings.CutPrefix(key, "ad.")
			if !found {
				return "", p.errorf(keyOff, "unknown key %q", snip(key))
			}
			if err := checkFieldKey(xkey); err != nil {
				return "", p.errorf(keyOff, "%v", err)
			}
			e.AddField(xkey, val)
		}
	}
	p.at[partEnd] = len(p.s)
	if !seen["flexString1"] {
		return "", p.errorf(len(p.s), "missing key flexString1 (the time)")
	}
	if client != "" {
		if e.Client != "" {
			return "", p.errorf(len(p.s), "both src and cs5 hold the client")
		}
		e.Client = client
		if port != "" {
			if strings.IndexByte(client, ':') >= 0 {
				e.Client = "[" + client + "]:" + port
			} else {
				e.Client = client + ":" + port
			}
		}
	}
	return header, nil
}

// value reads an extension value up to the space before the next key, or
// the end of the line, and returns it unescaped.
func (p *cefParser) value() (string, error) {
	s := p.s
	start := p.i
	var b []byte
	i := start
	for ; i < len(s); i++ {
		c := s[i]
		if c == ' ' && isCEFKeyStart(s, i+1) {
			break
		}
		if c == '=' {
			return "", p.errorf(i, "unescaped '=' in a value")
		}
		if c != '\\' {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		if b == nil {
			b = append(make([]byte, 0, len(s)-start), s[start:i]...)
		}
		if i+1 == len(s) {
			return "", p.errorf(i, "backslash at the end of the line")
		}
		esc := i
		i++
		switch s[i] {
		case '\\', '=':
			b = append(b, s[i])
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'x':
			v, ok := parseLowerHex(s, i+1, 2)
			if !ok {
				return "", p.errorf(esc, "\\x wants 2 lower-case hex digits")
			}
			b = append(b, byte(v))
			i += 2
		case 'u', 'U':
			n := 4
			if s[i] == 'U' {
				n = 8
			}
			v, ok := parseLowerHex(s, i+1, n)
			if !ok || v > utf8.MaxRune || 0xd800 <= v && v <= 0xdfff {
				return "", p.errorf(esc, "\\%c wants %d lower-case hex digits of a Unicode scalar value", s[i], n)
			}
			b = utf8.AppendRune(b, rune(v))
			i += n
		default:
			return "", p.errorf(esc, "unknown escape \\%c", s[i])
		}
	}
	p.i = i
	if i < len(s) {
		p.i++ // the space before the next key
	}
	if b == nil {
		return s[start:i], nil
	}
	return string(b), nil
}
