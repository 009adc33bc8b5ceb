package audit

import "context"

// Request holds the fields of an audit event that a server knows once per
// request: who acts, from where, in which session. A server's middleware
// puts them in the request's context with [WithRequest], and [Logger.Log]
// fills an event's empty Actor, Client and Session from the context it is
// given, so that handlers log events without passing them along.
type Request struct {
	Actor   string // who acts: the authenticated user or agent
	Client  string // the remote address
	Session string // the session
}

// requestKey is the context key of a Request.
type requestKey struct{}

// WithRequest returns a copy of ctx that carries r. Fields of r that are
// empty leave those of a Request already in ctx in place.
func WithRequest(ctx context.Context, r Request) context.Context {
	if prev, ok := RequestFrom(ctx); ok {
		if r.Actor == "" {
			r.Actor = prev.Actor
		}
		if r.Client == "" {
			r.Client = prev.Client
		}
		if r.Session == "" {
			r.Session = prev.Session
		}
	}
	return context.WithValue(ctx, requestKey{}, &r)
}

// RequestFrom returns the Request that ctx carries, if any.
func RequestFrom(ctx context.Context) (Request, bool) {
	if ctx == nil {
		return Request{}, false
	}
	r, ok := ctx.Value(requestKey{}).(*Request)
	if !ok {
		return Request{}, false
	}
	return *r, true
}

// fillFromRequest sets e's empty Actor, Client and Session from the
// Request in ctx. It allocates nothing.
func fillFromRequest(ctx context.Context, e *Event) {
	if ctx == nil || e.Actor != "" && e.Client != "" && e.Session != "" {
		return
	}
	r, ok := ctx.Value(requestKey{}).(*Request)
	if !ok {
		return
	}
	if e.Actor == "" {
		e.Actor = r.Actor
	}
	if e.Client == "" {
		e.Client = r.Client
	}
	if e.Session == "" {
		e.Session = r.Session
	}
}
