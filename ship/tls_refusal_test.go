package ship

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// expiredServer writes a server certificate for 127.0.0.1 signed by a new
// CA, valid only in the past, and returns the CA file and the pair.
func expiredServer(t *testing.T) (caFile string, cert tls.Certificate) {
	t.Helper()
	dir := t.TempDir()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, srvKey := key(), key()
	past := time.Now().Add(-48 * time.Hour)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "expired-test-ca"},
		NotBefore: past.Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "expired"},
		NotBefore: past.Add(-time.Hour), NotAfter: past, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return caFile, tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
}

// TestTLSRefusesUnverifiedServer checks that tls:// and relp+tls:// send
// nothing to a server whose certificate does not hold the name asked for
// (servername), has expired, or that does not speak TLS at all: the
// refusal is reported once, names the reason, and no byte of the record
// reaches the server.
func TestTLSRefusesUnverifiedServer(t *testing.T) {
	certs := makeCerts(t)
	good, err := tls.LoadX509KeyPair(certs.serverCert, certs.serverKey)
	if err != nil {
		t.Fatal(err)
	}
	expiredCA, expired := expiredServer(t)
	for _, scheme := range []string{"tls", "relp+tls"} {
		for _, tt := range []struct {
			name   string
			server *tls.Config // nil: a plain-text server
			ca     string
			query  string
			want   string
		}{
			{"name mismatch", &tls.Config{Certificates: []tls.Certificate{good}}, certs.caFile, "&servername=logs.example.net", "wanted to match logs.example.net"},
			{"expired", &tls.Config{Certificates: []tls.Certificate{expired}}, expiredCA, "", "expired"},
			{"plain-text server", nil, certs.caFile, "", "connect"},
		} {
			t.Run(scheme+"/"+tt.name, func(t *testing.T) {
				sink := startKeepingSink(t, tt.server)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var reported []error
				d, err := Open(Config{URL: scheme + "://" + sink.ln.Addr().String() + "?ca=" + tt.ca + tt.query,
					DialTimeout: 500 * time.Millisecond,
					OnError:     func(err error) { reported = append(reported, err); cancel() }})
				if err != nil {
					t.Fatal(err)
				}
				msgs := testMessages(1, 0)
				msgs[0].Line = []byte("personal data: caller +4930123456")
				n, err := d.Ship(ctx, msgs)
				d.Close()
				if n != 0 || err == nil {
					t.Fatalf("Ship = %d, %v; want nothing delivered", n, err)
				}
				if len(reported) != 1 || !strings.Contains(reported[0].Error(), tt.want) {
					t.Fatalf("reported %v, want one error saying %q", reported, tt.want)
				}
				sink.ln.Close()
				sink.wg.Wait()
				if got := sink.received(); strings.Contains(string(got), "+4930123456") {
					t.Fatalf("the server received the record in clear: %q", got)
				}
			})
		}
	}
}
