package supervise

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"sort"
	"sync"
	"syscall"
	"time"
)

// Spec is one binary to run.
type Spec struct {
	Name string   // the binary's name: unique among what one supervisor runs
	Path string   // absolute path of the executable
	Args []string // arguments after the program
	Env  []string // the whole environment, KEY=VALUE: nothing is inherited
	Dir  string   // working directory
	Log  string   // log file path
}

// States a process can be in.
const (
	Starting  = "starting"  // started, not yet known to be healthy
	Running   = "running"   // up
	Backoff   = "backoff"   // exited on its own; restarting after a delay
	Crashloop = "crashloop" // exited fast too often; still retried, at the longest delay
	Stopped   = "stopped"   // stopped on purpose
	Failed    = "failed"    // could not be started at all
)

// Options tune restarts. Zero values take the defaults shown.
type Options struct {
	Grace         time.Duration // SIGTERM to SIGKILL (10s)
	BackoffMin    time.Duration // first restart delay (200ms)
	BackoffMax    time.Duration // longest restart delay (1m)
	FastExit      time.Duration // an exit sooner than this after start counts as fast (10s)
	CrashloopAt   int           // fast exits in a row that make a crash loop (5)
	LogMax        int64         // bytes per log before rotation (10 MiB)
	Marker        string        // KEY=VALUE added to every environment (see Marker)
	Logger        *slog.Logger
	StableRunning time.Duration // a process counts as running once up this long (0: at once)
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
	State    string
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

// proc is one supervised binary.
type proc struct {
	spec Spec
	opt  Options
	stop chan struct{} // closed by terminate
	done chan struct{} // closed when watch returns

	mu       sync.Mutex
	cmd      *exec.Cmd
	log      *LogFile
	state    string
	reason   string
	since    time.Time
	started  time.Time
	restarts int
	fast     int
	exited   chan struct{} // closed when the current run ends
	exitErr  error         // how it ended, set before exited is closed
}

func (p *proc) setState(state, reason string) {
	if p.state != state {
		p.since = time.Now()
	}
	p.state, p.reason = state, reason
}

func (p *proc) status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Status{Name: p.spec.Name, State: p.state, Reason: p.reason, Restarts: p.restarts, Since: p.since}
	if st.State == Crashloop && p.cmd != nil && !isClosed(p.exited) && time.Since(p.started) > p.opt.FastExit {
		st.State, st.Reason, st.Since = Running, "", p.started.Add(p.opt.FastExit)
	}
	if p.cmd != nil && p.cmd.Process != nil && (p.state == Running || p.state == Starting) {
		st.PID = p.cmd.Process.Pid
	}
	return st
}

// launch starts one run of the process.
func (p *proc) launch() error {
	log, err := OpenLog(p.spec.Log, p.opt.LogMax)
	if err != nil {
		return err
	}
	env := append([]string{}, p.spec.Env...)
	if p.opt.Marker != "" {
		env = append(env, p.opt.Marker)
	}
	cmd := exec.Command(p.spec.Path, p.spec.Args...)
	cmd.Env, cmd.Dir = env, p.spec.Dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A daemonised grandchild may keep the output pipe open; do not let that hide the binary's exit.
	cmd.WaitDelay = 2 * time.Second
	fmt.Fprintf(log, "herofleet: %s start %s\n", time.Now().UTC().Format(time.RFC3339), p.spec.Path)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(log, "herofleet: start failed: %v\n", err)
		log.Close()
		p.mu.Lock()
		p.setState(Failed, err.Error())
		p.mu.Unlock()
		return fmt.Errorf("start %s: %w", p.spec.Name, err)
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(exited)
	}()
	p.mu.Lock()
	p.cmd, p.log, p.started, p.exited = cmd, log, time.Now(), exited
	state := Running
	if p.fast > 0 && p.state == Crashloop {
		state = Crashloop // stays in crash loop until a run lasts
	}
	reason := p.reason
	if state == Running {
		reason = ""
	}
	p.setState(state, reason)
	p.mu.Unlock()
	return nil
}

// watch restarts the process whenever it exits on its own, until terminate.
func (p *proc) watch() {
	defer close(p.done)
	for {
		p.mu.Lock()
		exited, log, started := p.exited, p.log, p.started
		p.mu.Unlock()
		select {
		case <-p.stop:
			return
		case <-exited:
		}
		p.mu.Lock()
		err := p.exitErr
		p.mu.Unlock()
		ran := time.Since(started)
		fmt.Fprintf(log, "herofleet: %s exited after %s: %s\n", time.Now().UTC().Format(time.RFC3339), ran.Round(time.Millisecond), exitText(err))
		log.Close()
		for {
			delay := p.noteExit(exitText(err), ran)
			t := time.NewTimer(delay)
			select {
			case <-p.stop:
				t.Stop()
				return
			case <-t.C:
			}
			p.mu.Lock()
			p.restarts++
			p.mu.Unlock()
			if err = p.launch(); err == nil {
				break
			}
			p.opt.Logger.Error("restart failed", "binary", p.spec.Name, "err", err)
			ran = 0
		}
	}
}

// noteExit records an exit nobody asked for and returns how long to wait before the next start.
func (p *proc) noteExit(why string, ran time.Duration) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ran < p.opt.FastExit {
		p.fast++
	} else {
		p.fast = 0
	}
	delay := p.opt.BackoffMin << min(p.fast, 20)
	if delay > p.opt.BackoffMax || delay <= 0 {
		delay = p.opt.BackoffMax
	}
	if p.fast >= p.opt.CrashloopAt {
		p.setState(Crashloop, fmt.Sprintf("%d fast exits in a row, last %s; retrying in %s", p.fast, why, delay.Round(time.Millisecond)))
	} else {
		p.setState(Backoff, fmt.Sprintf("%s; restarting in %s", why, delay.Round(time.Millisecond)))
	}
	p.opt.Logger.Warn("binary exited", "binary", p.spec.Name, "after", ran.Round(time.Millisecond), "why", why, "restart_in", delay)
	return delay
}

// terminate stops watching and kills the process group: SIGTERM, the grace period, then SIGKILL.
func (p *proc) terminate(ctx context.Context) error {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	cmd, exited, log := p.cmd, p.exited, p.log
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.setState(Stopped, "")
		p.mu.Unlock()
	}()
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	pgid := cmd.Process.Pid
	select {
	case <-exited:
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // leftovers of the group
		return nil
	default:
	}
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	t := time.NewTimer(p.opt.Grace)
	defer t.Stop()
	select {
	case <-exited:
	case <-t.C:
		p.opt.Logger.Warn("binary ignored SIGTERM; killing", "binary", p.spec.Name, "grace", p.opt.Grace)
	case <-ctx.Done():
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-exited
	if log != nil {
		fmt.Fprintf(log, "herofleet: %s stopped\n", time.Now().UTC().Format(time.RFC3339))
		log.Close()
	}
	return nil
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.String()
	}
	return err.Error()
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

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
