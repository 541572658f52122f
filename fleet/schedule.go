package fleet

import (
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ParseSchedule reads a schedule (sync.schedule, a maintenance window's start) as every part of herofleet does:
// robfig/cron's standard parser, 5 fields or a descriptor, in UTC unless the spec starts with CRON_TZ= (or TZ=).
// robfig/cron alone would read it in the machine's local time.
func ParseSchedule(spec string) (cron.Schedule, error) {
	if !strings.HasPrefix(spec, "CRON_TZ=") && !strings.HasPrefix(spec, "TZ=") {
		spec = "CRON_TZ=UTC " + spec
	}
	return cron.ParseStandard(spec)
}

// SchedulePeriod is how long a schedule waits between two runs after from: for "@every 1m", a minute; for a cron
// spec, the gap between its next two runs. Fleet tools call a host stale when its last sync is older than three.
func SchedulePeriod(spec string, from time.Time) (time.Duration, error) {
	if spec == "" {
		spec = DefaultSchedule
	}
	s, err := ParseSchedule(spec)
	if err != nil {
		return 0, err
	}
	next := s.Next(from)
	return s.Next(next).Sub(next), nil
}
