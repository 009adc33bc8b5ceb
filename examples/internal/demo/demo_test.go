package demo

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDayTimes(t *testing.T) {
	now := time.Date(2026, 11, 25, 14, 30, 0, 0, time.UTC)
	clock := [][2]int{{7, 55}, {8, 2}, {8, 2}, {13, 5}, {18, 0}}
	for _, tc := range []struct {
		name   string
		newest time.Time
		first  time.Time // the time of 07:55
		last   time.Time // the time of 18:00
	}{
		{"first run", time.Time{}, now.Add(-(10*time.Hour + 5*time.Minute)), now},
		{"after an old day", now.AddDate(0, 0, -3), now.Add(-(10*time.Hour + 5*time.Minute)), now},
		{"a minute after a run", now.Add(-time.Minute), now.Add(-time.Minute + time.Microsecond), now},
		{"clock set back", now.Add(time.Hour), now.Add(time.Hour + time.Millisecond), now.Add(time.Hour + (10*60+5+1)*time.Millisecond)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := dayTimes(now, tc.newest)
			var prev time.Time
			for i, c := range clock {
				got := at(c[0], c[1])
				require.False(t, got.Before(prev), "time runs backwards at %v", c)
				require.True(t, got.After(tc.newest), "%v is not after the newest record", c)
				prev = got
				if i == 0 {
					require.Equal(t, tc.first, got)
				}
			}
			require.Equal(t, tc.last, prev)
		})
	}
}
