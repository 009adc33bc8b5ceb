package audit

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// Mask selects which categories of events a [Logger] writes. It is a set of
// bits, one per category token of the product's AuditEventMask parameter.
//
// The zero Mask written in a [Config] means [DefaultMask]. A Mask is a plain
// value; a [Logger] holds its mask atomically, so [Logger.SetMask] may change
// it while other goroutines log.
type Mask uint8

// The categories of a [Mask], in the canonical token order of [Mask.String].
const (
	// PresenceEvents: logons and logoffs, session starts, channels opened,
	// closed or rejected (token "presence").
	PresenceEvents Mask = 1 << iota
	// FailureEvents: every event whose outcome is [Failed], whatever its
	// category (token "failure").
	FailureEvents
	// SystemEvents: server process start and stop, and the library's own
	// records about its files (token "system").
	SystemEvents
	// ConfigEvents: changes to the system and audit configuration
	// (token "config").
	ConfigEvents
	// ReadEvents: access to protected user data (token "read").
	ReadEvents
	// ModifyEvents: changes to user information and access rights, and an
	// agent overriding a customer's no-consent to recording (token "modify").
	ModifyEvents
)

// AllEvents holds every category (token "all").
const AllEvents = PresenceEvents | FailureEvents | SystemEvents | ConfigEvents | ReadEvents | ModifyEvents

// DefaultMask is the product's default AuditEventMask,
// presence+failure+system+config.
const DefaultMask = PresenceEvents | FailureEvents | SystemEvents | ConfigEvents

// ErrBadMask is wrapped by every error of [ParseMask] and
// [Mask.UnmarshalText].
var ErrBadMask = errors.New("invalid event mask")

var maskTokens = [...]struct {
	name string
	bit  Mask
}{
	{"presence", PresenceEvents},
	{"failure", FailureEvents},
	{"system", SystemEvents},
	{"config", ConfigEvents},
	{"read", ReadEvents},
	{"modify", ModifyEvents},
}

// validMaskTokens lists the accepted tokens for error messages.
const validMaskTokens = "presence, failure, system, config, read, modify, all"

// ParseMask parses an AuditEventMask value: tokens joined by '+', matched
// without regard to case, with spaces around a token ignored. The token "all"
// stands for [AllEvents]. An empty string, an empty token or an unknown token
// is an error that wraps [ErrBadMask] and names the bad token.
func ParseMask(s string) (Mask, error) {
	m, err := parseMask(s)
	if err != nil {
		return 0, fmt.Errorf("audit: event mask %q: %w", s, err)
	}
	return m, nil
}

// parseMask is ParseMask with an error that says only what is wrong, for
// errors that name the value themselves.
func parseMask(s string) (Mask, error) {
	if strings.TrimSpace(s) == "" {
		return 0, fmt.Errorf("%w: empty (valid tokens: %s)", ErrBadMask, validMaskTokens)
	}
	var m Mask
	rest := s
	for {
		tok, tail, more := strings.Cut(rest, "+")
		m1, ok := lookupMaskToken(strings.TrimSpace(tok))
		if !ok {
			if strings.TrimSpace(tok) == "" {
				return 0, fmt.Errorf("%w: empty token (valid tokens: %s)", ErrBadMask, validMaskTokens)
			}
			return 0, fmt.Errorf("%w: unknown token %q (valid tokens: %s)", ErrBadMask, strings.TrimSpace(tok), validMaskTokens)
		}
		m |= m1
		if !more {
			return m, nil
		}
		rest = tail
	}
}

func lookupMaskToken(tok string) (Mask, bool) {
	if strings.EqualFold(tok, "all") {
		return AllEvents, true
	}
	for _, t := range maskTokens {
		if strings.EqualFold(tok, t.name) {
			return t.bit, true
		}
	}
	return 0, false
}

// String returns the canonical form of m: its tokens in the fixed order
// presence, failure, system, config, read, modify, joined by '+'. The empty
// mask is "" (which [ParseMask] rejects: a configured mask is never empty).
// For every non-empty m, ParseMask(m.String()) == m.
func (m Mask) String() string {
	b, _ := m.AppendText(make([]byte, 0, 48))
	return string(b)
}

// AppendText implements [encoding.TextAppender]; it appends [Mask.String].
func (m Mask) AppendText(b []byte) ([]byte, error) {
	first := true
	for _, t := range maskTokens {
		if m&t.bit == 0 {
			continue
		}
		if !first {
			b = append(b, '+')
		}
		b = append(b, t.name...)
		first = false
	}
	return b, nil
}

// MarshalText implements [encoding.TextMarshaler]. An empty mask marshals as
// an error, since it would not parse back.
func (m Mask) MarshalText() ([]byte, error) {
	if m&AllEvents == 0 {
		return nil, fmt.Errorf("audit: event mask: %w: empty mask", ErrBadMask)
	}
	return m.AppendText(nil)
}

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseMask].
func (m *Mask) UnmarshalText(text []byte) error {
	v, err := ParseMask(string(text))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Set implements [flag.Value] with [ParseMask].
func (m *Mask) Set(s string) error { return m.UnmarshalText([]byte(s)) }

// Has reports whether m holds every category of c.
func (m Mask) Has(c Mask) bool { return m&c == c }

var (
	_ flag.Value = (*Mask)(nil)
)
