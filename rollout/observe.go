package rollout

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/promapi"
	"github.com/herofleet/herofleet/internal/redact"
)

// HostFacts is what Prometheus says of one host: of the scrape target whose herofleet_host_info names it. Every
// time in it is Prometheus' own: the timestamps of its samples, never an agent's clock.
type HostFacts struct {
	Commit   string        // the fleet commit it applied
	State    string        // its fleet state (ok, waiting, error, …)
	Since    time.Duration // how long it has been healthy on the commit judged, by Prometheus' samples (at most the bake)
	Scraped  bool          // Prometheus has a current health sample of it
	Healthy  bool          // that sample says healthy
	Baked    bool          // healthy on the commit at every scrape of the bake, with no gap, failed scrape or restart
	BakeWhy  string        // what keeps it from baked, beside the bake's time: a gap, a restart of its agent or of Prometheus
	Problems []string      // "books quarantined", "books_server crashloop"
}

// Observation is Prometheus' answer for a whole fleet at one instant.
type Observation struct {
	Bake  time.Duration
	Hosts map[string]*HostFacts
}

// The queries of Observe, in order: first the hosts' targets, then six narrowed to those targets.
const (
	qTargets  = iota // each host's herofleet_host_info: its scrape target (instance, job), at the time of its last scrape
	qApplied         // the applied commit and fleet state, with the sample's timestamp
	qHealthy         // the current health
	qProblems        // the problems, with their samples' timestamps
	qOnCommit        // the samples of the bake at which the host was healthy on the commit (a sum of 1s; none if any is not 0 or 1; -1 if its target stamped some)
	qScrapes         // the scrapes Prometheus tried in the bake (up has a sample at each, 0 when it failed)
	qRestarts        // the restarts of the host's agent in the bake
	nQueries
)

// TargetsQuery is the first query of Observe: the herofleet_host_info of the hosts (of every host when only is
// nil), each naming its host, with its scrape target's labels (instance, job) and the time of its last scrape.
// A host is known by its own name, whatever the scrape configuration (static targets by address, file_sd,
// relabelling, any job name).
func TargetsQuery(only []string) string { return "timestamp(" + promapi.HostSelector(only) + ")" }

// Queries are the six queries of Observe after TargetsQuery, for a bake, the commit judged and the targets its
// answer named: seven in all, whatever the number of hosts, each narrowed to those targets (Prometheus reads the
// series of the earlier waves' hosts alone). Series that carry a changing label (the commit, a problem) are read
// with their sample's timestamp: a Prometheus that was down keeps the series of before its stop for its lookback,
// beside the new ones, and only the newest scrape counts.
//
// The bake is counted in Prometheus' own samples over the window ending at its own now (no time is sent): the
// scrapes at which the host said healthy on the commit must be every scrape Prometheus tried (up has a sample at
// each, failed or not; a healthy-on-commit sample exists only for a successful scrape on that commit), each
// stamped by Prometheus itself (none in the window carries a time its target wrote: see stampedByTarget), their
// number must leave no gap longer than two scrape intervals, and the agent's start time must not change.
func Queries(bake time.Duration, commit string, targets []promapi.Sample) []string {
	window := "[" + seconds(max(bake, time.Second)) + "]"
	m := targetMatchers(targets)
	q := make([]string, nQueries)
	q[qTargets] = ""
	q[qApplied] = "timestamp(" + api.SeriesFleetApplied + "{" + m + "})"
	q[qHealthy] = api.SeriesHostHealthy + "{" + m + "}"
	q[qProblems] = "timestamp(" + api.SeriesProblem + "{" + m + "})"
	healthyOn := api.SeriesHealthyOn + "{" + api.LabelCommit + "=" + promapi.Quote(commit) + "," + m + "}"
	onCommit := healthyOn + window
	// A sum of 1s: a value above 1 (or ±Inf) would count one sample as several scrapes, so a series with any
	// sample outside 0..1 in the window counts none (NaN makes the sum NaN, which Decode drops).
	// A target that stamped samples itself counts none: it answers -1 (see stampedByTarget), and its sum is left out.
	q[qOnCommit] = "(" + stampedByTarget(healthyOn, m, bake) + " * 0 - 1) or on(" + promapi.TargetLabels + ") " +
		"sum_over_time(" + onCommit + ") unless (max_over_time(" + onCommit + ") > 1 or min_over_time(" + onCommit + ") < 0)"
	q[qScrapes] = "count_over_time(up{" + m + "}" + window + ")"
	q[qRestarts] = "changes(" + api.ProcessStart + "{" + m + "}" + window + ")"
	return q[1:]
}

