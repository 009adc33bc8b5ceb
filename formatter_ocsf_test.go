package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The expectations below are taken from the OCSF schema repository,
// github.com/ocsf/ocsf-schema at tag 1.3.0 (version.json "1.3.0"). A class
// has the attributes and constraints of its own file and of the files it
// extends (its category's, then events/base_event.json):
//
//   - events/base_event.json (Base Event, uid 0, category "other": 0
//     Uncategorized) with includes/classification.json and
//     includes/occurrence.json: class_uid, category_uid, activity_id,
//     type_uid, time, severity_id and metadata are required; status_id is
//     recommended; the enums of dictionary.json for status_id (0 Unknown,
//     1 Success, 2 Failure, 99 Other), severity_id (0 Unknown,
//     1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical, 6 Fatal,
//     99 Other) and activity_id (0 Unknown, 99 Other in every class);
//     categories.json for the category captions; profiles/datetime.json for
//     time_dt (dictionary.json type datetime_t, RFC 3339).
//   - events/iam/iam.json: nothing required beyond the base event.
//   - events/iam/authentication.json (uid 2 in iam: 3002): user required;
//     at least one of service and dst_endpoint; activities 1 Logon ...
//     6 Preauth.
//   - events/iam/account_change.json (3001): user required; activities
//     1 Create ... 11 MFA Factor Disable.
//   - events/iam/entity_management.json (3004): entity required; activities
//     1 Create, 2 Read, 3 Update ... 13 Resume.
//   - events/network/network.json: dst_endpoint required;
//     events/network/network_activity.json (4001) with
//     includes/network/network_activities.json: activities 1 Open, 2 Close,
//     3 Reset, 4 Fail, 5 Refuse, 6 Traffic, 7 Listen.
//   - events/application/application_lifecycle.json (6002): app required;
//     activities 1 Install, 2 Remove, 3 Start, 4 Stop, 5 Restart, 6 Enable,
//     7 Disable, 8 Update.
//   - events/system/system.json: actor and device required in every class
//     of System Activity, so Event Log Activity (1008, which also wants one
//     of log_file, log_name, log_provider, log_type and log_type_id) would
//     need the device, which the library does not know: its own records
//     are Base Events.
//   - objects/metadata.json: product and version required; sequence
//     (integer_t) and event_code optional. objects/product.json: vendor_name
//     required. objects/user.json: at least one of account, name, uid.
//     objects/actor.json: at least one of process, user, invoked_by,
//     session, app_name, app_uid. objects/network_endpoint.json: at least
//     one of ip, uid, name, hostname, svc_name, instance_uid, interface_uid,
//     interface_name. objects/managed_entity.json: at least one of name,
//     uid, device, group, org, policy, user. objects/service.json (from
//     objects/_entity.json): at least one of name, uid.

// ocsfSchema is, for each class the format uses, its caption, category and
// caption, its activities (without 0 and 99), its required attributes
// beyond those of every class (its own and its category's), and its
// constraints: groups of attributes of which at least one is present, as
// OCSF 1.3.0 defines them.
var ocsfSchema = map[float64]struct {
	name, category string
	categoryUID    float64
	activities     []string // caption of activity i+1
	required       []string
	atLeastOne     [][]string
}{
	0: {"Base Event", "Uncategorized", 0, nil, nil, nil},
	3002: {"Authentication", "Identity & Access Management", 3,
		[]string{"Logon", "Logoff", "Authentication Ticket", "Service Ticket Request", "Service Ticket Renew", "Preauth"},
		[]string{"user"}, [][]string{{"service", "dst_endpoint"}}},
	3001: {"Account Change", "Identity & Access Management", 3,
		[]string{"Create", "Enable", "Password Change", "Password Reset", "Disable", "Delete", "Attach Policy",
			"Detach Policy", "Lock", "MFA Factor Enable", "MFA Factor Disable"},
		[]string{"user"}, nil},
	3004: {"Entity Management", "Identity & Access Management", 3,
		[]string{"Create", "Read", "Update", "Delete", "Move", "Enroll", "Unenroll", "Enable", "Disable",
			"Activate", "Deactivate", "Suspend", "Resume"},
		[]string{"entity"}, nil},
	4001: {"Network Activity", "Network Activity", 4,
		[]string{"Open", "Close", "Reset", "Fail", "Refuse", "Traffic", "Listen"},
		[]string{"dst_endpoint"}, nil},
	6002: {"Application Lifecycle", "Application Activity", 6,
		[]string{"Install", "Remove", "Start", "Stop", "Restart", "Enable", "Disable", "Update"},
		[]string{"app"}, nil},
}

