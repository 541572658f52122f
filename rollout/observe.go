package rollout

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/promapi"
	"github.com/herofleet/herofleet/internal/redact"
)

// HostFacts is what Prometheus says of one host: of the scrape target whose herofleet_host_info names it.
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

// Queries are the fixed queries of Observe, for a bake: seven, whatever the number of hosts. They ask about every
// host that reports itself (herofleet_host_info), or, when only is not nil, about those hosts alone (an agent asks
// about the earlier waves, not about the whole fleet: Prometheus reads and answers a share of the series). Series
// that carry a changing label (the commit, a problem) are read with their sample's timestamp: a Prometheus that was
// down keeps the series of before its stop for its lookback, beside the new ones, and only the newest scrape counts.
func Queries(bake time.Duration, only []string) []string {
	window := strconv.FormatInt(int64(max(bake, time.Second)/time.Second), 10) + "s"
	return []string{
		promapi.OnHost("up", only),
		promapi.OnHost("timestamp("+api.SeriesFleetApplied+")", only),
		promapi.OnHost("(time() - "+api.SeriesFleetAppliedAt+")", only),
		promapi.OnHost(api.SeriesHostHealthy, only),
		promapi.OnHost("timestamp("+api.SeriesHostHealthy+")", only),
		promapi.OnHost("min_over_time("+api.SeriesHostHealthy+"["+window+"])", only),
		promapi.OnHost("timestamp("+api.SeriesProblem+")", only),
	}
}

// Observe asks Prometheus about every host, or only about some (see Queries), at one instant. Any failed query
// fails the observation: the caller holds (no answer is a no).
func Observe(ctx context.Context, c *promapi.Client, bake time.Duration, only []string) (Observation, error) {
	at := time.Now()
	queries := Queries(bake, only)
	answers := make([][]promapi.Sample, len(queries))
	for i, q := range queries {
		samples, err := c.Query(ctx, q, at)
		if err != nil {
			return Observation{}, fmt.Errorf("no answer from Prometheus: %s", redact.Text(err.Error()))
		}
		answers[i] = samples
	}
	return Decode(bake, answers), nil
}

// Decode is the observation in the answers to Queries, in their order (seven of them; the
// samples of several answers to one query, each narrowed to some hosts, may be joined).
func Decode(bake time.Duration, answers [][]promapi.Sample) Observation {
	answers = append(answers, make([][]promapi.Sample, max(0, 7-len(answers)))...) // a missing answer says nothing
	up, applied, since, healthy, scraped, baked, problems := answers[0], answers[1], answers[2], answers[3], answers[4], answers[5], answers[6]
	obs := Observation{Bake: bake, Hosts: map[string]*HostFacts{}}
	host := func(s promapi.Sample) *HostFacts {
		name := s.Labels[api.LabelHost]
		if obs.Hosts[name] == nil {
			obs.Hosts[name] = &HostFacts{}
		}
		return obs.Hosts[name]
	}
	upNow := map[string]bool{}
	for _, s := range up {
		upNow[s.Labels[api.LabelHost]] = s.Value == 1
	}
	newest := map[string]float64{} // the applied commit's sample time, per host
	for _, s := range applied {
		h, name := host(s), s.Labels[api.LabelHost]
		if s.Value >= newest[name] {
			newest[name] = s.Value
			h.Commit, h.State = s.Labels[api.LabelCommit], s.Labels[api.LabelState]
		}
	}
	for _, s := range since {
		host(s).Since = time.Duration(s.Value * float64(time.Second))
	}
	for _, s := range healthy {
		h := host(s)
		h.Scraped, h.Healthy = upNow[s.Labels[api.LabelHost]], s.Value == 1
	}
	last := map[string]float64{} // each host's last scrape that carried its health
	for _, s := range scraped {
		last[s.Labels[api.LabelHost]] = s.Value
	}
	for _, s := range baked {
		host(s).Baked = s.Value == 1
	}
	for _, s := range problems {
		if s.Value != last[s.Labels[api.LabelHost]] {
			continue // a problem of an older scrape, kept by Prometheus' lookback
		}
		what := s.Labels[api.LabelApp]
		if b := s.Labels[api.LabelBinary]; b != "" {
			what = b
		}
		state := s.Labels[api.LabelState]
		if state == string(api.AppInstalled) && s.Labels[api.LabelCode] != "" {
			state = s.Labels[api.LabelCode] // installed, yet not on the commit: the code says it
		}
		h := host(s)
		h.Problems = append(h.Problems, what+" "+state)
	}
	return obs
}
