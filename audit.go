package audit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

// Logger writes audit records for one module. Create it with [New] at
// start-up, call [Logger.Log] as events happen, and [Logger.Close] at
// shutdown. A Logger is safe for concurrent use by many goroutines.
//
// Concurrent records are formatted in parallel, then take their sequence
// numbers (and MACs) in the order they will stand in the file, and are
// written together: while one goroutine writes a batch, the records of the
// others gather into the next one (group commit). Log returns only when its
// record's batch has been written, and synced if the [SyncPolicy] asks.
type Logger struct {
	// What the logger is: set by New, read-only after it (but the mask).
	mask    atomic.Uint32 // current Mask in the low byte, and closingBit and closedBit
	module  string
	format  Formatter
	trusted bool // format is built in: no need to check its output for newlines
	now     func() time.Time
	cfg     Config // copy, with defaults filled in
	dir     string

	// What it does, one concern each (see the types' own files). mu
	// guards closed, rec, batches, file and key.
	mu      sync.Mutex
	closed  bool          // Close began
	rec     Record        // scratch record for formatting
	batches batching      // group commit (batching.go, commit.go)
	file    activeFile    // the active file's state (activefile.go)
	key     *chainKey     // the integrity chain's key, nil when integrity is off (chainkey.go)
	replace replacedCheck // the active file removed or replaced from outside (inplace.go)
	bg      background    // periodic work and its errors (background.go)
	stats   counters      // Stats' counters that need no lock (stats.go)

	jsonFormat bool       // format is the built-in JSON (for sealing records)
	setMaskMu  sync.Mutex // serialises SetMask
}

// Defaults of Config fields.
const (
	// DefaultMaxSize is the rotation size used when Config.MaxSize is zero.
	DefaultMaxSize = 100 << 20
	// DefaultSyncInterval is the period used when Config.SyncInterval is zero.
	DefaultSyncInterval = time.Second
	// retentionInterval is how often retention runs while the logger is open.
	retentionInterval = time.Hour
	// inPlaceInterval is how often the logger checks that its active file
	// is still at its path.
	inPlaceInterval = 10 * time.Second
)

var moduleRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// New validates cfg, opens (or creates) the module's audit file and returns
// a Logger. The directory is cfg.AuditLogPath, or cfg.LogPath when that is
// empty; the file is named <Module>.audit.log. An existing file is appended
// to: its sequence numbers continue, and an incomplete final record left by
// a crash is moved to a quarantine file and recorded with a [TornRecord]
// event. Backups older than cfg.Retention are removed before New returns.
//
// Errors wrap [ErrBadConfig] for a bad field, [ErrUnknownFormatter],
// [ErrBadMask], [ErrLocked] when another writer holds the file,
// [ErrUnsafePath], or the operating system's error.
func New(cfg Config) (*Logger, error) {
	if !moduleRE.MatchString(cfg.Module) {
		return nil, fmt.Errorf("audit: module %q: %w: want 1 to 64 ASCII letters, digits, '_' or '-'", cfg.Module, ErrBadConfig)
	}
	if cfg.EventMask == 0 {
		cfg.EventMask = DefaultMask
	}
	if cfg.EventMask&^AllEvents != 0 {
		return nil, fmt.Errorf("audit: event mask %#x: %w: unknown bits", uint8(cfg.EventMask), ErrBadMask)
	}
	format, err := LookupFormatter(cfg.Formatter)
	if err != nil {
		return nil, err
	}
	if cfg.Formatter == "" {
		cfg.Formatter = FormatBCM
	}
	if err := cfg.checkBounds(); err != nil {
		return nil, err
	}
	if cfg.MaxSize == 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	if cfg.SyncInterval == 0 {
		cfg.SyncInterval = DefaultSyncInterval
	}
	if cfg.Sync > SyncEveryEvent || cfg.Failure > FailOpen || cfg.Daily > DailyOff {
		return nil, fmt.Errorf("audit: sync %v, failure %v, daily %v: %w", cfg.Sync, cfg.Failure, cfg.Daily, ErrBadConfig)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Logger{
		module: cfg.Module,
		format: format,
		now:    cfg.Now,
		cfg:    cfg,
	}
	l.batches.idle.L = &l.mu
	l.bg.init()
	switch format.(type) {
	case bcmFormatter:
		l.trusted = true
	case jsonFormatter:
		l.trusted, l.jsonFormat = true, true
	}
	l.mask.Store(uint32(cfg.EventMask))
	l.file.cur.day = -1 // unknown until the first record, or the last record of an existing file
	if cfg.IntegrityKeyFile != "" && !cfg.Integrity {
		// A key file alone would leave the files unsealed while whoever
		// set it believes they are sealed.
		return nil, fmt.Errorf("audit: parameter %s: %w: a key file is set but integrity protection is off (set %s=true, or remove the key file)", ParamKeyFile, ErrBadConfig, ParamIntegrity)
	}
	if cfg.Integrity {
		if !l.trusted {
			return nil, fmt.Errorf("audit: integrity: %w: needs the BCM or JSON format, not %s", ErrBadConfig, cfg.Formatter)
		}
		if cfg.IntegrityKeyFile != "" {
			if l.key, err = readKeyFile(cfg.IntegrityKeyFile); err != nil {
				return nil, err
			}
		} else {
			l.key = newChainKey(0, nil)
		}
		l.file.cur.index = l.key.index
	}

	if cfg.Output != nil {
		l.file.out = streamSink{cfg.Output}
		l.cfg.Daily = DailyOff
	} else {
		if err := l.openFile(); err != nil {
			return nil, err
		}
	}
	l.file.phys = l.file.cur
	if cfg.Output == nil && l.key != nil {
		// The head names where the chain stands now.
		err := l.file.out.Sync()
		if err == nil {
			err = l.writeHead(l.headData(l.file.phys, l.file.phys.index))
		}
		if err != nil {
			l.file.out.Close()
			return nil, err
		}
	}

	if cfg.Output == nil && (cfg.Retention > 0 || cfg.MaxBackups > 0) {
		l.prune()
		l.bg.every(retentionInterval, l.bg.kick, l.prune)
	}
	if cfg.Sync == SyncInterval {
		l.bg.every(l.cfg.SyncInterval, nil, l.intervalSync)
	}
	if cfg.Output == nil {
		l.bg.every(inPlaceInterval, nil, l.checkInPlace)
	}
	if cfg.Integrity && cfg.CheckpointInterval > 0 { // l.key is guarded by l.mu from here on

		l.bg.every(l.cfg.CheckpointInterval, nil, l.checkpoint)
	}
	return l, nil
}

// openFile opens the audit file and recovers the state of an existing one.
func (l *Logger) openFile() error {
	l.dir = l.cfg.AuditLogPath
	if l.dir == "" {
		l.dir = l.cfg.LogPath
	}
	if l.dir == "" {
		return fmt.Errorf("audit: module %s: %w: neither AuditLogPath nor LogPath is set", l.module, ErrBadConfig)
	}
	w, err := openWriter(writerConfig{
		Dir:      l.dir,
		Module:   l.module,
		Compress: l.cfg.Compress,
		Now:      l.now,
		OnError:  l.backgroundError,
	})
	if err != nil {
		return err
	}
	l.file.out = w
	l.file.size = w.Size()
	if err := l.checkFreshKey(); err != nil {
		w.Close()
		return err
	}
	if err := l.recover(w); err != nil {
		w.Close()
		return err
	}
	if qpath, n := w.Quarantine(); qpath != "" {
		e := Event{Type: TornRecord, Outcome: Failed, Object: filepath.Base(qpath),
			Reason: fmt.Sprintf("incomplete final record of %d bytes moved out of %s", n, filepath.Base(w.Path()))}
		if err := l.write(&e); err != nil {
			w.Close()
			return err
		}
	}
	return nil
}

// dayOf returns the day number of t for daily rotation.
func (l *Logger) dayOf(t time.Time) int64 {
	if l.cfg.Daily == DailyLocal {
		t = t.Local()
		y, m, d := t.Date()
		t = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return t.Unix() / 86400
}

// Enabled reports whether an event of type t with outcome o would be written
// under the current mask (see [Mask.Enables]). It takes a few nanoseconds
// and allocates nothing, so callers can test it before building an
// expensive event.
func (l *Logger) Enabled(t EventType, o Outcome) bool {
	return enabled(Mask(l.mask.Load()), t, o)
}

// Bits of Logger.mask above the Mask (which is its low byte). Keeping them
// in the same word lets Log tell a filtered-out event from one logged after
// Close with the one atomic load it needs for the mask.
const (
	// closingBit is set when Close begins: Log refuses every event.
	closingBit = 1 << 8
	// closedBit is set when Close is done with the output: whoever waits
	// to own it gives up with ErrClosed (see acquire).
	closedBit = 1 << 9
)

// Enables reports whether m lets an event of type t with outcome o be
// written: when m holds t's category, or when the event failed and m holds
// [FailureEvents]. [AuditConfigChange] and the library's own records are
// always written, and a [ChannelReject] is always a failure. An invalid type
// gives false.
func (m Mask) Enables(t EventType, o Outcome) bool { return enabled(m, t, o) }

// gate holds each type's category; types that are always written have every
// bit set.
var gate = func() (g [numEventTypes]Mask) {
	for t := EventType(1); t < numEventTypes; t++ {
		g[t] = t.Category()
		if t == AuditConfigChange || t >= firstLibraryType {
			g[t] = 0xff
		}
	}
	return g
}()

func enabled(m Mask, t EventType, o Outcome) bool {
	if t == 0 || t >= numEventTypes {
		return false
	}
	if t == ChannelReject {
		o = Failed
	}
	return m&gate[t] != 0 || (o == Failed && m&FailureEvents != 0)
}

// Log records e if the mask lets it through: an event is written when the
// mask holds its type's category, or when it failed and the mask holds
// [FailureEvents]; [AuditConfigChange] is always written. A filtered-out
// event costs a few nanoseconds and returns nil; building the 320-byte Event
// costs the caller more than that, so where most events are filtered out,
// log through [Logger.Event], which stores nothing for them.
//
// Log returns only after the record has been handed to the operating system
// (and, under [SyncEveryEvent], synced to stable storage), so a crash of the
// process loses no record for which Log returned nil. A zero e.Time is the
// logger's clock; a [ChannelReject] is always recorded as [Failed].
//
// Every event is validated, whatever the mask, so that raising the mask
// never starts refusing events that were accepted before: an invalid event
// (see [Event.Validate]) is an error wrapping [ErrInvalidEvent], counted in
// [Stats].Invalid, and nothing is written. After Close, Log returns an error
// wrapping [ErrClosed], for filtered-out events too. A write error is
// returned under [FailClosed]; under [FailOpen] Log returns nil and the
// record is counted in [Stats].Dropped. Every write error also goes to
// [Config.OnError].
//
// An event's empty Actor, Client and Session are taken from the [Request]
// that ctx carries, if any (see [WithRequest]).
//
// A record cannot be cancelled: once Log has placed it in a batch it will be
// written, or fail and be counted. ctx only bounds how long Log waits for
// that outcome. If no other goroutine is writing, Log writes the batch
// itself and returns the real outcome, even when ctx is nil or already done,
// so that (for example) the failed logon of a client that hung up is still
// recorded. If it must wait for another goroutine's write and ctx is done
// first, Log returns an error wrapping ctx.Err() (so errors.Is(err,
// [context.DeadlineExceeded]) for a deadline) that says the outcome is not
// known yet: the record may still be written, and if it fails that is
// counted in Stats.Dropped and reported to OnError. Under FailOpen Log
// returns nil then, as for a write error. A ctx whose Done channel is nil,
// such as [context.Background], costs nothing.
func (l *Logger) Log(ctx context.Context, e Event) error {
	// Small enough to be inlined into the caller, so that the event is
	// built once in the caller's frame and passed by address rather than
	// copied into a call's arguments.
	return l.logAt(ctx, &e)
}

// logAt is Log for the event at e. Its filtered-out path writes no shared
// memory and calls nothing.
func (l *Logger) logAt(ctx context.Context, e *Event) error {
	g := filterGate[e.Type]
	if l.mask.Load()&g == 0 && e.Outcome == Succeeded && e.nFront == 0 && e.Time.IsZero() && hasRequired(e, g) {
		return nil
	}
	return l.logEvent(ctx, e)
}

// filterGate holds, for every value of an EventType, what the filtered-out
// path of Log tests in one lookup: the type's category and closingBit,
// which a mask word must both lack for the event to be filtered out (every
// bit for the types that are always written or invalid, which take the
// other path), and in the high byte the standard fields the type requires
// (the needX bits of callerTypes).
var filterGate = func() (g [256]uint32) {
	for t := range g {
		r := callerTypes[t]
		if r&notCallerType != 0 || EventType(t) == AuditConfigChange || EventType(t) == ChannelReject {
			g[t] = ^uint32(0)
			continue
		}
		g[t] = uint32(EventType(t).Category()) | closingBit | uint32(r)<<24
	}
	return g
}()

// hasRequired reports whether e has the standard fields that the high
// byte of its filterGate entry g requires.
func hasRequired(e *Event, g uint32) bool {
	r := uint8(g >> 24)
	return (r&needActor == 0 || e.Actor != "") && (r&needSubject == 0 || e.Subject != "") &&
		(r&needObject == 0 || e.Object != "") && (r&needClient == 0 || e.Client != "")
}

// logEvent is Log for an event that is not simply filtered out: invalid
// (or needing the context's fields or a full check to tell), enabled by
// the mask, or logged after Close began.
func (l *Logger) logEvent(ctx context.Context, e *Event) error {
	if !e.valid() {
		fillFromRequest(ctx, e)
		if err := e.Validate(); err != nil {
			l.stats.invalid.Add(1)
			return err
		}
	}
	w := l.mask.Load()
	if enabled(Mask(w), e.Type, e.Outcome) {
		return l.log(ctx, e)
	}
	if w&closingBit != 0 {
		return fmt.Errorf("audit: %s event: %w", e.Type, ErrClosed)
	}
	return nil
}

// log writes a valid event that the mask lets through, waiting for its
// outcome as ctx allows (see Log).
func (l *Logger) log(ctx context.Context, e *Event) error {
	fillFromRequest(ctx, e)
	return l.writeCtx(ctx, e, true)
}

// writeError counts and reports a failed write, sync or rotation.
func (l *Logger) writeError(err error) error {
	if errors.Is(err, errFileReplaced) {
		l.replace.note()
	}
	l.stats.writeErrors.Add(1)
	l.reportError(err)
	return err
}

// reportError records err as the last error and passes it to OnError.
func (l *Logger) reportError(err error) {
	l.stats.setLast(err, l.now())
	if l.cfg.OnError != nil {
		l.cfg.OnError(err)
	}
}

// backgroundError reports an error of background work and keeps it for
// Close.
func (l *Logger) backgroundError(err error) {
	l.reportError(err)
	l.bg.keep(err)
}

// Sync flushes the audit file to stable storage (fdatasync), whatever the
// [SyncPolicy]. It returns an error wrapping [ErrClosed] after Close, and
// when Close begins while Sync waits for its turn (Close syncs the file
// itself).
func (l *Logger) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("audit: sync: %w", ErrClosed)
	}
	if err := l.acquire(); err != nil {
		return fmt.Errorf("audit: sync: %w", err)
	}
	if l.closed {
		l.release()
		return fmt.Errorf("audit: sync: %w", ErrClosed)
	}
	return l.syncOwned()
}

