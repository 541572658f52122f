package supervise

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// proc is one supervised binary.
type proc struct {
	spec Spec
	opt  Options
	stop chan struct{} // closed by terminate
	done chan struct{} // closed when watch returns

	mu       sync.Mutex
	pid      int    // the current run's process; 0 before the first
	grp      *group // the current run's process group
	state    State
	reason   string
	since    time.Time
	started  time.Time
	restarts int
	fast     int
	exited   chan struct{} // closed when the current run ends
	exitErr  error         // how it ended, set before exited is closed
}

func (p *proc) setState(state State, reason string) {
	if p.state != state {
		p.since = time.Now()
	}
	p.state, p.reason = state, reason
}

func (p *proc) status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Status{Name: p.spec.Name, State: p.state, Reason: p.reason, Restarts: p.restarts, Since: p.since}
	if st.State == Crashloop && p.pid != 0 && !isClosed(p.exited) && time.Since(p.started) > p.opt.FastExit {
		st.State, st.Reason, st.Since = Running, "", p.started.Add(p.opt.FastExit)
	}
	if p.pid != 0 && (p.state == Running || p.state == Starting) {
		st.PID = p.pid
	}
	return st
}

// launch starts one run of the process, its listen socket cleared first. The process writes its output to its log
// file itself (a descriptor opened for appending, not a pipe through the agent), so it outlives the agent; capLog
// keeps the file's size in bounds.
func (p *proc) launch() error {
	out, err := os.OpenFile(p.spec.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("start %s: open log: %w", p.spec.Name, err)
	}
	defer out.Close() // the child has its own copy
	// failed says why the start failed, in the binary's log and its state.
	failed := func(err error) error {
		fmt.Fprintf(out, "herofleet: start failed: %v\n", err)
		p.mu.Lock()
		p.setState(Failed, err.Error())
		p.mu.Unlock()
		return fmt.Errorf("start %s: %w", p.spec.Name, err)
	}
	if err := clearSocket(p.spec.Socket); err != nil {
		return failed(err)
	}
	env := append([]string{}, p.spec.Env...)
	if p.opt.Marker != "" {
		env = append(env, p.opt.Marker)
	}
	cmd := exec.Command(p.spec.Path, p.spec.Args...)
	cmd.Env, cmd.Dir = env, p.spec.Dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	fmt.Fprintf(out, "herofleet: %s start %s\n", time.Now().UTC().Format(time.RFC3339), p.spec.Path)
	if err := cmd.Start(); err != nil {
		return failed(err)
	}
	exited := make(chan struct{})
	grp := &group{pgid: cmd.Process.Pid, pidfd: -1}
	go func() {
		err := grp.end(cmd.Wait) // the whole group is gone when exited closes
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(exited)
	}()
	p.begin(cmd.Process.Pid, grp, time.Now(), exited)
	if p.opt.OnRun != nil {
		// cmd.Start returned after the exec: /proc shows the binary. A process that already exited has no
		// identity, and nothing is recorded of it.
		if id, err := Identify(cmd.Process.Pid); err == nil {
			p.opt.OnRun(p.spec.Name, Run{Identity: id, Spec: SpecHash(p.spec)})
		}
	}
	return nil
}

// begin makes a run the current one.
func (p *proc) begin(pid int, grp *group, started time.Time, exited chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pid, p.grp, p.started, p.exited = pid, grp, started, exited
	state := Running
	if p.fast > 0 && p.state == Crashloop {
		state = Crashloop // stays in crash loop until a run lasts
	}
	reason := p.reason
	if state == Running {
		reason = ""
	}
	p.setState(state, reason)
	if state == Running && !started.IsZero() {
		p.since = started
	}
}

// adopt makes the process of rec, held by pidfd, the current run: it is watched, signalled and restarted after an
// exit like a run this supervisor started.
func (p *proc) adopt(rec Run, pidfd int) {
	exited := make(chan struct{})
	grp := &group{pgid: rec.PID, pidfd: pidfd}
	go func() {
		err := grp.endAdopted()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(exited)
	}()
	started := startedAt(rec.Start)
	if started.IsZero() {
		started = time.Now()
	}
	p.begin(rec.PID, grp, started, exited)
	p.note("adopted pid %d, running since %s, from a previous agent", rec.PID, started.UTC().Format(time.RFC3339))
}

// note appends one line of the supervisor's own to the binary's log.
func (p *proc) note(format string, args ...any) {
	f, err := os.OpenFile(p.spec.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		p.opt.Logger.Warn("binary log", "binary", p.spec.Name, "err", err)
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "herofleet: %s %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

// squatter is the process that holds the binary's TCP port after it exited, when one does.
func (p *proc) squatter() (Holder, bool) {
	if p.spec.TCP == "" {
		return Holder{}, false
	}
	return PortHolder(p.spec.TCP)
}

// watch restarts the process whenever it exits on its own, until terminate.
func (p *proc) watch() {
	defer close(p.done)
	for {
		p.mu.Lock()
		exited, started := p.exited, p.started
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
		why := exitText(err)
		if h, ok := p.squatter(); ok {
			why += "; port " + p.spec.TCP + " is held by " + h.String()
		}
		p.note("exited after %s: %s", ran.Round(time.Millisecond), why)
		for {
			delay := p.noteExit(why, ran)
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
			why, ran = exitText(err), 0
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
	pid, grp, exited := p.pid, p.grp, p.exited
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.setState(Stopped, "")
		p.mu.Unlock()
	}()
	if pid == 0 {
		return nil
	}
	if isClosed(exited) {
		return nil // the run ended on its own and its whole group went with it
	}
	grp.signal(syscall.SIGTERM)
	t := time.NewTimer(p.opt.Grace)
	defer t.Stop()
	select {
	case <-exited:
	case <-t.C:
		p.opt.Logger.Warn("binary ignored SIGTERM; killing", "binary", p.spec.Name, "grace", p.opt.Grace)
	case <-ctx.Done():
	}
	grp.signal(syscall.SIGKILL)
	<-exited // closed once no process of the group is left
	p.note("stopped on request")
	return nil
}

// release stops watching the process and leaves it running: no signal, no restart (see Supervisor.Release).
func (p *proc) release() {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	pid, exited := p.pid, p.exited
	p.mu.Unlock()
	if pid != 0 && !isClosed(exited) {
		p.note("left running as pid %d by the agent's stop, for the next agent to adopt", pid)
	}
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

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
