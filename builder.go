package audit

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// EventBuilder builds one event field by field and logs it with its Log
// method; [Logger.Event] makes one. It is the way to log on a hot path where
// most events are filtered out by the mask: a filtered-out builder stores no
// field, so building and logging such an event costs a few nanoseconds,
// about twice [Logger.Enabled], where building an [Event] and passing it to
// [Logger.Log] costs the 320-byte struct.
//
//	err := l.Event(audit.DataRead, audit.Succeeded).
//		Actor(agent).Subject(customer).Object("recording/4711").
//		Log(ctx)
//
// A builder is checked exactly as Log checks an Event, whatever the mask: a
// filtered-out event that lacks a field its type requires, has an extra
// field with a bad key or a time out of range still returns the error
// wrapping [ErrInvalidEvent], and Log fills the Actor, Client and Session
// left empty from the [Request] in its context.
//
// The mask is read once per builder, by Event or by the builder's first
// method: an event that it filters out is not written even if the mask
// changes, or Close begins, before Log. A builder is a value
// to use once, from one goroutine, like a zerolog event: every method
// returns the builder to chain, and Log ends it. Calling Log a second time,
// or a setter after Log, on a copy of a builder that was logged has no
// effect on any record; for an event that was written, that second Log
// returns an error wrapping ErrInvalidEvent. The zero EventBuilder logs
// nothing and its Log returns such an error.
type EventBuilder struct {
	l *Logger
	// p holds the event being built, nil when the mask filtered it out and
	// no field needs keeping for its check (see keep).
	p *pendingEvent
	// gen is p's generation when the builder got it: p goes back to a pool
	// when the builder is logged, and a stale copy of the builder must not
	// touch it.
	gen uint32
	// bits holds the type (bits 0-7) and outcome (8-15) of the event, and
	// for a filtered-out builder filteredOut and the needX bits (16-19) of
	// the fields its type requires that it was not given.
	bits uint32
}

// filteredOut marks in EventBuilder.bits a builder whose event the mask
// filtered out.
const filteredOut = 1 << 31

// pendingEvent is the event of an EventBuilder, reused through pendingEvents.
type pendingEvent struct {
	Event
	gen uint32
}

// pendingEvents holds the events of builders that were logged.
var pendingEvents = sync.Pool{New: func() any { return new(pendingEvent) }}

// getPending returns an empty pendingEvent from the pool.
func getPending() *pendingEvent { return pendingEvents.Get().(*pendingEvent) }

// putPending empties p, moves it to its next generation and puts it back in
// the pool. The capacity of its extra fields is kept.
func putPending(p *pendingEvent) {
	back := p.back
	clear(back)
	p.Event = Event{back: back[:0]}
	p.gen++
	pendingEvents.Put(p)
}

// Event returns a builder of an event of type t with outcome o, to be given
// its fields and logged with [EventBuilder.Log]. When the mask filters the
// event out, the builder and its methods store nothing and allocate
// nothing. A [ChannelReject] may be given the zero Outcome, which the
// library sets to Failed as Log does.
func (l *Logger) Event(t EventType, o Outcome) EventBuilder {
	b := EventBuilder{l: l, bits: uint32(t) | uint32(o)<<8}
	if f := &filteredBuilders[t]; l.mask.Load()&f.gate == 0 && o == Succeeded {
		b.bits = f.bits
	}
	return b
}

// filteredBuilders holds, for every value of an EventType, its filterGate
// entry and the bits of a filtered-out builder of a successful event of
// that type, so that Event is small enough to be inlined.
var filteredBuilders = func() (f [256]struct{ gate, bits uint32 }) {
	for t, g := range filterGate {
		f[t].gate = g
		f[t].bits = uint32(callerTypes[t]&0xf)<<16 | uint32(t) | uint32(Succeeded)<<8 | filteredOut
	}
	return f
}()

// ready returns b begun: an EventBuilder that Event did not find filtered
// out is given its pending event, or found filtered out, by its first
// method. The zero EventBuilder stays as it is.
func (b EventBuilder) ready() EventBuilder {
	if b.p != nil || b.bits&filteredOut != 0 || b.l == nil {
		return b
	}
	t, o := EventType(b.bits), Outcome(b.bits>>8)
	w := b.l.mask.Load()
	r := callerTypes[t]
	if r&notCallerType == 0 && o-1 <= Failed-1 && w&closingBit == 0 && !enabled(Mask(w), t, o) {
		// Filtered out, as a failed event whose category and the failure
		// category are both outside the mask.
		b.bits |= uint32(r&0xf)<<16 | filteredOut
		return b
	}
	b.p = getPending()
	b.gen = b.p.gen
	b.p.Type, b.p.Outcome = t, o
	return b
}

// event returns the event that a begun builder that was not filtered out
// builds, or nil for a filtered-out, stale or zero builder.
func (b *EventBuilder) event() *Event {
	if b.p == nil || b.bits&filteredOut != 0 || b.p.gen != b.gen {
		return nil
	}
	return &b.p.Event
}

// The standard fields that EventBuilder.set sets.
const (
	setActor = iota
	setSubject
	setObject
	setClient
	setSession
	setReason
	setOldValue
	setNewValue
)

