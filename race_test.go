//go:build race

package audit

// raceEnabled reports whether the tests run under the race detector, which
// allocates where the code under test does not.
const raceEnabled = true
