package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/auditkit/audit"
)

var serveCommand = &command{
	name:    "serve",
	args:    "DIR [--addr 127.0.0.1:8080] [--key-dir D | --key-file F] [--token-file F]",
	summary: "a read-only web viewer of an audit directory, for auditors",
	details: `Serve shows the audit files in DIR in a web browser: an overview of each
module (records, time span, newest record and the integrity verdict), a
timeline of records per hour or day with failures apart from successes,
a search with the same filters as 'auditlog query' whose rows open the
full record (old and new values, file, line, seq), the reports of
'auditlog report', and the export of a search as CSV or JSON Lines. It
prints the URL to open on standard output, and runs until interrupted.

The viewer only reads DIR, as the other commands do; it never writes to it.
The overview's counts and verdicts are worked out in the background when
the viewer starts (the page shows their progress), so pages answer at
once however large DIR is; a search streams its rows as they are found,
100 to a page.

Verdicts are those of 'auditlog verify': --key-dir D names a directory
holding each module's ORIGINAL key as D/M.key, --key-file F the original
key of every module; without either a plain SHA-256 chain is checked.

Security: by default the viewer listens on 127.0.0.1 only, and answers only
requests addressed to a loopback name or address. Any other --addr (such as
0.0.0.0:8080 or a host's address) requires a token: with --token-file F the
token is the text of F (at least 16 characters, surrounding white space
ignored), otherwise a random token is generated and printed in the URL.
Every request without the token is refused (401): the first visit with
?token=T sets a cookie, and scripts may send "Authorization: Bearer T".
--token-file also protects a loopback address. There is no TLS: to reach
the viewer from another machine, prefer an SSH tunnel to the loopback
address, or put it behind a TLS proxy. Pages carry a Content-Security-Policy
that allows no script and no resource from elsewhere.`,
	flags: func(e *env, c *command, set *flag.FlagSet) func([]string) int {
		o := &serveOptions{}
		set.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen on `host:port`; a port of 0 picks a free one; an address that is not loopback requires a token")
		set.StringVar(&o.keyDir, "key-dir", "", "a `directory` holding each module's original key as M.key")
		set.StringVar(&o.keyFile, "key-file", "", "the original integrity key `file` of every module")
		set.StringVar(&o.tokenFile, "token-file", "", "require the token in this `file` (otherwise one is generated when the address is not loopback)")
		return func(args []string) int {
			if len(args) != 1 {
				return e.usageError(c, "want one directory, got %d arguments", len(args))
			}
			if o.keyFile != "" && o.keyDir != "" {
				return e.usageError(c, "give --key-file or --key-dir, not both")
			}
			o.dir = args[0]
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return e.serve(ctx, c, o)
		}
	},
}

// serveOptions are the flags of serve.
type serveOptions struct {
	dir       string
	addr      string
	keyDir    string
	keyFile   string
	tokenFile string
}

// minTokenLen is the shortest token accepted from --token-file.
const minTokenLen = 16

// serve runs the viewer until ctx ends.
func (e *env) serve(ctx context.Context, c *command, o *serveOptions) int {
	if fi, err := os.Stat(o.dir); err != nil || !fi.IsDir() {
		return e.errorf(c, "directory %s: %v", o.dir, notDirError(err))
	}
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return e.usageError(c, "--addr %s: want host:port", o.addr)
	}
	loopback := isLoopbackHost(host)
	token, err := serveToken(o.tokenFile, loopback)
	if err != nil {
		return e.errorf(c, "%v", err)
	}
	var keys keySource
	if o.keyFile != "" {
		if keys.file, err = audit.ReadKey(o.keyFile); err != nil {
			return e.errorf(c, "%v", err)
		}
	}
	keys.dir = o.keyDir
	s, err := newServer(e, o.dir, keys, token, loopback)
	if err != nil {
		return e.errorf(c, "%v", err)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		s.close()
		return e.errorf(c, "%v", cleanErr(err))
	}
	u := "http://" + ln.Addr().String() + "/"
	if token != "" && o.tokenFile == "" {
		u += "?token=" + url.QueryEscape(token)
	}
	fmt.Fprintln(e.stdout, u)
	switch {
	case token != "" && o.tokenFile == "":
		fmt.Fprintf(e.stderr, "auditlog: serve: read-only viewer of %s; the address is not loopback, so every request needs the generated token in the URL above\n", o.dir)
	case token != "":
		fmt.Fprintf(e.stderr, "auditlog: serve: read-only viewer of %s; every request needs the token of %s (open the URL with ?token=...)\n", o.dir, o.tokenFile)
	default:
		fmt.Fprintf(e.stderr, "auditlog: serve: read-only viewer of %s, on the loopback address only\n", o.dir)
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	status := exitOK
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		hs.Shutdown(sctx)
		cancel()
		<-done
	case err := <-done:
		fmt.Fprintf(e.stderr, "auditlog: serve: %v\n", err)
		status = exitUsage
	}
	s.close()
	return status
}

