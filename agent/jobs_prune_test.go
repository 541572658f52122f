package agent

import (
	"fmt"
	"testing"
	"time"

	"github.com/herofleet/herofleet/api"
)

// A long-lived agent forgets its oldest finished install jobs, never one still running.
func TestJobsArePruned(t *testing.T) {
	b := &jobBook{jobs: map[string]*job{}}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range maxJobs + 20 {
		phase := api.PhaseHealthy
		if i < 5 {
			phase = api.PhaseBuilding // the five oldest are still running
		}
		id := fmt.Sprintf("%d-app", i)
		b.jobs[id] = &job{Job: Job{ID: id, Phase: phase, Started: start.Add(time.Duration(i) * time.Minute)}}
	}
	b.prune()
	if len(b.jobs) != maxJobs {
		t.Fatalf("%d jobs kept, want %d", len(b.jobs), maxJobs)
	}
	for i := range 5 {
		if b.jobs[fmt.Sprintf("%d-app", i)] == nil {
			t.Errorf("running job %d was dropped", i)
		}
	}
	for i := 5; i < 25; i++ {
		if b.jobs[fmt.Sprintf("%d-app", i)] != nil {
			t.Errorf("old finished job %d was kept", i)
		}
	}
}