// ocsfAttributes is, for each class the format uses, the attributes it
// defines beyond those of the Base Event (ocsfAttributes[0]): its own, its
// category's and their includes', from the same files. time_dt is the
// datetime profile's sibling of time.
var ocsfAttributes = map[float64][]string{
	0: {"activity_id", "activity_name", "api", "category_name", "category_uid", "class_name", "class_uid", "cloud",
		"count", "duration", "end_time", "enrichments", "message", "metadata", "observables", "osint", "raw_data",
		"severity", "severity_id", "start_time", "status", "status_code", "status_detail", "status_id", "time",
		"time_dt", "timezone_offset", "type_name", "type_uid", "unmapped"},
	3002: {"actor", "auth_factors", "auth_protocol", "auth_protocol_id", "certificate", "device", "dst_endpoint",
		"http_request", "is_cleartext", "is_mfa", "is_new_logon", "is_remote", "logon_process", "logon_type",
		"logon_type_id", "service", "session", "src_endpoint", "user"},
	3001: {"actor", "device", "http_request", "policy", "src_endpoint", "user", "user_result"},
	3004: {"access_list", "access_mask", "actor", "comment", "device", "entity", "entity_result", "http_request",
		"src_endpoint"},
	4001: {"action", "action_id", "actor", "app_name", "attacks", "authorizations", "connection_info", "device",
		"disposition", "disposition_id", "dst_endpoint", "firewall_rule", "ja4_fingerprint_list", "load_balancer",
		"malware", "proxy", "proxy_connection_info", "proxy_endpoint", "proxy_http_request", "proxy_http_response",
		"proxy_tls", "proxy_traffic", "src_endpoint", "tls", "traffic", "url"},
	6002: {"actor", "app", "device"},
}

// ocsfWant is the class and activity each event type maps to.
var ocsfWant = map[EventType][2]float64{
	Logon: {3002, 1}, Logoff: {3002, 2}, SessionStart: {3002, 1},
	ChannelOpen: {4001, 1}, ChannelClose: {4001, 2}, ChannelReject: {4001, 5},
	ServerStart: {6002, 3}, ServerStop: {6002, 4},
	UserChange: {3001, 99}, AccessChange: {3001, 99},
	NoConsentOverride: {3004, 3}, DataRead: {3004, 2}, SystemConfigChange: {3004, 3}, AuditConfigChange: {3004, 3},
	FileStart: {0, 99}, TornRecord: {0, 99}, RetentionPrune: {0, 99}, Checkpoint: {0, 99}, FileReplaced: {0, 99},
}

// atLeastOne checks that obj, an object at path, has one of keys.
func atLeastOne(t *testing.T, obj any, path string, keys ...string) {
	t.Helper()
	m, ok := obj.(map[string]any)
	require.True(t, ok, "%s is an object", path)
	for _, k := range keys {
		if _, ok := m[k]; ok {
			return
		}
	}
	require.Failf(t, "constraint", "%s has none of %v", path, keys)
}

// TestOCSFSchema checks every event type and outcome, with every field set
// and with only the fields the type requires, against the classes, enums,
// required attributes and constraints of OCSF 1.3.0.
func TestOCSFSchema(t *testing.T) {
	require.Len(t, ocsfWant, int(numEventTypes)-1, "every event type has a class")
	for typ := EventType(1); typ < numEventTypes; typ++ {
		for _, o := range []Outcome{Succeeded, Failed} {
			full := Record{Seq: 4, Module: "AgentServer", Event: Event{
				Time: testTime, Type: typ, Outcome: o, Actor: "alice", Subject: "bob", Object: "obj",
				Client: "10.1.2.3:5060", Session: "S-1", Reason: "why",
			}}
			least := Record{Seq: 4, Module: "AgentServer", Event: Event{Time: testTime, Type: typ, Outcome: o}}
			for _, name := range eventTypeInfo[typ].requires {
				*standardValues(&least.Event)[standardIndex(name)] = "x"
			}
			t.Run(typ.String()+" "+o.String(), func(t *testing.T) { checkOCSFSchema(t, full, true) })
			t.Run(typ.String()+" "+o.String()+" required fields only", func(t *testing.T) { checkOCSFSchema(t, least, false) })
		}
	}
}

