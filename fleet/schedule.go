package fleet

import (
	"strings"

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
