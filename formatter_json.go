package audit

// jsonFormatter renders JSON Lines.
type jsonFormatter struct{}

// Append implements [Formatter].
func (jsonFormatter) Append(dst []byte, r *Record) ([]byte, error) { panic("TODO") }

// Parse implements [Parser] with [ParseJSON].
func (jsonFormatter) Parse(line []byte) (Record, error) { return ParseJSON(line) }

// ParseJSON parses one JSON Lines record (without its newline).
func ParseJSON(line []byte) (Record, error) { panic("TODO") }
