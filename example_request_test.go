package audit_test

import (
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/auditkit/audit"
)

// A server's middleware puts who calls, from where and in which session
// into the request's context once; handlers then log events without
// repeating those fields.
func ExampleWithRequest() {
	l, _ := audit.New(audit.Config{Module: "RestfulInterface", Output: os.Stdout, Now: clock,
		EventMask: audit.DefaultMask | audit.ReadEvents})
	defer l.Close()

	withAudit := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user, _, _ := r.BasicAuth()
			ctx := audit.WithRequest(r.Context(), audit.Request{
				Actor: user, Client: r.RemoteAddr, Session: r.Header.Get("X-Session")})
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	contacts := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		customer := r.PathValue("id")
		if err := l.Log(r.Context(), audit.Event{Type: audit.DataRead, Outcome: audit.Succeeded,
			Subject: customer, Object: "contact-history"}); err != nil {
			http.Error(w, "audit unavailable", http.StatusServiceUnavailable) // refuse what cannot be audited
			return
		}
		w.Write([]byte("..."))
	})
	mux := http.NewServeMux()
	mux.Handle("GET /customers/{id}/contacts", withAudit(contacts))

	req := httptest.NewRequest("GET", "/customers/customer-42/contacts", nil)
	req.SetBasicAuth("agent7", "secret")
	req.RemoteAddr = "10.1.2.3:50412"
	req.Header.Set("X-Session", "S-77")
	mux.ServeHTTP(httptest.NewRecorder(), req)
	// Output:
	// 2026-11-25T09:14:40.123456Z RestfulInterface DATA_READ SUCCESS seq=1 actor=agent7 subject=customer-42 object=contact-history client=10.1.2.3:50412 session=S-77
}