// set is a setter of a builder that Event did not find filtered out: it
// sets field f to s.
func (b EventBuilder) set(f int, s string) EventBuilder {
	b = b.ready()
	e := b.event()
	if e == nil {
		if b.bits&filteredOut != 0 && f <= setClient && s != "" {
			b.bits &^= 1 << (16 + f) // setActor to setClient are in needX order
		}
		return b
	}
	switch f {
	case setActor:
		e.Actor = s
	case setSubject:
		e.Subject = s
	case setObject:
		e.Object = s
	case setClient:
		e.Client = s
	case setSession:
		e.Session = s
	case setReason:
		e.Reason = s
	case setOldValue:
		e.OldValue = s
	case setNewValue:
		e.NewValue = s
	}
	return b
}

// Actor sets the event's Actor: who acted.
func (b EventBuilder) Actor(s string) EventBuilder {
	if b.bits&filteredOut != 0 {
		if s != "" {
			b.bits &^= uint32(needActor) << 16
		}
		return b
	}
	return b.set(setActor, s)
}

// Subject sets the event's Subject: whose account or data was acted on.
func (b EventBuilder) Subject(s string) EventBuilder {
	if b.bits&filteredOut != 0 {
		if s != "" {
			b.bits &^= uint32(needSubject) << 16
		}
		return b
	}
	return b.set(setSubject, s)
}

// Object sets the event's Object: what was acted on.
func (b EventBuilder) Object(s string) EventBuilder {
	if b.bits&filteredOut != 0 {
		if s != "" {
			b.bits &^= uint32(needObject) << 16
		}
		return b
	}
	return b.set(setObject, s)
}

// Client sets the event's Client: the remote address or client
// application.
func (b EventBuilder) Client(s string) EventBuilder {
	if b.bits&filteredOut != 0 {
		if s != "" {
			b.bits &^= uint32(needClient) << 16
		}
		return b
	}
	return b.set(setClient, s)
}

// Session sets the event's Session.
func (b EventBuilder) Session(s string) EventBuilder {
	if b.bits&filteredOut != 0 {
		return b
	}
	return b.set(setSession, s)
}

// Reason sets the event's Reason: why it failed or why the change was
// made.
func (b EventBuilder) Reason(s string) EventBuilder {
	if b.bits&filteredOut != 0 {
		return b
	}
	return b.set(setReason, s)
}

// Change sets the event's OldValue and NewValue: a changed value before
// and after.
func (b EventBuilder) Change(before, after string) EventBuilder {
	if b.bits&filteredOut != 0 {
		return b
	}
	b = b.set(setOldValue, before)
	return b.set(setNewValue, after)
}

// Time sets the event's Time; without it, the event carries the logger's
// clock at the moment of Log.
func (b EventBuilder) Time(t time.Time) EventBuilder {
	if b.bits&filteredOut != 0 && timeInRange(t) {
		return b
	}
	return b.setTime(t)
}

// setTime is Time for a builder that Event did not find filtered out, or
// for a time that Log must report.
func (b EventBuilder) setTime(t time.Time) EventBuilder {
	b = b.ready()
	if e := b.event(); e != nil {
		e.Time = t
	} else if b.bits&filteredOut != 0 && !t.IsZero() && !timeInRange(t) {
		b.keep().Time = t // for Log to report
	}
	return b
}

// Field adds an extra named field, as [Event.AddField] does; Log checks its
// key whatever the mask.
func (b EventBuilder) Field(key, value string) EventBuilder {
	b = b.ready()
	if e := b.event(); e != nil {
		e.AddField(key, value)
	} else if b.bits&filteredOut != 0 {
		b.keep().AddField(key, "") // only the key is checked
	}
	return b
}

// keep returns the event in which a filtered-out builder keeps what Log
// must check beyond the required fields: the keys of extra fields and a
// time out of range. It returns a scratch event for a stale builder.
func (b *EventBuilder) keep() *Event {
	if b.p == nil {
		b.p = getPending()
		b.gen = b.p.gen
	}
	if b.p.gen != b.gen {
		return new(Event)
	}
	return &b.p.Event
}

// Log logs the event as [Logger.Log] does, with the same errors, and ends
// the builder. A filtered-out event that is valid returns nil at once.
func (b EventBuilder) Log(ctx context.Context) error {
	if b.bits&(filteredOut|0xf0000) == filteredOut && b.p == nil {
		return nil
	}
	return b.log(ctx)
}

// log is Log for a builder that is not simply a valid filtered-out event.
func (b EventBuilder) log(ctx context.Context) error {
	if b.l == nil {
		return fmt.Errorf("audit: event builder: %w: not made by Logger.Event", ErrInvalidEvent)
	}
	b = b.ready()
	p := b.p
	if p != nil {
		if p.gen != b.gen {
			return fmt.Errorf("audit: %s event: %w: builder used after its Log", EventType(b.bits), ErrInvalidEvent)
		}
		defer putPending(p)
	}
	if b.bits&filteredOut == 0 {
		return b.l.logAt(ctx, &p.Event)
	}
	// Filtered out: check what a written event would be checked for.
	var e Event
	if p != nil {
		e.Time, e.front, e.nFront, e.back = p.Time, p.front, p.nFront, p.back
	}
	e.Type, e.Outcome = EventType(b.bits), Outcome(b.bits>>8)
	given := callerTypes[e.Type] &^ uint8(b.bits>>16)
	for _, f := range [...]struct {
		bit uint8
		s   *string
	}{{needActor, &e.Actor}, {needSubject, &e.Subject}, {needObject, &e.Object}, {needClient, &e.Client}} {
		if given&f.bit != 0 {
			*f.s = "-" // given; Validate tests only that it is there
		}
	}
	fillFromRequest(ctx, &e)
	if err := e.Validate(); err != nil {
		b.l.stats.invalid.Add(1)
		return err
	}
	return nil
}
