package kafka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/auditkit/audit"
	"github.com/auditkit/audit/ship"
)

// Shipper follows one module's audit files and ships their records to a
// [Destination], at least once and in order: it reads from the cursor file
// ([ship.CursorPath]), creates it when it is missing (pointing before the
// oldest file, so that retention keeps every file not yet shipped from the
// start), and rewrites it only after the brokers acknowledged the records
// before it. Each record's [ship.Message.File] is the
// fingerprint of its file ([audit.Fingerprint] of the file's first line),
// which does not change when the file is rotated or compressed, and its
// Seq is its line number in that file.
//
// After each batch, and at every poll while there is nothing new, the
// Shipper also ships the module's head file when it changed
// ([Destination.ShipHead]).
type Shipper struct {
	// Dir and Module name the audit files to ship.
	Dir, Module string
	// Host names the host in every message. Required.
	Host string
	// Dest receives the records. The Shipper does not close it.
	Dest *Destination
	// URL is the destination's URL, which names the cursor file.
	URL string
	// Batch is the most records handed to one Ship call. Zero means 512.
	Batch int
	// Poll is how often the files and the head are looked at once
	// everything was shipped. Zero means 200 ms.
	Poll time.Duration
	// OnError, when set, is told of the records that cannot be read
	// (longer than [audit.MaxRecordSize]), which are skipped; nil ignores
	// them silently only if Dest's OnError is also nil.
	OnError func(error)
}

// entry is a record read by the follower, with the cursor after it.
type entry struct {
	msg  ship.Message
	next audit.Cursor
}

// Run ships until ctx is done, then returns ctx's error; it returns
// earlier only on an error that retrying cannot cure: an unreadable or
// corrupt cursor file, a cursor that points into a file that is gone, a
// cursor that cannot be written, or a cursor that another shipper holds
// (an error wrapping [ship.ErrCursorInUse]; Run holds the cursor's lock,
// [ship.LockCursor], until it returns).
func (s *Shipper) Run(ctx context.Context) error {
	if s.Host == "" || s.Dest == nil {
		return fmt.Errorf("audit: shipper of module %s: host and destination are required", s.Module)
	}
	batch := s.Batch
	if batch <= 0 {
		batch = 512
	}
	poll := s.Poll
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	if _, err := audit.Follow(s.Dir, s.Module, audit.Cursor{}, poll); err != nil {
		return err // a module name the library does not accept
	}
	cpath := ship.CursorPath(s.Dir, s.Module, s.URL)
	lock, err := ship.LockCursor(cpath)
	if err != nil {
		return err
	}
	defer lock.Close()
	var start audit.Cursor
	c, err := ship.ReadCursor(cpath)
	switch {
	case err == nil && c.Module != s.Module:
		return fmt.Errorf("audit: shipping cursor %s is for module %q, not %q: %w", cpath, c.Module, s.Module, ship.ErrBadCursor)
	case err == nil:
		start = audit.Cursor{File: c.File, Offset: c.Offset, Line: int(c.Seq)}
	case errors.Is(err, fs.ErrNotExist):
		// Nothing shipped yet. The cursor file, pointing before the
		// oldest file, makes retention keep every file from now on:
		// without it, files rotated before the first acknowledged batch
		// could be removed unshipped.
		if err := ship.WriteCursor(cpath, ship.Cursor{Module: s.Module, Destination: s.URL}); err != nil {
			return err
		}
	default:
		return err
	}
	fl, err := audit.Follow(s.Dir, s.Module, start, poll)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	entries := make(chan entry, batch)
	readErr := make(chan error, 1)
	go func() {
		defer fl.Close()
		readErr <- s.read(ctx, fl, entries)
	}()
	defer func() {
		cancel()
		<-readErr
	}()

	headPath := filepath.Join(s.Dir, s.Module+".audit.head")
	var sentHead []byte
	msgs := make([]ship.Message, 0, batch)
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		msgs = msgs[:0]
		var last audit.Cursor
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			readErr <- err
			return err
		case e := <-entries:
			msgs, last = append(msgs, e.msg), e.next
		case <-tick.C:
		}
	fill:
		for len(msgs) > 0 && len(msgs) < batch {
			select {
			case e := <-entries:
				msgs, last = append(msgs, e.msg), e.next
			default:
				break fill
			}
		}
		if len(msgs) > 0 {
			n, err := s.Dest.Ship(ctx, msgs)
			if n != len(msgs) {
				return err
			}
			nc := ship.Cursor{Module: s.Module, Destination: s.URL, File: last.File, Offset: last.Offset, Seq: uint64(last.Line)}
			if err := ship.WriteCursor(cpath, nc); err != nil {
				return err
			}
		}
		head, err := os.ReadFile(headPath)
		if err == nil && !bytes.Equal(head, sentHead) {
			if err := s.Dest.ShipHead(ctx, s.Host, s.Module, head); err != nil {
				return err
			}
			sentHead = head
		}
	}
}

// read sends the records of fl to out until ctx is done or a final error.
func (s *Shipper) read(ctx context.Context, fl *audit.Follower, out chan<- entry) error {
	for {
		e, err := fl.Next(ctx)
		if errors.Is(err, audit.ErrLineTooLong) {
			if s.OnError != nil {
				s.OnError(fmt.Errorf("audit: shipper of module %s: record skipped: %w", s.Module, err))
			}
			continue
		}
		if err != nil {
			return err
		}
		m := ship.Message{
			Host:   s.Host,
			Module: s.Module,
			File:   e.Next.File,
			Seq:    uint64(e.Number),
			Line:   bytes.Clone(e.Line),
		}
		if rec, err := audit.ParseRecord(e.Line); err == nil {
			m.Type, m.Outcome, m.Time = rec.Event.Type, rec.Event.Outcome, rec.Event.Time
		}
		select {
		case out <- entry{msg: m, next: e.Next}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
