package supervise

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/herofleet/herofleet/api"
	"golang.org/x/sys/unix"
)

// Spec is one binary to run.
type Spec struct {
	Name string   // the binary's name: unique among what one supervisor runs
	Path string   // absolute path of the executable
	Args []string // arguments after the program
	Env  []string // the whole environment, KEY=VALUE: nothing is inherited
	Dir  string   // working directory
	Log  string   // log file path
	// Socket is the unix socket the binary listens on, if any: its folder is made and a stale socket file (left by
	// a run that was killed) is removed before every start, restarts included.
	Socket string
	// TCP is the host:port the binary listens on, if any: when it exits, a process it did not start that holds
	// the port is named in its reason (PortHolder).
	TCP string
}

// State is how a supervised process runs. The states the cockpit shows a binary in have their values from package
// api; Backoff is the supervisor's own (the agent shows it as starting).
type State string

// States a process can be in.
const (
	Starting  = State(api.BinStarting)  // started, not yet known to be healthy
	Running   = State(api.BinRunning)   // up
	Backoff   = State("backoff")        // exited on its own; restarting after a delay
	Crashloop = State(api.BinCrashloop) // exited fast too often; still retried, at the longest delay
	Stopped   = State(api.BinStopped)   // stopped on purpose
	Failed    = State(api.BinFailed)    // could not be started at all
)

// Options tune restarts. Zero values take the defaults shown.
type Options struct {
	Grace       time.Duration // SIGTERM to SIGKILL (10s)
	BackoffMin  time.Duration // first restart delay (200ms)
	BackoffMax  time.Duration // longest restart delay (1m)
	FastExit    time.Duration // an exit sooner than this after start counts as fast (10s)
	CrashloopAt int           // fast exits in a row that make a crash loop (5)
	LogMax      int64         // bytes per log before rotation (10 MiB)
	LogEvery    time.Duration // how often a log's size is checked against LogMax (1s)
	Marker      string        // KEY=VALUE added to every environment (see Marker)
	Logger      *slog.Logger
	// OnRun, when set, is told of every process started, with what a later agent needs to adopt it (Adopt). It
	// is called from the goroutine that started the process, before the start returns.
	OnRun func(name string, run Run)
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Grace, 10*time.Second)
	def(&o.BackoffMin, 200*time.Millisecond)
	def(&o.BackoffMax, time.Minute)
	def(&o.FastExit, 10*time.Second)
	def(&o.LogEvery, time.Second)
	if o.CrashloopAt <= 0 {
		o.CrashloopAt = 5
	}
	if o.LogMax <= 0 {
		o.LogMax = 10 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Status is a snapshot of one process.
type Status struct {
	Name     string
	State    State
	Reason   string
	PID      int
	Restarts int
	Since    time.Time // when the current state began
}

// Supervisor runs processes by name.
type Supervisor struct {
	opt Options

	mu    sync.Mutex
	procs map[string]*proc
}

// New makes a supervisor.
func New(opt Options) *Supervisor {
	opt.defaults()
	return &Supervisor{opt: opt, procs: map[string]*proc{}}
}

// ErrRunning is returned when a binary of that name is already supervised.
var ErrRunning = errors.New("already supervised")

// Start begins supervising spec; the process is started before Start returns. A start that fails at once (no
// such file) is returned as an error and nothing is left supervised.
func (s *Supervisor) Start(spec Spec) error {
	s.mu.Lock()
	if p := s.procs[spec.Name]; p != nil {
		s.mu.Unlock()
		return fmt.Errorf("%s: %w", spec.Name, ErrRunning)
	}
	p := &proc{spec: spec, opt: s.opt, stop: make(chan struct{}), done: make(chan struct{})}
	s.procs[spec.Name] = p
	s.mu.Unlock()
	if err := p.launch(); err != nil {
		s.mu.Lock()
		delete(s.procs, spec.Name)
		s.mu.Unlock()
		return err
	}
	go p.watch()
	go p.capLog()
	return nil
}

// Adopt begins supervising spec with the process of rec, which a previous agent started and which still runs:
// nothing is started. The process is watched through a pidfd (it is not this process's child), signalled through
// it, and an exit of it is a crash like any other: the binary is started again after the backoff.
//
// Adopt refuses, and leaves the process alone, unless rec was started from this very spec and its pid is still
// that process (the same start time in the same boot, the same executable): a pid that another process has now
// is never adopted or signalled.
func (s *Supervisor) Adopt(spec Spec, rec Run) error {
	if rec.Spec != SpecHash(spec) {
		return fmt.Errorf("adopt %s: pid %d was started from another spec", spec.Name, rec.PID)
	}
	if rec.PID <= 0 {
		return fmt.Errorf("adopt %s: no pid recorded", spec.Name)
	}
	// The pidfd first, then the check: a pidfd names one process for good, so once the check passes it is the
	// recorded process that is held, even if that exits the next moment.
	pidfd, err := unix.PidfdOpen(rec.PID, 0)
	if err != nil {
		return fmt.Errorf("adopt %s: pid %d: %w", spec.Name, rec.PID, err)
	}
	now, err := Identify(rec.PID)
	if err != nil {
		unix.Close(pidfd)
		return fmt.Errorf("adopt %s: %w", spec.Name, err)
	}
	if now != rec.Identity {
		unix.Close(pidfd)
		return fmt.Errorf("adopt %s: pid %d is another process now (started at tick %d running %s, recorded %d running %s)",
			spec.Name, rec.PID, now.Start, now.Exe, rec.Start, rec.Exe)
	}
	s.mu.Lock()
	if p := s.procs[spec.Name]; p != nil {
		s.mu.Unlock()
		unix.Close(pidfd)
		return fmt.Errorf("%s: %w", spec.Name, ErrRunning)
	}
	p := &proc{spec: spec, opt: s.opt, stop: make(chan struct{}), done: make(chan struct{})}
	s.procs[spec.Name] = p
	s.mu.Unlock()
	p.adopt(rec, pidfd)
	go p.watch()
	go p.capLog()
	return nil
}

// Stop stops the named process (SIGTERM to its group, grace, SIGKILL) and forgets it. Stopping a name that is not
// supervised is not an error.
func (s *Supervisor) Stop(ctx context.Context, name string) error {
	s.mu.Lock()
	p := s.procs[name]
	delete(s.procs, name)
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.terminate(ctx)
}

// StopAll stops every process, in parallel.
func (s *Supervisor) StopAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, n := range s.Names() {
		wg.Add(1)
		go func(n string) {
			defer wg.Done()
			if err := s.Stop(ctx, n); err != nil {
				s.opt.Logger.Warn("stop", "binary", n, "err", err)
			}
		}(n)
	}
	wg.Wait()
}

