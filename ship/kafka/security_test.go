package kafka

import (
	"errors"
	"fmt"
	neturl "net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/auditkit/audit/internal/testpki"
	"github.com/auditkit/audit/ship"
)

func TestParseURLOptions(t *testing.T) {
	tests := []struct {
		url  string
		want Target
	}{
		{url: "kafka+tls://b1,b2:9093/audit", want: Target{Brokers: []string{"b1:9092", "b2:9093"}, Topic: "audit", TLS: true}},
		{url: "kafka+tls://b1/t?ca=/etc/ca.pem&cert=c.pem&key=k.pem&servername=kafka.example.net",
			want: Target{Brokers: []string{"b1:9092"}, Topic: "t", TLS: true, CAFile: "/etc/ca.pem", CertFile: "c.pem", KeyFile: "k.pem", ServerName: "kafka.example.net"}},
		{url: "kafka+tls://b1/t?sasl=SCRAM-SHA-512&user=shipper&password-file=/etc/pw",
			want: Target{Brokers: []string{"b1:9092"}, Topic: "t", TLS: true, SASL: SASLScramSHA512, User: "shipper", PasswordFile: "/etc/pw"}},
		{url: "kafka://b1/t?sasl=scram-sha-256&user=a%20b",
			want: Target{Brokers: []string{"b1:9092"}, Topic: "t", SASL: SASLScramSHA256, User: "a b"}},
		{url: "kafka+tls://b1/t?sasl=plain&user=u",
			want: Target{Brokers: []string{"b1:9092"}, Topic: "t", TLS: true, SASL: SASLPlain, User: "u"}},
		{url: "kafka://b1/t?sasl=plain&user=u&cleartext=allow",
			want: Target{Brokers: []string{"b1:9092"}, Topic: "t", SASL: SASLPlain, User: "u", AllowCleartext: true}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := ParseURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseURLBadOptions(t *testing.T) {
	tests := []struct{ url, want string }{
		{"kafkatls://b1/t", "want kafka://broker1,broker2/topic or kafka+tls://"},
		{"kafka+tls://b1/t?acks=1", `unknown option "acks"`},
		{"kafka+tls://b1/t?ca=a&ca=b", `option "ca" wants one value`},
		{"kafka+tls://b1/t?ca=", `option "ca" wants one value`},
		{"kafka+tls://b1/t?ca=%zz", "query:"},
		{"kafka://b1/t?ca=ca.pem", "apply to kafka+tls:// only"},
		{"kafka://b1/t?servername=x", "apply to kafka+tls:// only"},
		{"kafka+tls://b1/t?cert=c.pem", "cert and key go together"},
		{"kafka+tls://b1/t?key=k.pem", "cert and key go together"},
		{"kafka+tls://b1/t?sasl=gssapi&user=u", `unknown sasl mechanism "gssapi"`},
		{"kafka+tls://b1/t?sasl=plain", "sasl=plain needs user="},
		{"kafka+tls://b1/t?user=u", "need a mechanism"},
		{"kafka+tls://b1/t?password-file=pw", "need a mechanism"},
		{"kafka+tls://b1/t?sasl=plain&user=u&password=secret", "a password does not go in the URL"},
		{"kafka+tls://u:secret@b1/t", "credentials do not go before the brokers"},
		{"kafka://b1/t?sasl=plain&user=u", "sasl=plain without TLS sends the password in clear"},
		{"kafka://b1/t?sasl=plain&user=u&cleartext=yes", `cleartext="yes": the only value is allow`},
		{"kafka+tls://b1/t?sasl=plain&user=u&cleartext=allow", "cleartext=allow applies to sasl=plain over kafka:// only"},
		{"kafka://b1/t?sasl=scram-sha-256&user=u&cleartext=allow", "cleartext=allow applies to sasl=plain over kafka:// only"},
		{"kafka+tls://b1/t?ca=x#frag", "and nothing else"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := ParseURL(tt.url)
			if !errors.Is(err, ship.ErrBadDestination) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v; want ErrBadDestination and %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("err %v names the password", err)
			}
		})
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"kafka://b1,b2:9093/audit",
		"kafka://[::1]:9000/a.b_c-d",
		"kafka+tls://b1/t?ca=ca.pem&cert=c.pem&key=k.pem&servername=n",
		"kafka+tls://b1/t?sasl=scram-sha-512&user=u&password-file=pw",
		"kafka://b1/t?sasl=plain&user=u&cleartext=allow",
		"kafka://b1/t?sasl=plain&user=u&password=p",
		"kafka://u:p@b1/t",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := ParseURL(raw)
		if err != nil {
			if !errors.Is(err, ship.ErrBadDestination) {
				t.Fatalf("err %v does not wrap ErrBadDestination", err)
			}
			return
		}
		if len(got.Brokers) == 0 || got.Topic == "" {
			t.Fatalf("%q: no brokers or topic: %+v", raw, got)
		}
		if got.SASL == SASLPlain && !got.TLS && !got.AllowCleartext {
			t.Fatalf("%q: PLAIN in clear without cleartext=allow", raw)
		}
		if got.SASL != "" && got.User == "" || (got.CertFile == "") != (got.KeyFile == "") {
			t.Fatalf("%q: incomplete options %+v", raw, got)
		}
		again, err := ParseURL(got.String())
		if err != nil {
			t.Fatalf("String %q of %q does not parse: %v", got, raw, err)
		}
		if fmt.Sprint(again.Brokers) != fmt.Sprint(got.Brokers) || again.Topic != got.Topic || again.TLS != got.TLS {
			t.Fatalf("%q parses to %+v, its String %q to %+v", raw, got, got.String(), again)
		}
	})
}