// checkOCSFSchema checks the OCSF rendering of r against the schema; full
// says whether r has every standard field, with the values of
// TestOCSFSchema.
func checkOCSFSchema(t *testing.T, r Record, full bool) {
	typ, o := r.Event.Type, r.Event.Outcome
	line, err := defaultOCSF.Append(nil, &r)
	require.NoError(t, err)
	require.True(t, json.Valid(line))
	var m map[string]any
	require.NoError(t, json.Unmarshal(line, &m))

	want := ocsfWant[typ]
	class, activity := m["class_uid"].(float64), m["activity_id"].(float64)
	require.Equal(t, want, [2]float64{class, activity})
	s, ok := ocsfSchema[class]
	require.True(t, ok)
	require.Equal(t, s.name, m["class_name"])
	require.Equal(t, s.categoryUID, m["category_uid"])
	require.Equal(t, s.category, m["category_name"])
	require.Equal(t, class*100+activity, m["type_uid"])
	if activity == 99 {
		require.Equal(t, s.name+": Other", m["type_name"])
	} else {
		require.LessOrEqual(t, int(activity), len(s.activities))
		require.Equal(t, s.activities[int(activity)-1], m["activity_name"])
		require.Equal(t, s.name+": "+s.activities[int(activity)-1], m["type_name"])
	}
	for _, k := range append([]string{"class_uid", "category_uid", "activity_id", "type_uid", "time",
		"severity_id", "metadata"}, s.required...) {
		require.Contains(t, m, k, "required attribute")
	}
	for _, keys := range s.atLeastOne {
		atLeastOne(t, m, "the event", keys...)
	}
	for k := range m {
		require.True(t, slices.Contains(ocsfAttributes[0], k) || slices.Contains(ocsfAttributes[class], k),
			"%s is not an attribute of %s", k, s.name)
	}

	status := map[Outcome]float64{Succeeded: 1, Failed: 2}[o]
	require.Equal(t, status, m["status_id"])
	require.Equal(t, map[float64]string{1: "Success", 2: "Failure"}[status], m["status"])
	sev := m["severity_id"].(float64)
	require.Contains(t, []float64{1, 2, 3, 4, 5}, sev)
	require.Equal(t, map[float64]string{1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}[sev], m["severity"])
	require.Equal(t, float64(testTime.UnixMilli()), m["time"])
	require.Equal(t, "2026-11-25T09:14:40.123456Z", m["time_dt"])

	md := m["metadata"].(map[string]any)
	require.Equal(t, OCSFVersion, md["version"])
	require.Equal(t, []any{"datetime"}, md["profiles"])
	require.Equal(t, typ.String(), md["event_code"])
	require.Equal(t, float64(4), md["sequence"])
	prod := md["product"].(map[string]any)
	require.Equal(t, DefaultVendor, prod["vendor_name"])
	require.Equal(t, DefaultProduct, prod["name"])
	require.Equal(t, "AgentServer", prod["feature"].(map[string]any)["name"])

	if a, ok := m["actor"]; ok {
		atLeastOne(t, a, "actor", "process", "user", "invoked_by", "session", "app_name", "app_uid")
		atLeastOne(t, a.(map[string]any)["user"], "actor.user", "account", "name", "uid")
	}
	if u, ok := m["user"]; ok {
		atLeastOne(t, u, "user", "account", "name", "uid")
	}
	if e, ok := m["entity"]; ok {
		atLeastOne(t, e, "entity", "name", "uid", "device", "group", "org", "policy", "user")
	}
	if sv, ok := m["service"]; ok {
		atLeastOne(t, sv, "service", "name", "uid")
	}
	for _, ep := range []string{"src_endpoint", "dst_endpoint"} {
		if v, ok := m[ep]; ok {
			atLeastOne(t, v, ep, "ip", "uid", "name", "hostname", "svc_name", "instance_uid", "interface_uid", "interface_name")
		}
	}
	if app, ok := m["app"]; ok {
		require.Contains(t, app, "vendor_name", "product.vendor_name is required")
	}
	if full {
		require.Equal(t, "why", m["status_detail"])
		if class == 0 {
			require.Equal(t, "alice", m["unmapped"].(map[string]any)["actor"])
		} else {
			require.Contains(t, m, "actor")
		}
		if class != 6002 && class != 0 {
			require.Equal(t, map[string]any{"ip": "10.1.2.3", "port": float64(5060)}, m["src_endpoint"])
		} else {
			require.Equal(t, "10.1.2.3:5060", m["unmapped"].(map[string]any)["client"])
		}
	}

	got, err := ParseOCSF(line)
	if typ == ChannelReject && o == Succeeded {
		require.ErrorIs(t, err, ErrBadRecord)
		return
	}
	require.NoError(t, err)
	require.Equal(t, r, got)
}

