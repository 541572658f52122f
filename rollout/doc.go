// Package rollout is the gate of a fleet's waves (fleet.yaml's rollout): whether a host may apply a new fleet
// commit now, judged by each agent for itself from the commit and from Prometheus, with no coordinator.
//
// Observe asks Prometheus a fixed handful of queries, whatever the number of hosts, about every agent it scrapes,
// in any job: which commit each applied and since when, whether it is healthy now and was at every sample of the
// bake (samples Prometheus stamped itself: a host with one its target wrote a time on counts none), and its
// problems. JudgeWave and Judge are pure: a host of wave k applies commit C once every host of waves 0..k-1 has
// applied C and been healthy on it for the bake. No answer is a no: a failed query, a host Prometheus has no series
// for, or a bake Prometheus cannot vouch for holds the host, with a reason a person can act on. Status is the same
// judgement for every wave, for `herofleet rollout status`.
package rollout
