// Package rolloutsafety is the rollout gate's adversarial suite: each case plays one answer meant to fool the gate
// (no series, a gap, skewed clocks, a restarted Prometheus, a stale series, NaN and ±Inf values, an empty wave, a
// restarted agent, an unresolved canary, a foreign scrape configuration, …) against a real Prometheus scraping
// simulated agents (internal/promtest), calls rollout.Gate as the later wave would, many times through the bake,
// and asserts one invariant: a later wave never applies commit C unless Prometheus saw every earlier-wave host
// healthy on C for the whole bake. A control case, a healthy canary, must open after the bake: the gate is not
// simply always closed.
//
// The truth is the test's own: each case notes the last moment its canary was not healthy on C, scraped, with
// Prometheus up (the switch to C, an injection, its end). An open verdict asked for sooner than a bake, less the
// gate's resolution of two scrape intervals, after that moment breaks the invariant.
//
// `make rollout-safety` runs every case (ROLLOUT_SAFETY=all) and writes docs/rollout-safety.md (ROLLOUT_SAFETY_DOC),
// one row per case: what was injected, what the later wave did, the figure. `make test` runs the fast cases only
// (the control and the empty wave); the whole suite takes about two minutes, its cases in parallel.
package rolloutsafety
