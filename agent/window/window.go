package window

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/herofleet/herofleet/fleet"
)

// Windows are a fleet's maintenance windows.
type Windows []window

type window struct {
	schedule cron.Schedule
	duration time.Duration
}

// Parse reads fleet.yaml's maintenance list. Schedules without CRON_TZ= are read in UTC.
func Parse(ws []fleet.Window) (Windows, error) {
	out := make(Windows, 0, len(ws))
	for i, w := range ws {
		s, err := fleet.ParseSchedule(w.Schedule)
		if err != nil {
			return nil, fmt.Errorf("maintenance[%d].schedule: %w", i, err)
		}
		if w.Duration.Duration <= 0 {
			return nil, fmt.Errorf("maintenance[%d].duration must be positive", i)
		}
		out = append(out, window{schedule: s, duration: w.Duration.Duration})
	}
	return out, nil
}

// At says whether a window is open at now. When one is, until is when the last open window closes; when none is,
// until is when the next one opens. A fleet with no windows is always open (until is zero).
func (ws Windows) At(now time.Time) (open bool, until time.Time) {
	if len(ws) == 0 {
		return true, time.Time{}
	}
	for _, w := range ws {
		// A window that covers now started in (now-duration, now]; walk the starts in that span.
		for start := w.schedule.Next(now.Add(-w.duration)); !start.After(now); start = w.schedule.Next(start) {
			if end := start.Add(w.duration); end.After(now) {
				open = true
				if end.After(until) {
					until = end
				}
			}
		}
	}
	if open {
		return true, until.UTC()
	}
	for _, w := range ws {
		if next := w.schedule.Next(now); until.IsZero() || next.Before(until) {
			until = next
		}
	}
	return false, until.UTC()
}
