package audit

// bcmFormatter renders the BCM line format.
type bcmFormatter struct{}

// Append implements [Formatter].
func (bcmFormatter) Append(dst []byte, r *Record) ([]byte, error) { panic("TODO") }

// Parse implements [Parser] with [ParseBCM].
func (bcmFormatter) Parse(line []byte) (Record, error) { return ParseBCM(line) }

// ParseBCM parses one BCM line (without its newline).
func ParseBCM(line []byte) (Record, error) { panic("TODO") }
