package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// SASL mechanisms of [Target.SASL].
const (
	SASLPlain       = "plain"
	SASLScramSHA256 = "scram-sha-256"
	SASLScramSHA512 = "scram-sha-512"
)

// maxPasswordFileSize bounds a password file: a password is short, and a
// file much larger is not one.
const maxPasswordFileSize = 4096

// parseOptions sets t's options from the query of its URL. It reads no
// file: [Target.clientOptions] does.
func (t *Target) parseOptions(query string) error {
	q, err := url.ParseQuery(query)
	if err != nil {
		return fmt.Errorf("query: %v", err)
	}
	var cleartext string
	fields := map[string]*string{
		"ca": &t.CAFile, "cert": &t.CertFile, "key": &t.KeyFile, "servername": &t.ServerName,
		"sasl": &t.SASL, "user": &t.User, "password-file": &t.PasswordFile, "cleartext": &cleartext,
	}
	for k, vs := range q {
		if k == "password" {
			return errors.New("a password does not go in the URL, where ps and logs show it: name a file with password-file= or give Config.Password")
		}
		field, ok := fields[k]
		if !ok {
			return fmt.Errorf("unknown option %q", k)
		}
		if len(vs) != 1 || vs[0] == "" {
			return fmt.Errorf("option %q wants one value", k)
		}
		*field = vs[0]
	}
	if !t.TLS && (t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "") {
		return errors.New("ca, cert, key and servername apply to kafka+tls:// only")
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return errors.New("cert and key go together: give both or neither")
	}
	switch t.SASL = strings.ToLower(t.SASL); t.SASL {
	case "":
		if t.User != "" || t.PasswordFile != "" {
			return errors.New("user and password-file need a mechanism: sasl=plain, scram-sha-256 or scram-sha-512")
		}
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
		if t.User == "" {
			return fmt.Errorf("sasl=%s needs user=", t.SASL)
		}
	default:
		return fmt.Errorf("unknown sasl mechanism %q: want plain, scram-sha-256 or scram-sha-512", t.SASL)
	}
	switch cleartext {
	case "":
	case "allow":
		if t.SASL != SASLPlain || t.TLS {
			return errors.New("cleartext=allow applies to sasl=plain over kafka:// only")
		}
		t.AllowCleartext = true
	default:
		return fmt.Errorf("cleartext=%q: the only value is allow", cleartext)
	}
	if t.SASL == SASLPlain && !t.TLS && !t.AllowCleartext {
		return errors.New("sasl=plain without TLS sends the password in clear: use kafka+tls://, or add cleartext=allow to accept that")
	}
	return nil
}

// clientOptions returns the client options of t's TLS and SASL, reading
// the files t names. password is [Config.Password].
func (t Target) clientOptions(password string) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if t.TLS {
		c, err := t.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(c))
	}
	if t.SASL == "" {
		if password != "" {
			return nil, errors.New("a password is given but the URL names no mechanism (sasl=)")
		}
		return opts, nil
	}
	switch {
	case t.PasswordFile != "" && password != "":
		return nil, errors.New("a password is given twice: in password-file= and in Config.Password")
	case t.PasswordFile != "":
		var err error
		if password, err = readPasswordFile(t.PasswordFile); err != nil {
			return nil, err
		}
	case password == "":
		return nil, fmt.Errorf("sasl=%s needs a password: name a file with password-file= or give Config.Password", t.SASL)
	}
	var m kgo.Opt
	switch t.SASL {
	case SASLPlain:
		m = kgo.SASL(plain.Auth{User: t.User, Pass: password}.AsMechanism())
	case SASLScramSHA256:
		m = kgo.SASL(scram.Auth{User: t.User, Pass: password}.AsSha256Mechanism())
	default:
		m = kgo.SASL(scram.Auth{User: t.User, Pass: password}.AsSha512Mechanism())
	}
	return append(opts, m), nil
}

// tlsConfig returns the TLS configuration of t: TLS 1.2 at least, the
// brokers verified against the CA file (the system's roots without one),
// the client certificate when t names one. The core module's TLS
// destinations build theirs alike; it is not exported from there.
func (t Target) tlsConfig() (*tls.Config, error) {
	// An empty ServerName is set to each broker's host when it is dialled.
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		data, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it", t.CAFile)
		}
	}
	if t.CertFile != "" {
		certPEM, err := os.ReadFile(t.CertFile)
		if err != nil {
			return nil, fmt.Errorf("certificate file: %w", err)
		}
		keyPEM, err := os.ReadFile(t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("key file: %w", err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("certificate file %s and key file %s: %w", t.CertFile, t.KeyFile, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// readPasswordFile returns the password in path: the file's content
// without one trailing line end. It refuses anything but a regular file
// that only its owner may read or write, and a file that holds no
// password.
func readPasswordFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("password file %s: not a regular file (mode %v)", path, st.Mode())
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("password file %s: group or others may read or write it (mode %v): allow its owner only (chmod 600)", path, st.Mode().Perm())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPasswordFileSize+1))
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	if len(data) > maxPasswordFileSize {
		return "", fmt.Errorf("password file %s: more than %d bytes", path, maxPasswordFileSize)
	}
	p := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	if p == "" {
		return "", fmt.Errorf("password file %s: empty", path)
	}
	return p, nil
}
