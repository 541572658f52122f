package fleet

import (
	"testing"
	"time"
)

func TestAgentURL(t *testing.T) {
	for _, tc := range []struct {
		name string
		host *Host
		want string
	}{
		{"tester-09", nil, "http://tester-09:7072"},
		{"tester-07", &Host{Address: "[4a5:1c2:9e3::7]"}, "http://[4a5:1c2:9e3::7]:7072"},
		{"t1", &Host{Address: "10.0.0.1"}, "http://10.0.0.1:7072"},
		{"t1", &Host{Address: "10.0.0.1", Agent: "https://t1.example:9443/"}, "https://t1.example:9443"},
	} {
		if got := AgentURL(tc.name, tc.host); got != tc.want {
			t.Errorf("AgentURL(%s, %+v) = %s, want %s", tc.name, tc.host, got, tc.want)
		}
	}
}

func TestSchedulePeriod(t *testing.T) {
	from := mustTime(t, "2026-12-03T10:00:30Z")
	for spec, want := range map[string]string{"": "1m0s", "@every 30s": "30s", "*/5 * * * *": "5m0s", "0 3 * * *": "24h0m0s"} {
		got, err := SchedulePeriod(spec, from)
		if err != nil || got.String() != want {
			t.Errorf("SchedulePeriod(%q) = %v, %v; want %s", spec, got, err, want)
		}
	}
	if _, err := SchedulePeriod("every minute", from); err == nil {
		t.Error("a bad spec has no period")
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
