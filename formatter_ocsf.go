package audit

import (
	"fmt"
	"strconv"
	"strings"
)

// OCSFVersion is the version of the Open Cybersecurity Schema Framework that
// the OCSF format follows, written as metadata.version in every record.
const OCSFVersion = "1.3.0"

// The OCSF classes that records map to, by class_uid.
const (
	ocsfAuthentication   = 3002
	ocsfAccountChange    = 3001
	ocsfEntityManagement = 3004
	ocsfNetworkActivity  = 4001
	ocsfAppLifecycle     = 6002
	ocsfBaseEvent        = 0
)

// ocsfClasses holds the caption, category_uid and category caption of each
// class, from the OCSF 1.3.0 schema. The Base Event's category, "other" in
// the schema, is 0 Uncategorized.
var ocsfClasses = map[int]struct {
	name     string
	category int
	catName  string
}{
	ocsfAuthentication:   {"Authentication", 3, "Identity & Access Management"},
	ocsfAccountChange:    {"Account Change", 3, "Identity & Access Management"},
	ocsfEntityManagement: {"Entity Management", 3, "Identity & Access Management"},
	ocsfNetworkActivity:  {"Network Activity", 4, "Network Activity"},
	ocsfAppLifecycle:     {"Application Lifecycle", 6, "Application Activity"},
	ocsfBaseEvent:        {"Base Event", 0, "Uncategorized"},
}

// ocsfTypes maps each event type to its class_uid, activity_id and
// activity_name. Activity 99 is OCSF's Other, whose name is the type's own.
var ocsfTypes = [numEventTypes]struct {
	class    int
	activity int
	name     string
}{
	Logon:              {ocsfAuthentication, 1, "Logon"},
	Logoff:             {ocsfAuthentication, 2, "Logoff"},
	SessionStart:       {ocsfAuthentication, 1, "Logon"},
	ChannelOpen:        {ocsfNetworkActivity, 1, "Open"},
	ChannelClose:       {ocsfNetworkActivity, 2, "Close"},
	ChannelReject:      {ocsfNetworkActivity, 5, "Refuse"},
	ServerStart:        {ocsfAppLifecycle, 3, "Start"},
	ServerStop:         {ocsfAppLifecycle, 4, "Stop"},
	UserChange:         {ocsfAccountChange, 99, "User Change"},
	AccessChange:       {ocsfAccountChange, 99, "Access Change"},
	NoConsentOverride:  {ocsfEntityManagement, 3, "Update"},
	DataRead:           {ocsfEntityManagement, 2, "Read"},
	SystemConfigChange: {ocsfEntityManagement, 3, "Update"},
	AuditConfigChange:  {ocsfEntityManagement, 3, "Update"},
	FileStart:          {ocsfBaseEvent, 99, "File Start"},
	TornRecord:         {ocsfBaseEvent, 99, "Torn Record"},
	RetentionPrune:     {ocsfBaseEvent, 99, "Retention Prune"},
	Checkpoint:         {ocsfBaseEvent, 99, "Checkpoint"},
	FileReplaced:       {ocsfBaseEvent, 99, "File Replaced"},
}

// ocsfSeverity returns the OCSF severity_id and its caption for a CEF
// severity of 0 to 10: 0-1 Informational, 2-3 Low, 4-6 Medium, 7-8 High,
// 9-10 Critical.
func ocsfSeverity(cef int) (int, string) {
	switch {
	case cef <= 1:
		return 1, "Informational"
	case cef <= 3:
		return 2, "Low"
	case cef <= 6:
		return 3, "Medium"
	case cef <= 8:
		return 4, "High"
	}
	return 5, "Critical"
}

