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
	Phase   Phase     `json:"phase"` // fetching | building | starting | healthy | failed
	LogTail string    `json:"log_tail"`
	Error   string    `json:"error"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
}

// job is a Job being followed. Its own lock lets build output flow in without the host's.
type job struct {
	mu sync.Mutex
	Job
	log []string
}

const jobLogLines = 50

// maxJobs bounds the finished jobs an agent remembers; an unfinished job is never dropped.
const maxJobs = 100

func (j *job) setPhase(p Phase) {
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

func (j *job) isDone() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.done()
}

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

// jobBook is the install jobs of a host; hostState owns it and holds its lock around every call.
type jobBook struct {
	jobs map[string]*job
	seq  int
}

// open starts following an install of app.
func (b *jobBook) open(app string) Job {
	b.seq++
	j := &job{Job: Job{ID: fmt.Sprintf("%d-%s", b.seq, app), App: app, Phase: PhaseFetching, Started: time.Now().UTC()}}
	b.jobs[j.ID] = j
	b.prune()
	return j.snapshot()
}

// prune forgets the oldest finished jobs beyond maxJobs.
func (b *jobBook) prune() {
	if len(b.jobs) <= maxJobs {
		return
	}
	var finished []*job
	for _, j := range b.jobs {
		if j.isDone() {
			finished = append(finished, j)
		}
	}
	slices.SortFunc(finished, func(x, y *job) int { return x.Started.Compare(y.Started) })
	for _, j := range finished[:min(len(finished), len(b.jobs)-maxJobs)] {
		delete(b.jobs, j.ID)
	}
}

// active is the unfinished job of app, if any.
func (b *jobBook) active(app string) *job {
	for _, j := range b.jobs {
		if j.App == app && !j.isDone() {
			return j
		}
	}
	return nil
}

// job returns a job by id.
func (h *hostState) job(id string) (Job, bool) {
	h.mu.Lock()
	j := h.jobs.jobs[id]
	h.mu.Unlock()
	if j == nil {
		return Job{}, false
	}
	return j.snapshot(), true
}

// jobOutput is where an app's build output goes besides its log: the app's job, if one is open.
func (h *hostState) jobOutput(app string) io.Writer {
	h.mu.Lock()
	defer h.mu.Unlock()
	if j := h.jobs.active(app); j != nil {
		return j
	}
	return io.Discard
}
