package agent

import (
	"fmt"
	"testing"
	"time"
)

// A long-lived agent forgets its oldest finished install jobs, never one still running.
func TestJobsArePruned(t *testing.T) {
	a := &Agent{jobs: map[string]*job{}}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range maxJobs + 20 {
		phase := PhaseHealthy
		if i < 5 {
			phase = PhaseBuilding // the five oldest are still running
		}
		id := fmt.Sprintf("%d-app", i)
		a.jobs[id] = &job{Job: Job{ID: id, Phase: phase, Started: start.Add(time.Duration(i) * time.Minute)}}
	}
	a.pruneJobsLocked()
	if len(a.jobs) != maxJobs {
		t.Fatalf("%d jobs kept, want %d", len(a.jobs), maxJobs)
	}
	for i := range 5 {
		if a.jobs[fmt.Sprintf("%d-app", i)] == nil {
			t.Errorf("running job %d was dropped", i)
		}
	}
	for i := 5; i < 25; i++ {
		if a.jobs[fmt.Sprintf("%d-app", i)] != nil {
			t.Errorf("old finished job %d was kept", i)
		}
	}
}