// ocsfHeads holds, for each event type and outcome ([success, failure]),
// the start of its OCSF object up to the time: the classification, the
// severity and the status, which depend on nothing else.
var ocsfHeads = func() (h [numEventTypes][2]string) {
	for t := EventType(1); t < numEventTypes; t++ {
		ty := ocsfTypes[t]
		c := ocsfClasses[ty.class]
		for i, o := range [2]Outcome{Succeeded, Failed} {
			sevID, sev := ocsfSeverity(severity(t, o))
			status, statusID := "Success", 1
			if o == Failed {
				status, statusID = "Failure", 2
			}
			typeName := ty.name
			if ty.activity == 99 {
				typeName = "Other"
			}
			h[t][i] = fmt.Sprintf(`{"class_uid":%d,"class_name":%q,"category_uid":%d,"category_name":%q,`+
				`"activity_id":%d,"activity_name":%q,"type_uid":%d,"type_name":"%s: %s",`+
				`"severity_id":%d,"severity":%q,"status_id":%d,"status":%q,"time":`,
				ty.class, c.name, c.category, c.catName, ty.activity, ty.name, ty.class*100+ty.activity, c.name, typeName,
				sevID, sev, statusID, status)
		}
	}
	return h
}()

// OCSFFormatter renders records in the Open Cybersecurity Schema Framework
// ([OCSFVersion]), read by AWS Security Lake, Splunk and Google SecOps: one
// JSON object per line, in the class that fits each event type:
//
//	LOGON, SESSION_START           Authentication (3002), Logon (1)
//	LOGOFF                         Authentication (3002), Logoff (2)
//	USER_CHANGE, ACCESS_CHANGE     Account Change (3001), Other (99)
//	DATA_READ                      Entity Management (3004), Read (2)
//	SYSTEM_CONFIG_CHANGE,
//	AUDIT_CONFIG_CHANGE,
//	NO_CONSENT_OVERRIDE            Entity Management (3004), Update (3)
//	CHANNEL_OPEN, _CLOSE, _REJECT  Network Activity (4001), Open (1), Close (2), Refuse (5)
//	SERVER_START, SERVER_STOP      Application Lifecycle (6002), Start (3), Stop (4)
//	the library's own records      Base Event (0), Other (99)
//
// The library's own records (FILE_START, TORN_RECORD, RETENTION_PRUNE,
// CHECKPOINT, FILE_REPLACED) are not Event Log Activity (1008): every class
// of System Activity requires the device, which the library does not know.
//
// Each object has class_uid, category_uid, activity_id and type_uid with
// their captions, severity_id (from the CEF severity: 0-1 Informational,
// 2-3 Low, 4-6 Medium, 7-8 High, 9-10 Critical), status_id (1 Success or 2
// Failure), time in milliseconds since the Unix epoch and time_dt, the exact
// time in RFC 3339 with microseconds (OCSF's datetime profile, named in
// metadata.profiles). metadata holds the OCSF version, the product (with the
// module as product.feature.name), the event type as event_code and seq as
// sequence. The actor is actor.user.name; the reason is status_detail; a
// client is src_endpoint (ip and port when it is an IP address, or an IP
// address and port, in canonical form, else name); the Base Event, which
// has neither attribute, and Application Lifecycle, which has no
// src_endpoint, leave them to unmapped. Authentication has the
// actor as user too, the module as service.name (the service logged on
// to) and the session as session.uid; Account Change has the
// subject as user; Entity Management has the object as entity.name (and
// for DATA_READ the subject as entity.user.name); Network Activity has the
// module as dst_endpoint.svc_name; Application Lifecycle has the module as
// app.name. The fields left, among actor, subject, object, old, new,
// client, session and mac, and then the extra fields in order, are strings in
// unmapped. Empty standard fields are omitted. (OCSF types sequence as a
// 32-bit integer; a seq above 2147483647, which would take a file of more
// than two billion records, is written all the same.)
//
//	{"class_uid":3002,"class_name":"Authentication",...,"status_id":2,"status":"Failure","time":1795598080123,"time_dt":"2026-11-25T09:14:40.123456Z","status_detail":"bad password","metadata":{"version":"1.3.0","product":{"name":"audit","vendor_name":"auditkit","version":"1","feature":{"name":"AgentServer"}},"profiles":["datetime"],"event_code":"LOGON","sequence":3},"actor":{"user":{"name":"alice"}},"user":{"name":"alice"},"service":{"name":"AgentServer"},"src_endpoint":{"ip":"10.1.2.3","port":5060},"session":{"uid":"S-77"},"unmapped":{"attempt":"2"}}
//
// Strings are escaped as in the JSON format (see [ParseJSON]), so every
// line is valid JSON and every string reads back exactly. [ParseOCSF] reads
// the records back. An OCSFFormatter is safe for concurrent use.
type OCSFFormatter struct {
	product string // `"product":{"name":...,"vendor_name":...,"version":...,"feature":{"name":`
	vendor  string // the vendor as a JSON string, for app.vendor_name
}