// TestOCSFClient checks the client in src_endpoint, or in unmapped when
// the class has no src_endpoint.
func TestOCSFClient(t *testing.T) {
	for _, tc := range []struct {
		typ          EventType
		client, want string
	}{
		{ChannelOpen, "10.1.2.3", `"src_endpoint":{"ip":"10.1.2.3"}`},
		{ChannelOpen, "[2001:db8::1]:443", `"src_endpoint":{"ip":"2001:db8::1","port":443}`},
		{ChannelOpen, "console", `"src_endpoint":{"name":"console"}`},
		{ChannelOpen, "10.1.2.3:05060", `"src_endpoint":{"name":"10.1.2.3:05060"}`},
		{ServerStart, "10.1.2.3", `"unmapped":{"client":"10.1.2.3"}`},
	} {
		r := cefRecord(tc.client)
		r.Event.Type = tc.typ
		line, err := defaultOCSF.Append(nil, &r)
		require.NoError(t, err)
		require.Contains(t, string(line), tc.want)
		got, err := ParseOCSF(line)
		require.NoError(t, err, "line %s", line)
		require.Equal(t, r, got)
	}
}

func TestNewOCSFFormatter(t *testing.T) {
	f, err := NewOCSFFormatter("Acme \"Corp\"", "Call Center", "7.2")
	require.NoError(t, err)
	r := Record{Seq: 1, Module: "CallServer", Event: Event{Time: testTime, Type: ServerStart, Outcome: Succeeded}}
	line, err := f.Append(nil, &r)
	require.NoError(t, err)
	require.Contains(t, string(line), `"product":{"name":"Call Center","vendor_name":"Acme \"Corp\"","version":"7.2","feature":{"name":"CallServer"}}`)
	require.Contains(t, string(line), `"app":{"name":"CallServer","vendor_name":"Acme \"Corp\""}`)
	got, err := ParseOCSF(line)
	require.NoError(t, err)
	require.Equal(t, r, got)
	got, err = f.Parse(line)
	require.NoError(t, err)
	require.Equal(t, r, got)
	_, err = NewOCSFFormatter("v", "", "1")
	require.ErrorIs(t, err, ErrBadConfig)
	_, err = NewOCSFFormatter("v\n", "p", "1")
	require.ErrorIs(t, err, ErrBadConfig)
}

// TestOCSFRegistered checks that a Logger writes OCSF by name and that
// ParseRecord tells OCSF from JSON.
func TestOCSFRegistered(t *testing.T) {
	f, err := LookupFormatter("ocsf")
	require.NoError(t, err)
	require.Same(t, defaultOCSF, f)

	var out bytes.Buffer
	l, err := New(Config{Module: "AgentServer", Formatter: "OCSF", Output: &out, Now: func() time.Time { return testTime }})
	require.NoError(t, err)
	require.NoError(t, l.Log(context.Background(), Event{Type: Logon, Outcome: Failed, Actor: "mallory", Client: "203.0.113.9", Reason: "invalid password"}))
	require.NoError(t, l.Close())
	line := bytes.TrimSuffix(out.Bytes(), []byte("\n"))
	require.True(t, json.Valid(line))
	r, err := ParseRecord(line)
	require.NoError(t, err)
	require.Equal(t, Record{Seq: 1, Module: "AgentServer", Event: Event{Time: testTime, Type: Logon, Outcome: Failed,
		Actor: "mallory", Client: "203.0.113.9", Reason: "invalid password"}}, r)

	_, err = New(Config{Module: "AgentServer", Formatter: "OCSF", Output: &out, Integrity: true})
	require.ErrorIs(t, err, ErrBadConfig)
}

// ocsfBase is a valid OCSF line that the error cases change.
var ocsfBase = func() string {
	r := Record{Seq: 3, Module: "AgentServer", Event: Event{Time: testTime, Type: Logon, Outcome: Failed, Actor: "alice"}}
	line, err := defaultOCSF.Append(nil, &r)
	if err != nil {
		panic(err)
	}
	return string(line)
}()

