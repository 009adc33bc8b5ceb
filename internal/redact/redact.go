// Package redact hides the secrets of destination URLs in error texts, for
// the shipping packages.
package redact

import "strings"

// URL returns raw with the user information of its authority (a user name,
// a password or a token before an '@') and the value of a "password" option
// replaced by "xxxxx", so that an error naming a refused URL does not carry
// a secret into logs. It works on the text, so that a URL that does not
// parse is redacted too.
func URL(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	start := i + len("://")
	end := len(raw)
	if j := strings.IndexAny(raw[start:], "/?#"); j >= 0 {
		end = start + j
	}
	if at := strings.LastIndexByte(raw[start:end], '@'); at >= 0 {
		raw = raw[:start] + "xxxxx" + raw[start+at:]
	}
	q := strings.IndexByte(raw, '?')
	if q < 0 {
		return raw
	}
	opts := strings.Split(raw[q+1:], "&")
	for k, opt := range opts {
		if name, _, ok := strings.Cut(opt, "="); ok && strings.EqualFold(name, "password") {
			opts[k] = name + "=xxxxx"
		}
	}
	return raw[:q+1] + strings.Join(opts, "&")
}
