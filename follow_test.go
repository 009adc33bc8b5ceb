package audit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFollowAcrossRotations starts a follower before the audit directory
// exists, then logs with a tiny MaxSize and compression, so that files
// rotate and are compressed under the follower; halfway it stops the
// follower and resumes a new one from its cursor. Every record must be read
// once, in order.
func TestFollowAcrossRotations(t *testing.T) {
	for _, format := range []string{FormatBCM, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "audit")
			const n = 3000
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			var wg sync.WaitGroup
			wg.Go(func() {
				l, err := New(Config{Module: evModule, AuditLogPath: dir, Formatter: format, MaxSize: 4 << 10,
					Compress: true, Integrity: true, EventMask: AllEvents})
				if err != nil {
					t.Error(err)
					return
				}
				for i := range n {
					if err := l.Log(context.Background(), Event{Type: DataRead, Actor: "alice", Subject: strconv.Itoa(i), Object: "x"}); err != nil {
						t.Error(err)
						break
					}
				}
				if err := l.Close(); err != nil {
					t.Error(err)
				}
			})

			var got []int
			read := func(fl *Follower, until int) Cursor {
				for len(got) < until {
					e, err := fl.Next(ctx)
					require.NoError(t, err, "after %d records; cursor %+v", len(got), fl.Cursor())
					rec, err := ParseRecord(e.Line)
					require.NoError(t, err, "%s:%d", e.Path, e.Number)
					require.Equal(t, uint64(e.Number), rec.Seq, "%s", e.Path)
					require.Equal(t, e.Number, e.Next.Line)
					if rec.Event.Type == DataRead {
						i, err := strconv.Atoi(rec.Event.Subject)
						require.NoError(t, err)
						require.Equal(t, len(got), i, "record %s:%d (cursor %+v)", e.Path, e.Number, e.Next)
						got = append(got, i)
					}
				}
				require.NoError(t, fl.Close())
				return fl.Cursor()
			}
			fl, err := Follow(dir, evModule, Cursor{}, time.Millisecond)
			require.NoError(t, err)
			c := read(fl, n/2)
			fl, err = Follow(dir, evModule, c, time.Millisecond)
			require.NoError(t, err)
			read(fl, n)
			wg.Wait()
			for i, v := range got {
				require.Equal(t, i, v, "each record once, in order")
			}
			files, err := ListFiles(dir, evModule)
			require.NoError(t, err)
			require.Greater(t, len(files), 20, "the files rotated")
		})
	}
}

func TestFollowCursorLost(t *testing.T) {
	dir := t.TempDir()
	writeSealed(t, dir, evModule, FormatBCM, "", 40, nil)
	fl, err := Follow(dir, evModule, Cursor{}, time.Millisecond)
	require.NoError(t, err)
	e, err := fl.Next(context.Background())
	require.NoError(t, err)
	require.NoError(t, fl.Close())
	// The file it was reading is removed by hand before it was read.
	require.NoError(t, os.Remove(e.Path))
	fl, err = Follow(dir, evModule, e.Next, time.Millisecond)
	require.NoError(t, err)
	_, err = fl.Next(context.Background())
	require.ErrorIs(t, err, ErrCursorLost)

	// A cursor past the end of its file.
	b := plainBackups(t, dir, evModule)[0]
	first, err := firstLine(File{Path: b})
	require.NoError(t, err)
	fl, err = Follow(dir, evModule, Cursor{File: Fingerprint(first), Offset: 1 << 30}, time.Millisecond)
	require.NoError(t, err)
	_, err = fl.Next(context.Background())
	require.ErrorIs(t, err, ErrCursorLost)

	// Nothing more to read: Next waits until ctx ends; a done ctx does not
	// stop it from returning what is there.
	total := 0
	files, err := ListFiles(dir, evModule)
	require.NoError(t, err)
	for _, f := range files {
		r, err := OpenFile(f)
		require.NoError(t, err)
		for {
			if _, err := r.Next(); err != nil {
				break
			}
			total++
		}
		r.Close()
	}
	fl, err = Follow(dir, evModule, Cursor{}, time.Millisecond)
	require.NoError(t, err)
	defer fl.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	count := 0
	for {
		_, err := fl.Next(ctx)
		if err != nil {
			require.True(t, errors.Is(err, context.Canceled), "%v", err)
			break
		}
		if count++; count == 5 {
			cancel()
		}
	}
	require.Equal(t, total, count, "every record of the files left")
}