var ocsfErrorCases = []parseErrorCase{
	{"empty", "", "byte 0: empty line"},
	{"not an object", `[]`, `want '{'`},
	{"trailing bytes", ocsfBase + "x", `unexpected 'x' after the object`},
	{"unterminated", ocsfBase[:len(ocsfBase)-1], "line ends before"},
	{"no event code", strings.Replace(ocsfBase, `"event_code":"LOGON",`, "", 1), "missing metadata.event_code"},
	{"unknown event code", strings.Replace(ocsfBase, `"event_code":"LOGON"`, `"event_code":"LOGIN"`, 1), `unknown event type "LOGIN"`},
	{"wrong class", strings.Replace(ocsfBase, `"class_uid":3002`, `"class_uid":3001`, 1), "not as the formatter writes"},
	{"service not the module", strings.Replace(ocsfBase, `"service":{"name":"AgentServer"}`, `"service":{"name":"WebServer"}`, 1), "not as the formatter writes"},
	{"library record as event log", `{"class_uid":1008,"class_name":"Event Log Activity","category_uid":1,"category_name":"System Activity","activity_id":99,"activity_name":"Torn Record","type_uid":100899,"type_name":"Event Log Activity: Other","severity_id":4,"severity":"High","status_id":2,"status":"Failure","time":1795598080123,"time_dt":"2026-11-25T09:14:40.123456Z","metadata":{"version":"1.3.0","product":{"name":"audit","vendor_name":"auditkit","version":"1","feature":{"name":"AgentServer"}},"profiles":["datetime"],"event_code":"TORN_RECORD","sequence":3}}`, "not as the formatter writes"},
	{"wrong activity", strings.Replace(ocsfBase, `"activity_id":1,`, `"activity_id":2,`, 1), "not as the formatter writes"},
	{"status other", strings.Replace(ocsfBase, `"status_id":2`, `"status_id":99`, 1), "status_id 99"},
	{"no time", strings.Replace(ocsfBase, `"time_dt":"2026-11-25T09:14:40.123456Z",`, "", 1), "missing time_dt"},
	{"wrong time", strings.Replace(ocsfBase, `"time":1795598080123`, `"time":1795598080124`, 1), "not as the formatter writes"},
	{"bad sequence", strings.Replace(ocsfBase, `"sequence":3`, `"sequence":"3"`, 1), "not as the formatter writes"},
	{"seq 0", strings.Replace(ocsfBase, `"sequence":3`, `"sequence":0`, 1), "seq 0"},
	{"negative sequence", strings.Replace(ocsfBase, `"sequence":3`, `"sequence":-3`, 1), "metadata.sequence"},
	{"bad module", strings.Replace(ocsfBase, `"feature":{"name":"AgentServer"}`, `"feature":{"name":"Agent Server"}`, 1), `module "Agent Server"`},
	{"no actor", strings.Replace(ocsfBase, `"actor":{"user":{"name":"alice"}},`, "", 1), "LOGON record without actor"},
	{"unknown member", strings.Replace(ocsfBase, `"actor":`, `"device":{"name":"x"},"actor":`, 1), `unknown member "device.name"`},
	{"duplicate member", strings.Replace(ocsfBase, `"status_id":2`, `"status_id":2,"status_id":2`, 1), `duplicate member "status_id"`},
	{"bad unmapped key", ocsfBase[:len(ocsfBase)-1] + `,"unmapped":{"a b":"1"}}`, "unmapped member"},
	{"standard unmapped key", ocsfBase[:len(ocsfBase)-1] + `,"unmapped":{"reason":"root"}}`, `unmapped member: key "reason" is a standard field`},
	{"unmapped actor of a class with actor", ocsfBase[:len(ocsfBase)-1] + `,"unmapped":{"actor":"root"}}`, "not as the formatter writes"},
	{"space", strings.Replace(ocsfBase, `{"class_uid"`, `{ "class_uid"`, 1), "want a key string"},
	{"bool value", strings.Replace(ocsfBase, `"status_id":2`, `"status_id":true`, 1), "want a string, number"},
	{"deep nesting", strings.Replace(ocsfBase, `"actor":{"user":{"name":"alice"}}`, `"actor":{"user":{"name":{"a":{"b":{"c":{}}}}}}`, 1), "nested too deep"},
	{"newline", strings.Replace(ocsfBase, `"alice"`, "\"al\nice\"", 1), "newline in record"},
}

func TestParseOCSFErrors(t *testing.T) {
	_, err := ParseOCSF([]byte(ocsfBase))
	require.NoError(t, err, "the base line is valid")
	for _, tc := range ocsfErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseOCSF([]byte(tc.line))
			require.ErrorIs(t, err, ErrBadRecord)
			require.Contains(t, err.Error(), tc.want)
			require.True(t, strings.HasPrefix(err.Error(), "audit: malformed record: ocsf byte "), err.Error())
		})
	}
}

// TestOCSFSeverity checks the mapping of CEF severities to OCSF's.
func TestOCSFSeverity(t *testing.T) {
	var got []int
	for cef := 0; cef <= 10; cef++ {
		id, _ := ocsfSeverity(cef)
		got = append(got, id)
	}
	require.Equal(t, []int{1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5}, got)
	require.True(t, slices.IsSorted(got))
}