var defaultOCSF = mustOCSF(DefaultVendor, DefaultProduct, DefaultVersion)

func mustOCSF(vendor, product, version string) *OCSFFormatter {
	f, err := NewOCSFFormatter(vendor, product, version)
	if err != nil {
		panic(err)
	}
	return f
}

// NewOCSFFormatter returns an OCSF formatter whose records name vendor,
// product and version in metadata.product (and vendor as the vendor of the
// app of SERVER_START and SERVER_STOP). Register it under a name of your
// own with [RegisterFormatter]; [FormatOCSF] uses [DefaultVendor],
// [DefaultProduct] and [DefaultVersion]. Each field must be 1 to 63 bytes
// of printable UTF-8 ([unicode.IsPrint], space allowed).
func NewOCSFFormatter(vendor, product, version string) (*OCSFFormatter, error) {
	for _, f := range [...]struct{ name, v string }{{"vendor", vendor}, {"product", product}, {"version", version}} {
		if !validProductField(f.v) {
			return nil, fmt.Errorf("audit: ocsf %s %q: %w: want 1 to 63 bytes of printable UTF-8", f.name, f.v, ErrBadConfig)
		}
	}
	b := []byte(`"product":{"name":`)
	b = appendJSONString(b, product)
	b = append(b, `,"vendor_name":`...)
	b = appendJSONString(b, vendor)
	b = append(b, `,"version":`...)
	b = appendJSONString(b, version)
	b = append(b, `,"feature":{"name":`...)
	return &OCSFFormatter{product: string(b), vendor: string(appendJSONString(nil, vendor))}, nil
}

// Append implements [Formatter].
func (f *OCSFFormatter) Append(dst []byte, r *Record) ([]byte, error) {
	if err := checkRecord(r); err != nil {
		return dst, err
	}
	dst, ok := f.append(dst, r)
	if !ok {
		return dst, timeError(r)
	}
	return dst, nil
}

// Parse implements [Parser] with [ParseOCSF].
func (f *OCSFFormatter) Parse(line []byte) (Record, error) { return ParseOCSF(line) }

