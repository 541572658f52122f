package agent

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/herofleet/herofleet/api"
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
	Phase   api.Phase `json:"phase"` // fetching | building | starting | healthy | failed
	LogTail string    `json:"log_tail"`
	Error   string    `json:"error"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
}

// job is a Job being followed. Its own lock lets build output flow in without the host's.
type job struct {
	mu sync.Mutex
	Job
	tail []byte // the newest output, at most 2*jobTailBytes
}

const jobLogLines = 50

// jobTailBytes bounds a job's log_tail: a build printing gigabytes without a newline keeps its last 16 KiB.
const jobTailBytes = 16 << 10

// maxJobs bounds the finished jobs an agent remembers; an unfinished job is never dropped.
const maxJobs = 100

func (j *job) setPhase(p api.Phase) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.done() {
		return
	}
	j.Phase = p
	if p == api.PhaseHealthy || p == api.PhaseFailed {
		j.Ended = time.Now().UTC()
	}
}

func (j *job) fail(reason string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.done() {
		return
	}
	j.Phase, j.Error, j.Ended = api.PhaseFailed, reason, time.Now().UTC()
}

func (j *job) done() bool { return j.Phase == api.PhaseHealthy || j.Phase == api.PhaseFailed }

func (j *job) isDone() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.done()
}

// Write takes build output for the log tail. It keeps the newest bytes only, in a buffer it compacts once it
// holds twice the tail: memory is bounded and each byte is copied a bounded number of times, so the lock (which a
// status read takes too) is held for a short copy whatever the output looks like.
func (j *job) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > jobTailBytes {
		p = p[len(p)-jobTailBytes:]
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.tail)+len(p) > 2*jobTailBytes {
		keep := jobTailBytes - len(p)
		j.tail = append(j.tail[:0], j.tail[len(j.tail)-keep:]...)
	}
	if j.tail == nil {
		j.tail = make([]byte, 0, 2*jobTailBytes)
	}
	j.tail = append(j.tail, p...)
	return n, nil
}

func (j *job) snapshot() Job {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := j.Job
	out.LogTail = lastLines(j.tail[max(0, len(j.tail)-jobTailBytes):], jobLogLines)
	return out
}

// lastLines is the last n lines of b (the unfinished last line counts as one).
func lastLines(b []byte, n int) string {
	end := len(b)
	if end > 0 && b[end-1] == '\n' {
		end--
	}
	for i := end - 1; i >= 0; i-- {
		if b[i] == '\n' {
			if n--; n == 0 {
				return string(b[i+1:])
			}
		}
	}
	return string(b)
}

// jobBook is the install jobs of a host; hostState owns it and holds its lock around every call.
type jobBook struct {
	jobs map[string]*job
	seq  int
}

// open starts following an install of app.
func (b *jobBook) open(app string) Job {
	b.seq++
	j := &job{Job: Job{ID: fmt.Sprintf("%d-%s", b.seq, app), App: app, Phase: api.PhaseFetching, Started: time.Now().UTC()}}
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
