package agent

import (
	"math/rand/v2"
	"time"

	"github.com/herofleet/herofleet/fleet"
)

// nextWait is the time to the next scheduled sync (plus jitter), or the backoff after failures.
func (a *Agent) nextWait(err error) time.Duration {
	failures := a.host.syncFailures()
	var meta fleet.Meta
	if good := a.host.goodFleet(); good != nil {
		meta = good.Meta
	}
	sched, perr := fleet.ParseSchedule(a.syncSpec(meta))
	if perr != nil {
		sched, _ = fleet.ParseSchedule(fleet.DefaultSchedule)
	}
	now := a.now()
	d := sched.Next(now).Sub(now)
	if err != nil && failures > 0 {
		// A failing sync backs off (1s, 2s, 4s… up to backoff_max), but never waits longer than the schedule's
		// own poll would: once the forge answers again the host catches up within one poll.
		limit := a.cfg.BackoffMax.Duration
		if limit <= 0 {
			limit = 5 * time.Minute
		}
		b := min(time.Second<<min(failures-1, 16), limit)
		b = b/2 + rand.N(b/2+1)
		return min(b, max(d, time.Second))
	}
	if j := meta.Sync.Jitter.Duration; j > 0 && a.cfg.Schedule == "" {
		d += rand.N(j)
	}
	return a.untilWake(max(d, 0)) // a held change applies when its window opens, not at the next poll
}

// syncSpec is the schedule in effect: the config's, else the fleet's, else the default.
func (a *Agent) syncSpec(meta fleet.Meta) string {
	spec := a.cfg.Schedule
	if spec == "" {
		spec = meta.Sync.Schedule
	}
	if spec == "" {
		spec = fleet.DefaultSchedule
	}
	return spec
}

// syncPeriod is the time between two scheduled syncs (fleet tools call a host stale after three).
func (a *Agent) syncPeriod() time.Duration {
	var meta fleet.Meta
	if good := a.host.goodFleet(); good != nil {
		meta = good.Meta
	}
	d, err := fleet.SchedulePeriod(a.syncSpec(meta), a.now())
	if err != nil {
		d, _ = fleet.SchedulePeriod(fleet.DefaultSchedule, a.now())
	}
	return d
}