// append appends the OCSF object of r, which must have passed checkRecord's
// checks; ok is false if its time cannot be written (and nothing was
// appended).
func (f *OCSFFormatter) append(dst []byte, r *Record) ([]byte, bool) {
	e := &r.Event
	start := len(dst)
	class := ocsfTypes[e.Type].class
	i := 0
	if e.Outcome == Failed {
		i = 1
	}
	dst = append(dst, ocsfHeads[e.Type][i]...)
	dst = strconv.AppendInt(dst, e.Time.UnixMilli(), 10)
	dst = append(dst, `,"time_dt":"`...)
	dst, ok := appendTime(dst, e.Time)
	if !ok {
		return dst[:start], false
	}
	dst = append(dst, '"')
	if e.Reason != "" {
		dst = append(dst, `,"status_detail":`...)
		dst = appendJSONString(dst, e.Reason)
	}
	dst = append(dst, `,"metadata":{"version":"`+OCSFVersion+`",`...)
	dst = append(dst, f.product...)
	dst = appendJSONString(dst, r.Module)
	dst = append(dst, `}},"profiles":["datetime"],"event_code":"`...)
	dst = append(dst, eventTypeInfo[e.Type].name...)
	dst = append(dst, `","sequence":`...)
	dst = strconv.AppendUint(dst, r.Seq, 10)
	dst = append(dst, '}')
	// Which standard fields have an OCSF attribute in this class. The
	// Base Event has neither actor nor src_endpoint.
	actor := class != ocsfBaseEvent
	subject, object, client, session := false, false, class != ocsfAppLifecycle && class != ocsfBaseEvent, false
	if actor && e.Actor != "" {
		dst = append(dst, `,"actor":{"user":{"name":`...)
		dst = appendJSONString(dst, e.Actor)
		dst = append(dst, "}}"...)
	}
	switch class {
	case ocsfAuthentication:
		dst = append(dst, `,"user":{"name":`...)
		dst = appendJSONString(dst, e.Actor)
		dst = append(dst, `},"service":{"name":`...)
		dst = appendJSONString(dst, r.Module)
		dst = append(dst, '}')
		session = true
	case ocsfAccountChange:
		dst = append(dst, `,"user":{"name":`...)
		dst = appendJSONString(dst, e.Subject)
		dst = append(dst, '}')
		subject = true
	case ocsfEntityManagement:
		dst = append(dst, `,"entity":{`...)
		sep := ""
		if e.Object != "" {
			dst = append(dst, `"name":`...)
			dst = appendJSONString(dst, e.Object)
			sep = ","
		}
		if e.Type == DataRead && e.Subject != "" {
			dst = append(dst, sep...)
			dst = append(dst, `"user":{"name":`...)
			dst = appendJSONString(dst, e.Subject)
			dst = append(dst, '}')
		}
		dst = append(dst, '}')
		object, subject = true, e.Type == DataRead
	case ocsfAppLifecycle:
		dst = append(dst, `,"app":{"name":`...)
		dst = appendJSONString(dst, r.Module)
		dst = append(dst, `,"vendor_name":`...)
		dst = append(dst, f.vendor...)
		dst = append(dst, '}')
	}
	if client && e.Client != "" {
		dst = append(dst, `,"src_endpoint":{`...)
		if addr, port, ok := splitIP(e.Client); ok {
			dst = append(dst, `"ip":"`...)
			dst = append(dst, addr...)
			dst = append(dst, '"')
			if port != "" {
				dst = append(dst, `,"port":`...)
				dst = append(dst, port...)
			}
		} else {
			dst = append(dst, `"name":`...)
			dst = appendJSONString(dst, e.Client)
		}
		dst = append(dst, '}')
	}
	if class == ocsfNetworkActivity {
		dst = append(dst, `,"dst_endpoint":{"svc_name":`...)
		dst = appendJSONString(dst, r.Module)
		dst = append(dst, '}')
	}
	if session && e.Session != "" {
		dst = append(dst, `,"session":{"uid":`...)
		dst = appendJSONString(dst, e.Session)
		dst = append(dst, '}')
	}
	sep := `,"unmapped":{`
	member := func(dst []byte, key, v string) []byte {
		dst = append(dst, sep...)
		sep = ","
		dst = append(dst, '"')
		dst = append(dst, key...)
		dst = append(dst, '"', ':')
		return appendJSONString(dst, v)
	}
	for _, u := range [...]struct {
		key    string
		v      string
		mapped bool
	}{
		{"actor", e.Actor, actor},
		{"subject", e.Subject, subject},
		{"object", e.Object, object},
		{"old", e.OldValue, false},
		{"new", e.NewValue, false},
		{"client", e.Client, client},
		{"session", e.Session, session},
		{"mac", r.MAC, false},
	} {
		if u.v != "" && !u.mapped {
			dst = member(dst, u.key, u.v)
		}
	}
	for i := range e.NumFields() {
		fl := e.Field(i)
		dst = member(dst, fl.Key, fl.Value)
	}
	if sep == "," {
		dst = append(dst, '}')
	}
	return append(dst, '}'), true
}

// ParseOCSF parses one OCSF object, without its newline, as written by an
// [OCSFFormatter] with any vendor, product and version.
//
// Like [ParseJSON] it is strict: it accepts exactly the lines that a
// [Logger] writes in OCSF, and whatever it accepts formats back to the same
// bytes. The event type is read from metadata.event_code and the outcome
// from status_id; the class, activity, severity and the other derived
// members must be those the formatter writes. A line that breaks a rule
// gives an error that wraps [ErrBadRecord], names the byte offset of the
// fault and says why.
func ParseOCSF(line []byte) (Record, error) {
	p := ocsfParser{jp: jsonParser{s: string(line), format: "ocsf"}}
	var r Record
	f, err := p.parse(&r)
	if err != nil {
		return Record{}, err
	}
	if why, part := unwritten(&r); why != "" {
		return Record{}, p.jp.errorf(p.jp.at[part], "%s", why)
	}
	var stack [1024]byte
	out, _ := f.append(stack[:0], &r)
	if string(out) != p.jp.s {
		return Record{}, notCanonical("ocsf", out, line)
	}
	return r, nil
}