// stampedByTarget is the targets that stamped samples of series themselves in the bake. Prometheus honours the
// timestamps a target writes on its samples (honor_timestamps, on by default), so whatever answers on an agent's
// port could carry a whole bake of healthy-on-commit samples in one scrape, stamped in the past, or several
// between two scrapes. A sample Prometheus stamps carries its scrape's timestamp, the same as that scrape's up, so
// an honest target never shows here, whatever the scrape configuration. A target does when the window holds more
// of its samples than scrapes of it (up has one at each), or when, at an instant of the window, its latest sample
// does not carry the timestamp of its latest up: read by a subquery every step (a 20th of the bake, a second at
// least), it sees a backfilled bake, or any sample standing in for a scrape's own, whole scrape intervals long (a
// backfill shorter than a step could open the gate that much early: the subquery's cost is in its steps, 60 ms of
// Prometheus' for 251 hosts every 10 s of a 10m bake, 27 ms every 30 s). Only a target that wrote Prometheus' own
// scrape timestamps, to the millisecond, would pass; honor_timestamps: false in the scrape configuration closes that
// too.
func stampedByTarget(series, m string, bake time.Duration) string {
	window, step := seconds(max(bake, time.Second)), seconds(max(time.Second, bake/20))
	up := "up{" + m + "}"
	on := " on(" + promapi.TargetLabels + ") group_left() "
	crowded := "count_over_time(" + series + "[" + window + "]) >" + on + "count_over_time(" + up + "[" + window + "])"
	offbeat := "count_over_time((timestamp(" + series + ") !=" + on + "timestamp(" + up + "))[" + window + ":" + step + "])"
	return "(" + crowded + " or " + offbeat + ")"
}

// seconds is a PromQL duration of whole seconds.
func seconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) + "s" }

// targetMatchers select the scrape targets of the samples (and perhaps a few more: an instance of one job with
// the job of another; Decode keeps only the targets themselves).
func targetMatchers(targets []promapi.Sample) string {
	var instances, jobs []string
	seen := map[string]bool{}
	for _, t := range targets {
		if i := "i" + t.Labels["instance"]; !seen[i] {
			seen[i] = true
			instances = append(instances, regexp.QuoteMeta(t.Labels["instance"]))
		}
		if j := "j" + t.Labels["job"]; !seen[j] {
			seen[j] = true
			jobs = append(jobs, regexp.QuoteMeta(t.Labels["job"]))
		}
	}
	return "instance=~" + promapi.Quote(strings.Join(instances, "|")) + ",job=~" + promapi.Quote(strings.Join(jobs, "|"))
}

// Ask asks Prometheus the queries of Observe about the hosts (every host when only is nil) at its own now and
// returns their answers, in order: TargetsQuery's, then Queries'. No target found: the other six are not asked.
func Ask(ctx context.Context, c *promapi.Client, bake time.Duration, commit string, only []string) ([][]promapi.Sample, error) {
	answers := make([][]promapi.Sample, nQueries)
	ask := func(i int, q string) error {
		samples, err := c.Query(ctx, q, time.Time{}) // at Prometheus' own now
		if err != nil {
			return fmt.Errorf("no answer from Prometheus: %s", redact.Text(err.Error()))
		}
		answers[i] = samples
		return nil
	}
	if err := ask(qTargets, TargetsQuery(only)); err != nil || len(answers[qTargets]) == 0 {
		return answers, err
	}
	for i, q := range Queries(bake, commit, answers[qTargets]) {
		if err := ask(i+1, q); err != nil {
			return nil, err
		}
	}
	return answers, nil
}

// Observe asks Prometheus about every host, or only about some (see Queries), at its own now, and how it scrapes
// (each job's interval, its start). Any failed request fails the observation: the caller holds (no answer is a no).
func Observe(ctx context.Context, c *promapi.Client, bake time.Duration, commit string, only []string) (Observation, error) {
	scrapes, err := c.Scrapes(ctx)
	if err != nil {
		return Observation{}, fmt.Errorf("no answer from Prometheus: %s", redact.Text(err.Error()))
	}
	answers, err := Ask(ctx, c, bake, commit, only)
	if err != nil {
		return Observation{}, err
	}
	return Decode(bake, scrapes, answers), nil
}