// SetMask changes the event mask at run time. It first writes an
// [AuditConfigChange] record with actor, the old and the new mask, and
// switches to the new mask only once that record is written, so that no
// event is ever filtered by a mask whose change was not recorded. If the
// record cannot be written, whatever the [FailurePolicy], the mask is left
// as it was and the error is returned. m must be a non-empty set of
// categories ([ErrBadMask]). After Close it returns an error wrapping
// [ErrClosed].
func (l *Logger) SetMask(m Mask, actor string) error {
	if m == 0 || m&^AllEvents != 0 {
		return fmt.Errorf("audit: set mask %#x: %w: empty or unknown bits", uint8(m), ErrBadMask)
	}
	l.setMaskMu.Lock()
	defer l.setMaskMu.Unlock()
	old := l.Mask()
	e := Event{Type: AuditConfigChange, Outcome: Succeeded, Actor: actor, Object: ParamEventMask, OldValue: old.String(), NewValue: m.String()}
	if err := l.writeCtx(context.Background(), &e, false); err != nil {
		return err
	}
	for {
		w := l.mask.Load()
		if l.mask.CompareAndSwap(w, w&^0xff|uint32(m)) {
			return nil
		}
	}
}

// Mask returns the current event mask.
func (l *Logger) Mask() Mask { return Mask(l.mask.Load()) }