// ocsfValue is a string or number member of an OCSF object, by its path.
type ocsfValue struct {
	path string // such as "metadata.product.name"
	val  string // a string's value, or a number's text
	off  int    // offset of the value
}

// ocsfParser reads one OCSF object into a list of values.
type ocsfParser struct {
	jp   jsonParser
	vals []ocsfValue
}

// expect consumes the byte c.
func (p *ocsfParser) expect(c byte) error {
	jp := &p.jp
	if jp.i >= len(jp.s) {
		return jp.errorf(jp.i, "line ends before %q", c)
	}
	if jp.s[jp.i] != c {
		return jp.errorf(jp.i, "want %q, found %q", c, jp.s[jp.i])
	}
	jp.i++
	return nil
}

// object reads an object at p.jp.i whose members have paths prefixed by
// prefix.
func (p *ocsfParser) object(prefix string, depth int) error {
	jp := &p.jp
	if depth > 4 {
		return jp.errorf(jp.i, "objects nested too deep")
	}
	if err := p.expect('{'); err != nil {
		return err
	}
	if jp.i < len(jp.s) && jp.s[jp.i] == '}' {
		jp.i++
		return nil
	}
	for {
		if jp.i >= len(jp.s) || jp.s[jp.i] != '"' {
			return jp.errorf(jp.i, "want a key string")
		}
		key, err := jp.str()
		if err != nil {
			return err
		}
		if err := p.expect(':'); err != nil {
			return err
		}
		if jp.i >= len(jp.s) {
			return jp.errorf(jp.i, "line ends before a value")
		}
		path := prefix + key
		switch c := jp.s[jp.i]; {
		case c == '{':
			if err := p.object(path+".", depth+1); err != nil {
				return err
			}
		case c == '[':
			jp.i++
			for jp.i < len(jp.s) && jp.s[jp.i] == '"' {
				off := jp.i
				v, err := jp.str()
				if err != nil {
					return err
				}
				p.vals = append(p.vals, ocsfValue{path + "[]", v, off})
				if jp.i < len(jp.s) && jp.s[jp.i] == ',' {
					jp.i++
				}
			}
			if err := p.expect(']'); err != nil {
				return err
			}
		case c == '"':
			off := jp.i
			v, err := jp.str()
			if err != nil {
				return err
			}
			p.vals = append(p.vals, ocsfValue{path, v, off})
		case c == '-' || '0' <= c && c <= '9':
			off := jp.i
			jp.i++
			for jp.i < len(jp.s) && '0' <= jp.s[jp.i] && jp.s[jp.i] <= '9' {
				jp.i++
			}
			p.vals = append(p.vals, ocsfValue{path, jp.s[off:jp.i], off})
		default:
			return jp.errorf(jp.i, "value of %q: want a string, number, object or array of strings", snip(path))
		}
		if jp.i >= len(jp.s) {
			return jp.errorf(jp.i, "line ends before ',' or '}'")
		}
		c := jp.s[jp.i]
		jp.i++
		if c == '}' {
			return nil
		}
		if c != ',' {
			return jp.errorf(jp.i-1, "want ',' or '}', found %q", c)
		}
	}
}