// Release stops supervising every process and leaves each one running as it is: nothing is signalled, and a
// binary waiting to be restarted after a crash stays down. It is how an agent exits without taking the apps down
// (the next agent adopts them, see Adopt): each process keeps the run record OnRun was told of, its log is its
// own file, and the agent's end does not end it. A restart under way when Release is called finishes first, so
// what it started is recorded too. It returns the names released, sorted.
func (s *Supervisor) Release() []string {
	s.mu.Lock()
	procs := s.procs
	s.procs = map[string]*proc{}
	s.mu.Unlock()
	names := make([]string, 0, len(procs))
	for n, p := range procs {
		p.release()
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Names lists the supervised names, sorted.
func (s *Supervisor) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.procs))
	for n := range s.procs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Status reports on a supervised process; ok is false when the name is not supervised.
func (s *Supervisor) Status(name string) (Status, bool) {
	s.mu.Lock()
	p := s.procs[name]
	s.mu.Unlock()
	if p == nil {
		return Status{}, false
	}
	return p.status(), true
}

// Exits returns a channel closed when the named process exits on its own after launch, or nil when the name is
// not supervised. A health check waits on it so that a binary that dies at once fails fast.
func (s *Supervisor) Exits(name string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.procs[name]; p != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.exited
	}
	return nil
}

// Env builds a minimal environment: PATH, HOME, LANG, then extra (KEY=VALUE, later entries win).
func Env(path, home, lang string, extra map[string]string) []string {
	m := map[string]string{"PATH": path, "HOME": home, "LANG": lang}
	for k, v := range extra {
		m[k] = v
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+m[k])
	}
	return out
}
