package audit

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Formatter renders a [Record] as one line of an audit file.
//
// Append appends the rendering of r to dst and returns the extended buffer.
// It must not append a newline: the [Logger] ends every record with one, and
// refuses a rendering that contains '\n' or '\r', so that no field content can
// split a record or forge another. Append must not keep r or dst, and must be
// safe for concurrent use.
type Formatter interface {
	Append(dst []byte, r *Record) ([]byte, error)
}

// Parser is implemented by a [Formatter] whose lines can be read back. The
// built-in formats implement it, so that tools can read any audit file.
// Parse takes one line without its newline.
type Parser interface {
	Parse(line []byte) (Record, error)
}

// Names of the built-in formats, as accepted by AuditLogFormatter.
const (
	// FormatBCM is the default line format; see [ParseBCM].
	FormatBCM = "BCM"
	// FormatJSON is JSON Lines; see [ParseJSON].
	FormatJSON = "JSON"
	// FormatCEF is ArcSight's Common Event Format with the default header
	// fields; see [CEFFormatter] and [ParseCEF].
	FormatCEF = "CEF"
	// FormatOCSF is the Open Cybersecurity Schema Framework, one JSON object
	// per line, naming the default product; see [OCSFFormatter] and
	// [ParseOCSF].
	FormatOCSF = "OCSF"
)

// ErrUnknownFormatter is wrapped by errors naming a formatter that is not
// registered.
var ErrUnknownFormatter = errors.New("unknown formatter")

// ErrBadRecord is wrapped by every error of a parser about a line that is not
// a well-formed record.
var ErrBadRecord = errors.New("malformed record")

// formatters is the registry of formatters by upper-cased name.
var formatters = struct {
	sync.RWMutex
	byName map[string]Formatter
}{byName: map[string]Formatter{
	FormatBCM:  bcmFormatter{},
	FormatJSON: jsonFormatter{},
	FormatCEF:  defaultCEF,
	FormatOCSF: defaultOCSF,
}}

// RegisterFormatter makes f available under name, without regard to case,
// for [Config.Formatter] and AuditLogFormatter. It is an error to register an
// empty name, a name already registered, or a nil Formatter. It is safe to
// call from several goroutines, typically from an init function.
func RegisterFormatter(name string, f Formatter) error {
	key := strings.ToUpper(strings.TrimSpace(name))
	if key == "" || f == nil {
		return fmt.Errorf("audit: register formatter %q: empty name or nil formatter", name)
	}
	formatters.Lock()
	defer formatters.Unlock()
	if _, dup := formatters.byName[key]; dup {
		return fmt.Errorf("audit: register formatter %q: name already registered", name)
	}
	formatters.byName[key] = f
	return nil
}

// LookupFormatter returns the formatter registered under name, without regard
// to case. An empty name means [FormatBCM]. An unknown name is an error that
// wraps [ErrUnknownFormatter] and lists the registered names.
func LookupFormatter(name string) (Formatter, error) {
	key := strings.ToUpper(strings.TrimSpace(name))
	if key == "" {
		key = FormatBCM
	}
	formatters.RLock()
	f, ok := formatters.byName[key]
	formatters.RUnlock()
	if !ok {
		return nil, fmt.Errorf("audit: formatter %q: %w (registered: %s)", name, ErrUnknownFormatter, strings.Join(FormatterNames(), ", "))
	}
	return f, nil
}

// FormatterNames returns the registered formatter names, sorted.
func FormatterNames() []string {
	formatters.RLock()
	defer formatters.RUnlock()
	names := make([]string, 0, len(formatters.byName))
	for n := range formatters.byName {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ParseRecord parses one line of any built-in format: a line that starts
// with "CEF:" is read with [ParseCEF], an object that starts with its
// "class_uid" with [ParseOCSF], any other line that starts with '{' with
// [ParseJSON], and any other line with [ParseBCM]. A trailing "\n" or
// "\r\n" is ignored.
func ParseRecord(line []byte) (Record, error) {
	line = trimNewline(line)
	switch {
	case bytes.HasPrefix(line, []byte("CEF:")):
		return ParseCEF(line)
	case bytes.HasPrefix(line, []byte(`{"class_uid":`)):
		return ParseOCSF(line)
	case len(line) > 0 && line[0] == '{':
		return ParseJSON(line)
	}
	return ParseBCM(line)
}

func trimNewline(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
	}
	return line
}