// parse reads the line into r, which is the zero Record, and returns a
// formatter for the product the line names.
func (p *ocsfParser) parse(r *Record) (*OCSFFormatter, error) {
	jp := &p.jp
	if jp.s == "" {
		return nil, jp.errorf(0, "empty line")
	}
	if err := p.object("", 0); err != nil {
		return nil, err
	}
	if jp.i != len(jp.s) {
		return nil, jp.errorf(jp.i, "unexpected %q after the object", jp.s[jp.i])
	}
	e := &r.Event
	var vendor, product, version, userName, entityUser, ip, port string
	haveType, haveTime := false, false
	if err := p.unique(); err != nil {
		return nil, err
	}
	for _, v := range p.vals {
		switch v.path {
		case "class_uid", "class_name", "category_uid", "category_name", "activity_id", "activity_name",
			"type_uid", "type_name", "severity_id", "severity", "status", "time", "metadata.version",
			"metadata.profiles[]", "app.name", "app.vendor_name", "dst_endpoint.svc_name", "service.name":
			// Derived from the other members: the final comparison checks them.
		case "metadata.event_code":
			t, ok := lookupType(v.val)
			if !ok {
				return nil, jp.errorf(v.off, "unknown event type %q", snip(v.val))
			}
			e.Type, haveType = t, true
		case "status_id":
			jp.at[partOutcome] = v.off
			switch v.val {
			case "1":
				e.Outcome = Succeeded
			case "2":
				e.Outcome = Failed
			default:
				return nil, jp.errorf(v.off, "status_id %s: want 1 (Success) or 2 (Failure)", snip(v.val))
			}
		case "time_dt":
			jp.at[partTime] = v.off
			t, err := parseTime(v.val)
			if err != nil {
				return nil, fmt.Errorf("audit: %w: ocsf byte %d: time_dt: %w", ErrBadRecord, v.off, err)
			}
			e.Time, haveTime = t, true
		case "metadata.sequence":
			jp.at[partSeq] = v.off
			n, ok := parseSeq(v.val)
			if !ok {
				return nil, jp.errorf(v.off, "metadata.sequence %q: want the sequence number", snip(v.val))
			}
			r.Seq = n
		case "metadata.product.feature.name":
			jp.at[partModule] = v.off
			r.Module = v.val
		case "metadata.product.name":
			product = v.val
		case "metadata.product.vendor_name":
			vendor = v.val
		case "metadata.product.version":
			version = v.val
		case "status_detail":
			e.Reason = v.val
		case "actor.user.name":
			e.Actor = v.val
		case "user.name":
			userName = v.val
		case "entity.name":
			e.Object = v.val
		case "entity.user.name":
			entityUser = v.val
		case "src_endpoint.ip":
			ip = v.val
		case "src_endpoint.port":
			port = v.val
		case "src_endpoint.name":
			e.Client = v.val
		case "session.uid":
			e.Session = v.val
		default:
			key, found := strings.CutPrefix(v.path, "unmapped.")
			if !found {
				return nil, jp.errorf(v.off, "unknown member %q", snip(v.path))
			}
			switch key {
			case "actor":
				e.Actor = v.val
			case "subject":
				e.Subject = v.val
			case "object":
				e.Object = v.val
			case "old":
				e.OldValue = v.val
			case "new":
				e.NewValue = v.val
			case "client":
				e.Client = v.val
			case "session":
				e.Session = v.val
			case "mac":
				jp.at[partMAC] = v.off
				r.MAC = v.val
			default:
				if err := checkFieldKey(key); err != nil {
					return nil, jp.errorf(v.off, "unmapped member: %v", err)
				}
				e.AddField(key, v.val)
			}
		}
	}
	jp.at[partEnd] = len(jp.s)
	if !haveType {
		return nil, jp.errorf(len(jp.s), "missing metadata.event_code (the event type)")
	}
	if !haveTime {
		return nil, jp.errorf(len(jp.s), "missing time_dt")
	}
	switch {
	case ocsfTypes[e.Type].class == ocsfAccountChange:
		e.Subject = userName
	case e.Type == DataRead && entityUser != "":
		e.Subject = entityUser
	}
	if ip != "" {
		e.Client = ip
		if port != "" {
			if strings.IndexByte(ip, ':') >= 0 {
				e.Client = "[" + ip + "]:" + port
			} else {
				e.Client = ip + ":" + port
			}
		}
	}
	f, err := NewOCSFFormatter(vendor, product, version)
	if err != nil {
		return nil, jp.errorf(0, "metadata.product: name, vendor_name and version must be 1 to 63 bytes of printable UTF-8")
	}
	return f, nil
}

// unique returns an error about the first value whose path is that of a
// value before it. It takes time linear in the number of values: it
// compares paths while they are few, and keeps a set of them when they
// are many.
func (p *ocsfParser) unique() error {
	var seen map[string]struct{}
	if len(p.vals) > 2*keySetFrom {
		seen = make(map[string]struct{}, len(p.vals))
	}
	for i, v := range p.vals {
		dup := false
		if seen != nil {
			_, dup = seen[v.path]
			seen[v.path] = struct{}{}
		} else {
			for j := range i {
				if p.vals[j].path == v.path {
					dup = true
					break
				}
			}
		}
		if dup {
			return p.jp.errorf(v.off, "duplicate member %q", snip(v.path))
		}
	}
	return nil
}