// Path returns the path of the active audit file, or "" when the logger
// writes to [Config.Output].
func (l *Logger) Path() string { return l.file.out.Path() }

// Close writes what is pending, syncs the file, stops every goroutine the
// Logger started and closes the file. It returns write and sync errors and
// the errors of background work since New, joined. Close may be called more
// than once; later calls return nil. Log calls that race with Close either
// complete (their record is written) or return [ErrClosed]; after Close,
// Log (of any event, filtered out or not), SetMask and Sync return errors
// wrapping ErrClosed.
func (l *Logger) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mask.Or(closingBit)
	for l.batches.pending != nil {
		if l.batches.busy {
			l.waitIdle()
			continue
		}
		l.batches.busy = true
		l.flushPending(0)
		l.settleAbandoned()
		l.release()
	}
	l.mu.Unlock()

	l.bg.stop()

	l.mu.Lock()
	l.acquire()
	head := l.headData(l.file.phys, l.file.phys.index)
	l.mu.Unlock()
	var errs []error
	if err := l.file.out.Sync(); err != nil {
		errs = append(errs, err)
	} else if err := l.writeHead(head); err != nil {
		errs = append(errs, err)
	}
	if err := l.file.out.Close(); err != nil {
		errs = append(errs, err)
	}
	// Wake whoever waits to own the output (a Sync that raced with Close):
	// with closedBit set, acquire gives up.
	l.mu.Lock()
	l.mask.Or(closedBit)
	l.release()
	l.mu.Unlock()
	errs = append(errs, l.bg.kept()...)
	return errors.Join(errs...)
}
