package agent

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Errors of the install calls, for the API to map to status codes.
var (
	ErrNotInCatalog = errors.New("not in this host's catalog")
	ErrInstalled    = errors.New("already installed")
	ErrNotClicked   = errors.New("not installed on click")
	ErrNoFleet      = errors.New("no fleet applied yet")
)

// Job is one install on click, followed through its phases.
type Job struct {
	ID      string    `json:"id"`
	App     string    `json:"app"`
	Phase   string    `json:"phase"` // fetching | building | starting | healthy | failed
	LogTail string    `json:"log_tail"`
	Error   string    `json:"error"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
}

// job is a Job being followed.
type job struct {
	mu sync.Mutex
	Job
	log []string
}

const jobLogLines = 50

// maxJobs bounds the finished jobs an agent remembers; an unfinished job is never dropped.
const maxJobs = 100

func (j *job) setPhase(p string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.done() {
		return
	}
	j.Phase = p
	if p == PhaseHealthy || p == PhaseFailed {
		j.Ended = time.Now().UTC()
	}
}

func (j *job) fail(reason string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.done() {
		return
	}
	j.Phase, j.Error, j.Ended = PhaseFailed, reason, time.Now().UTC()
}

func (j *job) done() bool { return j.Phase == PhaseHealthy || j.Phase == PhaseFailed }

// Write takes build output for the log tail.
func (j *job) Write(p []byte) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, line := range strings.SplitAfter(string(p), "\n") {
		if line == "" {
			continue
		}
		if n := len(j.log); n > 0 && !strings.HasSuffix(j.log[n-1], "\n") {
			j.log[n-1] += line
		} else {
			j.log = append(j.log, line)
		}
	}
	if n := len(j.log); n > jobLogLines {
		j.log = j.log[n-jobLogLines:]
	}
	return len(p), nil
}

func (j *job) snapshot() Job {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := j.Job
	out.LogTail = strings.Join(j.log, "")
	return out
}

// Install installs app from the host's catalog (with its needs) and remembers it across restarts. The job
// follows it; the work happens in the next sync, which is triggered at once.
func (a *Agent) Install(app string) (Job, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	d := a.desired
	if d == nil {
		return Job{}, ErrNoFleet
	}
	// Clicked covers a click whose install has not started yet: a second click is a 409, not a second job.
	if _, ok := d.App(app); ok || a.state.Apps[app] != nil || slices.Contains(a.state.Clicked, app) {
		return Job{}, fmt.Errorf("%s: %w", app, ErrInstalled)
	}
	if !slices.Contains(d.Catalog, app) {
		return Job{}, fmt.Errorf("%s: %w", app, ErrNotInCatalog)
	}
	a.state.Clicked = append(a.state.Clicked, app)
	if err := a.saveLocked(); err != nil {
		return Job{}, err
	}
	a.jobSeq++
	j := &job{Job: Job{ID: fmt.Sprintf("%d-%s", a.jobSeq, app), App: app, Phase: PhaseFetching, Started: time.Now().UTC()}}
	a.jobs[j.ID] = j
	a.pruneJobsLocked()
	a.Sync()
	return j.snapshot(), nil
}

// pruneJobsLocked forgets the oldest finished jobs beyond maxJobs; a.mu is held.
func (a *Agent) pruneJobsLocked() {
	if len(a.jobs) <= maxJobs {
		return
	}
	var finished []*job
	for _, j := range a.jobs {
		j.mu.Lock()
		if j.done() {
			finished = append(finished, j)
		}
		j.mu.Unlock()
	}
	slices.SortFunc(finished, func(x, y *job) int { return x.Started.Compare(y.Started) })
	for _, j := range finished[:min(len(finished), len(a.jobs)-maxJobs)] {
		delete(a.jobs, j.ID)
	}
}

// Uninstall removes an app installed on click at the next sync (triggered at once); its data stays.
func (a *Agent) Uninstall(app string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !slices.Contains(a.state.Clicked, app) {
		return fmt.Errorf("%s: %w", app, ErrNotClicked)
	}
	a.state.Clicked = slices.DeleteFunc(a.state.Clicked, func(s string) bool { return s == app })
	if err := a.saveLocked(); err != nil {
		return err
	}
	a.Sync()
	return nil
}

// JobStatus returns a job by id.
func (a *Agent) JobStatus(id string) (Job, bool) {
	a.mu.Lock()
	j := a.jobs[id]
	a.mu.Unlock()
	if j == nil {
		return Job{}, false
	}
	return j.snapshot(), true
}

// activeJobLocked is the unfinished job of app, if any; a.mu is held.
func (a *Agent) activeJobLocked(app string) *job {
	for _, j := range a.jobs {
		if j.App == app {
			j.mu.Lock()
			done := j.done()
			j.mu.Unlock()
			if !done {
				return j
			}
		}
	}
	return nil
}

// progress is where an app's build output goes besides its log: the app's job, if one is open.
func (a *Agent) progress(app string) io.Writer {
	a.mu.Lock()
	defer a.mu.Unlock()
	if j := a.activeJobLocked(app); j != nil {
		return j
	}
	return io.Discard
}
