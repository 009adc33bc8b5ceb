package ship

import (
	"testing"

	"github.com/auditkit/audit/internal/testpki"
)

// testCerts are a CA, a server certificate for 127.0.0.1 and a client
// certificate made by the test, as PEM files.
type testCerts struct {
	caFile, serverCert, serverKey, clientCert, clientKey string
}

func makeCerts(t testing.TB) *testCerts {
	t.Helper()
	ca := testpki.New(t, "audit-test")
	server := ca.Server(t, "127.0.0.1")
	client := ca.Client(t, "audit-shipper")
	return &testCerts{caFile: ca.File, serverCert: server.CertFile, serverKey: server.KeyFile,
		clientCert: client.CertFile, clientKey: client.KeyFile}
}
