package fleet

import (
	"testing"
	"time"
)

func TestParseScheduleIsUTCUnlessSaid(t *testing.T) {
	brussels, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	from := time.Date(2026, 11, 27, 12, 0, 0, 0, brussels) // 11:00 UTC
	for spec, want := range map[string]time.Time{
		"0 3 * * *":                         time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC),
		"CRON_TZ=Europe/Brussels 0 3 * * *": time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC),
		"@every 1m":                         from.Add(time.Minute),
	} {
		s, err := ParseSchedule(spec)
		if err != nil {
			t.Fatal(spec, err)
		}
		if got := s.Next(from); !got.Equal(want) {
			t.Errorf("%s: next %s, want %s", spec, got.UTC(), want.UTC())
		}
	}
	if _, err := ParseSchedule("0 25 * * *"); err == nil {
		t.Error("a bad spec must be refused")
	}
}
