package window

import (
	"testing"
	"time"

	"github.com/herofleet/herofleet/fleet"
)

func mustParse(t *testing.T, ws ...fleet.Window) Windows {
	t.Helper()
	w, err := Parse(ws)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func hours(h float64) fleet.Duration {
	return fleet.Duration{Duration: time.Duration(h * float64(time.Hour))}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestSaturdayNightWindow(t *testing.T) {
	ws := mustParse(t, fleet.Window{Schedule: "0 2 * * 6", Duration: hours(2)}) // Saturdays 02:00-04:00 UTC
	for _, tc := range []struct {
		now   string
		open  bool
		until string
	}{
		{"2026-11-27T12:00:00Z", false, "2026-11-28T02:00:00Z"}, // Friday noon: waits for Saturday 02:00
		{"2026-11-28T02:00:00Z", true, "2026-11-28T04:00:00Z"},  // opens on the minute
		{"2026-11-28T03:59:59Z", true, "2026-11-28T04:00:00Z"},
		{"2026-11-28T04:00:00Z", false, "2026-12-05T02:00:00Z"}, // closed at the end
	} {
		open, until := ws.At(at(tc.now))
		if open != tc.open || !until.Equal(at(tc.until)) {
			t.Errorf("%s: open=%v until=%s, want %v %s", tc.now, open, until.Format(time.RFC3339), tc.open, tc.until)
		}
	}
}

func TestTimeZoneAndOverlaps(t *testing.T) {
	// 02:00 in Brussels is 01:00 UTC in winter.
	ws := mustParse(t,
		fleet.Window{Schedule: "CRON_TZ=Europe/Brussels 0 2 * * *", Duration: hours(1)},
		fleet.Window{Schedule: "30 0 * * *", Duration: hours(1)}, // 00:30-01:30 UTC overlaps it
	)
	open, until := ws.At(at("2026-11-27T01:15:00Z"))
	if !open || !until.Equal(at("2026-11-27T02:00:00Z")) {
		t.Errorf("inside both: open=%v until=%s; want until the later end 02:00Z", open, until)
	}
	open, until = ws.At(at("2026-11-27T02:30:00Z"))
	if open || !until.Equal(at("2026-11-28T00:30:00Z")) {
		t.Errorf("after both: open=%v until=%s; want the next start 00:30Z", open, until)
	}
}

func TestNoWindowsIsAlwaysOpen(t *testing.T) {
	if open, until := Windows(nil).At(time.Now()); !open || !until.IsZero() {
		t.Errorf("open=%v until=%v", open, until)
	}
	if _, err := Parse([]fleet.Window{{Schedule: "0 25 * * *", Duration: hours(1)}}); err == nil {
		t.Error("a bad spec must be refused")
	}
}
