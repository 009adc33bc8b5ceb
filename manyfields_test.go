package audit

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// manyFields returns an event with n extra fields k0 to k(n-1).
func manyFields(n int) Event {
	e := Event{Time: testTime, Type: ServerStart, Outcome: Succeeded}
	for i := range n {
		e.AddField("k"+strconv.Itoa(i), "v")
	}
	return e
}

// TestManyFieldsRepeated checks that a repeated extra field key is found
// among many fields, by Validate and by every parser.
func TestManyFieldsRepeated(t *testing.T) {
	for _, n := range []int{3, 40, 300} {
		e := manyFields(n)
		require.NoError(t, e.Validate())
		e.AddField("k"+strconv.Itoa(n-2), "again")
		err := e.Validate()
		require.ErrorIs(t, err, ErrInvalidEvent, "%d fields", n)
		require.Contains(t, err.Error(), `extra field "k`+strconv.Itoa(n-2)+`" is repeated`)
		for _, ft := range formats {
			_, err := ft.f.Append(nil, &Record{Seq: 1, Module: "m", Event: e})
			require.ErrorIs(t, err, ErrInvalidEvent, "%s, %d fields", ft.name, n)
			require.Contains(t, err.Error(), fmt.Sprintf(`extra field %d: key "k%d" repeats extra field %d`, n, n-2, n-2), ft.name)
		}

		// A line with the last field renamed to repeat the one before.
		r := Record{Seq: 1, Module: "m", Event: manyFields(n)}
		last, prev := "k"+strconv.Itoa(n-1), "k"+strconv.Itoa(n-2)
		for _, ft := range formats {
			line, err := ft.f.Append(nil, &r)
			require.NoError(t, err)
			_, err = ft.parse(line)
			require.NoError(t, err, "%s, %d fields", ft.name, n)
			i := strings.LastIndex(string(line), last)
			require.Positive(t, i)
			bad := string(line[:i]) + prev + string(line[i+len(last):])
			_, err = ft.parse([]byte(bad))
			require.ErrorIs(t, err, ErrBadRecord, "%s, %d fields", ft.name, n)
			require.Regexp(t, `duplicate (key|member) "(ad\.|unmapped\.)?`+prev+`"`, err.Error(), "%s, %d fields", ft.name, n)
		}
	}
}

// BenchmarkManyFields parses lines and validates events with many extra
// fields: the time per field must not grow with their number, or a single
// line of a few hundred kilobytes holds a parser for seconds.
func BenchmarkManyFields(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		r := Record{Seq: 1, Module: "m", Event: manyFields(n)}
		for _, ft := range formats {
			line, err := ft.f.Append(nil, &r)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(ft.name+"/"+strconv.Itoa(n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(line)))
				for b.Loop() {
					if _, err := ft.parse(line); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run("Validate/"+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := r.Event.Validate(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
