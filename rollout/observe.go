package rollout

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/herofleet/herofleet/internal/promapi"
	"github.com/herofleet/herofleet/internal/redact"
)

// HostFacts is what Prometheus says of one host (by its instance label, the host's name).
type HostFacts struct {
	Commit   string        // the fleet commit it applied
	State    string        // its fleet state (ok, waiting, error, …)
	Since    time.Duration // how long ago it applied that commit, by Prometheus' clock
	Scraped  bool          // Prometheus has a current health sample of it
	Healthy  bool          // that sample says healthy
	Baked    bool          // every health sample over the bake said healthy
	Problems []string      // "books quarantined", "books_server crashloop"
}

// Observation is Prometheus' answer for a whole fleet at one instant.
type Observation struct {
	Bake  time.Duration
	Hosts map[string]*HostFacts
}

// Queries are the fixed queries of Observe, for a bake: five, whatever the number of hosts.
func Queries(bake time.Duration) []string {
	sel := `{job="` + promapi.FleetJob + `"}`
	window := strconv.FormatInt(int64(max(bake, time.Second)/time.Second), 10) + "s"
	return []string{
		"herofleet_fleet_applied_info" + sel,
		"time() - herofleet_fleet_applied_timestamp_seconds" + sel,
		"herofleet_host_healthy" + sel,
		"min_over_time(herofleet_host_healthy" + sel + "[" + window + "])",
		"herofleet_problem_info" + sel,
	}
}

// Observe asks Prometheus about every host at one instant. Any failed query fails the observation: the caller
// holds (no answer is a no).
func Observe(ctx context.Context, c *promapi.Client, bake time.Duration) (Observation, error) {
	at := time.Now()
	obs := Observation{Bake: bake, Hosts: map[string]*HostFacts{}}
	host := func(s promapi.Sample) *HostFacts {
		name := s.Labels["instance"]
		if obs.Hosts[name] == nil {
			obs.Hosts[name] = &HostFacts{}
		}
		return obs.Hosts[name]
	}
	for i, q := range Queries(bake) {
		samples, err := c.Query(ctx, q, at)
		if err != nil {
			return Observation{}, fmt.Errorf("no answer from Prometheus: %s", redact.Text(err.Error()))
		}
		for _, s := range samples {
			h := host(s)
			switch i {
			case 0:
				h.Commit, h.State = s.Labels["commit"], s.Labels["state"]
			case 1:
				h.Since = time.Duration(s.Value * float64(time.Second))
			case 2:
				h.Scraped, h.Healthy = true, s.Value == 1
			case 3:
				h.Baked = s.Value == 1
			case 4:
				what := s.Labels["app"]
				if b := s.Labels["binary"]; b != "" {
					what = b
				}
				h.Problems = append(h.Problems, what+" "+s.Labels["state"])
			}
		}
	}
	return obs, nil
}