// serveToken returns the token every request must carry: the text of
// tokenFile if given, else a random one when the address is not loopback,
// else "" (none).
func serveToken(tokenFile string, loopback bool) (string, error) {
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return "", fmt.Errorf("token file: %w", cleanErr(err))
		}
		token := strings.TrimSpace(string(b))
		if len(token) < minTokenLen || strings.ContainsAny(token, " \t\r\n") {
			return "", fmt.Errorf("token file %s: want one word of at least %d characters", tokenFile, minTokenLen)
		}
		return token, nil
	}
	if loopback {
		return "", nil
	}
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b), nil
}

// isLoopbackHost reports whether host (of host:port) names only the
// loopback interface.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// keySource finds the original key of a module: the one of --key-file,
// or D/M.key for --key-dir D.
type keySource struct {
	file []byte
	dir  string
}

// key returns the key of module, nil for none.
func (k keySource) key(module string) ([]byte, error) {
	if k.dir == "" {
		return k.file, nil
	}
	key, err := audit.ReadKey(filepath.Join(k.dir, module+".key"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return key, err
}

// tokenCookie is the cookie that holds the token after a first visit
// with ?token=.
const tokenCookie = "auditlog_token"

// contentSecurityPolicy allows the pages nothing but their own style
// sheet: no script at all, no frame, no form sent elsewhere.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// ServeHTTP sets the security headers of every answer, refuses what is
// not a read, a request without the token when one is required, and on
// loopback a request for another host name (DNS rebinding), then serves
// the page.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "the viewer is read-only", http.StatusMethodNotAllowed)
		return
	}
	if s.token == "" {
		if s.loopback && !loopbackHostHeader(r.Host) {
			http.Error(w, "this viewer answers only requests to a loopback address", http.StatusForbidden)
			return
		}
	} else {
		q := r.URL.Query()
		if t := q.Get("token"); t != "" {
			if !s.tokenOK(t) {
				http.Error(w, "wrong token", http.StatusUnauthorized)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: s.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			q.Del("token")
			u := *r.URL
			u.RawQuery = q.Encode()
			http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
			return
		}
		if !s.authorized(r) {
			http.Error(w, "unauthorized: open the URL with the token that auditlog serve printed", http.StatusUnauthorized)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// authorized reports whether r carries the token in its cookie or its
// Authorization header.
func (s *server) authorized(r *http.Request) bool {
	if c, err := r.Cookie(tokenCookie); err == nil && s.tokenOK(c.Value) {
		return true
	}
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && s.tokenOK(t) {
		return true
	}
	return false
}

// tokenOK compares t with the token in constant time.
func (s *server) tokenOK(t string) bool {
	return subtle.ConstantTimeCompare([]byte(t), []byte(s.token)) == 1
}

// loopbackHostHeader reports whether the Host header names a loopback
// address, so that a page of another site whose name was made to resolve
// to 127.0.0.1 cannot read the viewer.
func loopbackHostHeader(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return isLoopbackHost(host)
}