// TestOpenFiles checks that Open and NewCollector read the files the URL
// names, and say which one is wrong.
func TestOpenFiles(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.New(t, "files")
	client := ca.Client(t, "client")
	other := ca.Client(t, "other")
	notPEM := filepath.Join(dir, "not.pem")
	writeFile(t, notPEM, "not a certificate\n", 0o600)
	missing := filepath.Join(dir, "missing.pem")
	pw := filepath.Join(dir, "pw")
	writeFile(t, pw, "secret\n", 0o600)
	pwOpen := filepath.Join(dir, "pw-open")
	writeFile(t, pwOpen, "secret\n", 0o640)
	pwEmpty := filepath.Join(dir, "pw-empty")
	writeFile(t, pwEmpty, "\n", 0o600)
	q := neturl.QueryEscape
	base := "kafka+tls://127.0.0.1:1/t?"
	scram := base + "sasl=scram-sha-256&user=u"
	tests := []struct {
		url, password, want string
	}{
		{url: base + "ca=" + q(missing), want: "CA file: open " + missing},
		{url: base + "ca=" + q(notPEM), want: "CA file " + notPEM + ": no PEM certificate in it"},
		{url: base + "cert=" + q(missing) + "&key=" + q(client.KeyFile), want: "certificate file: open " + missing},
		{url: base + "cert=" + q(client.CertFile) + "&key=" + q(missing), want: "key file: open " + missing},
		{url: base + "cert=" + q(client.CertFile) + "&key=" + q(other.KeyFile), want: "certificate file " + client.CertFile + " and key file " + other.KeyFile + ": tls: private key does not match public key"},
		{url: scram + "&password-file=" + q(missing), want: "password file: open " + missing},
		{url: scram + "&password-file=" + q(pwOpen), want: "password file " + pwOpen + ": group or others may read or write it (mode -rw-r-----)"},
		{url: scram + "&password-file=" + q(pwEmpty), want: "password file " + pwEmpty + ": empty"},
		{url: scram + "&password-file=" + q(dir), want: "password file " + dir + ": not a regular file"},
		{url: scram + "&password-file=" + q(pw), password: "secret", want: "a password is given twice"},
		{url: scram, want: "sasl=scram-sha-256 needs a password"},
		{url: base + "ca=" + q(ca.File), password: "secret", want: "a password is given but the URL names no mechanism"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := Open(tt.url, Config{Password: tt.password})
			if !errors.Is(err, ship.ErrBadDestination) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v; want ErrBadDestination and %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("Open: %v names the password", err)
			}
			_, err = NewCollector(tt.url, "g", t.TempDir(), Config{Password: tt.password})
			if !errors.Is(err, ship.ErrBadDestination) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewCollector: %v; want ErrBadDestination and %q", err, tt.want)
			}
		})
	}
	for _, url := range []string{
		base + "ca=" + q(ca.File) + "&cert=" + q(client.CertFile) + "&key=" + q(client.KeyFile),
		scram + "&password-file=" + q(pw),
	} {
		d, err := Open(url, Config{})
		if err != nil {
			t.Fatal(err)
		}
		d.Close()
	}
	d, err := Open(scram, Config{Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}

func writeFile(t testing.TB, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}
