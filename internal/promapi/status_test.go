package promapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Scrapes reads each job's interval from Prometheus' loaded configuration (a job without its own has the global
// one, a job the configuration does not name too) and its start from its runtime.
func TestScrapes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/status/config":
			fmt.Fprint(w, `{"status":"success","data":{"yaml":"global:\n  scrape_interval: 15s\nscrape_configs:\n- job_name: testers\n  scrape_interval: 1m30s\n- job_name: herofleet\n"}}`)
		case "/api/v1/status/runtimeinfo":
			fmt.Fprint(w, `{"status":"success","data":{"startTime":"2026-12-07T10:00:00.5Z","CWD":"/"}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, _ := New(srv.URL, 5*time.Second)
	s, err := c.Scrapes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Interval("testers") != 90*time.Second || s.Interval("herofleet") != 15*time.Second || s.Interval("relabelled") != 15*time.Second {
		t.Errorf("intervals %+v", s)
	}
	if want := time.Date(2026, 12, 7, 10, 0, 0, 5e8, time.UTC); !s.Started.Equal(want) {
		t.Errorf("started %s, want %s", s.Started, want)
	}
	for in, want := range map[string]time.Duration{"15s": 15 * time.Second, "1m": time.Minute, "1d": 24 * time.Hour, "500ms": 500 * time.Millisecond} {
		if got, err := ParseDuration(in); got != want || err != nil {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := ParseDuration("soon"); err == nil {
		t.Error("ParseDuration(soon): no error")
	}
}