// Decode is the observation in the answers of Ask, in their order (the samples of several answers to one query,
// each narrowed to some hosts, may be joined), given how Prometheus scrapes. Each sample is the host's whose
// herofleet_host_info its scrape target (instance, job) carries; samples of other targets are left out.
func Decode(bake time.Duration, scrapes promapi.Scrapes, answers [][]promapi.Sample) Observation {
	answers = append(answers, make([][]promapi.Sample, max(0, nQueries-len(answers)))...) // a missing answer says nothing
	obs := Observation{Bake: bake, Hosts: map[string]*HostFacts{}}
	hostOf := map[promapi.Target]string{}
	last := map[string]float64{} // each host's last scrape
	for _, s := range answers[qTargets] {
		name := s.Labels[api.LabelHost]
		hostOf[promapi.TargetOf(s)] = name
		last[name] = max(last[name], s.Value)
	}
	// each calls f with the host and facts of every sample of answer q that is one of the hosts' targets.
	each := func(q int, f func(name string, h *HostFacts, s promapi.Sample)) {
		for _, s := range answers[q] {
			name, ok := hostOf[promapi.TargetOf(s)]
			if !ok {
				continue
			}
			if obs.Hosts[name] == nil {
				obs.Hosts[name] = &HostFacts{}
			}
			f(name, obs.Hosts[name], s)
		}
	}
	newest := map[string]float64{} // the applied commit's sample time, per host
	each(qApplied, func(name string, h *HostFacts, s promapi.Sample) {
		if s.Value >= newest[name] {
			newest[name] = s.Value
			h.Commit, h.State = s.Labels[api.LabelCommit], s.Labels[api.LabelState]
		}
	})
	job := map[string]string{} // each host's scrape job, for its interval
	var now float64            // Prometheus' clock, from its answers
	each(qHealthy, func(name string, h *HostFacts, s promapi.Sample) {
		h.Scraped, h.Healthy = true, s.Value == 1
		job[name] = s.Labels["job"]
		now = max(now, s.At)
	})
	for _, s := range answers[qProblems] {
		name, ok := hostOf[promapi.TargetOf(s)]
		if !ok || s.Value != last[name] || obs.Hosts[name] == nil {
			continue // not a host's, or a problem of an older scrape kept by Prometheus' lookback
		}
		what := s.Labels[api.LabelApp]
		if b := s.Labels[api.LabelBinary]; b != "" {
			what = b
		}
		state := s.Labels[api.LabelState]
		if state == string(api.AppInstalled) && s.Labels[api.LabelCode] != "" {
			state = s.Labels[api.LabelCode] // installed, yet not on the commit: the code says it
		}
		obs.Hosts[name].Problems = append(obs.Hosts[name].Problems, what+" "+state)
	}
	stamped := map[string]bool{} // hosts whose target stamped healthy-on-commit samples itself (-1)
	count := func(q int) map[string]int {
		out := map[string]int{}
		for _, s := range answers[q] {
			name, ok := hostOf[promapi.TargetOf(s)]
			switch {
			case !ok || math.IsNaN(s.Value): // not a host's, or NaN
			case s.Value < 0:
				stamped[name] = true
			default:
				out[name] += int(s.Value + 0.5)
			}
		}
		return out
	}
	onCommit, tried, restarts := count(qOnCommit), count(qScrapes), count(qRestarts)
	for name, h := range obs.Hosts {
		switch {
		case !h.Scraped:
		case stamped[name]:
			h.BakeWhy = fmt.Sprintf("its target wrote times of its own on samples of %s in the last %s (Prometheus honours them unless "+
				"honor_timestamps: false): none counts, only samples Prometheus stamps do", api.SeriesHealthyOn, bake)
		default:
			h.Since, h.Baked, h.BakeWhy = judgeBake(bake, scrapes, job[name], now, onCommit[name], tried[name], restarts[name])
		}
	}
	return obs
}

// judgeBake is how long a host has been healthy on the commit by Prometheus' samples over the bake, whether that
// is the whole bake, and what else keeps it from being so: onCommit of the tried scrapes of the window said
// healthy on the commit; restarts of its agent; Prometheus' start and now (its clock).
func judgeBake(bake time.Duration, scrapes promapi.Scrapes, job string, now float64, onCommit, tried, restarts int) (since time.Duration, baked bool, why string) {
	iv := scrapes.Interval(job)
	if iv <= 0 {
		return 0, false, "the scrape interval of job " + job + " is unknown"
	}
	need := max(1, int(bake/iv)-1) // every scrape of the window, one missed at most (no gap over two intervals)
	since = min(time.Duration(onCommit)*iv, bake-min(iv, bake)/2)
	var up time.Duration // how long Prometheus has been up, by its own clock, when it says when it started
	knownUp := !scrapes.Started.IsZero() && now > 0
	if knownUp {
		up = time.Duration((now - float64(scrapes.Started.UnixMilli())/1000) * float64(time.Second))
	}
	switch {
	case restarts > 0:
		return 0, false, fmt.Sprintf("its agent restarted in the last %s: the bake starts again", bake)
	case knownUp && up < bake:
		return min(since, up), false, fmt.Sprintf("Prometheus started %s ago: the bake counts from then", up.Round(time.Second))
	case onCommit < tried && time.Duration(onCommit)*iv < bake-2*iv:
		return since, false, "" // baking: the earlier scrapes of the window were on another commit
	case onCommit < tried:
		return since, false, fmt.Sprintf("not healthy on it, or not scraped, at %d of Prometheus' %d scrapes of the last %s", tried-onCommit, tried, bake)
	case tried < need:
		return since, false, fmt.Sprintf("Prometheus has %d scrapes of it in the last %s, want %d at one every %s: a gap starts the bake again",
			tried, bake, need, iv)
	}
	return bake, true, ""
}
