// Command rollout measures what the rollout gate costs per poll on a fleet of simulated testers (default 1,000),
// all healthy on the fleet's HEAD, scraped by Debian's Prometheus: a host of the last wave asks, on each poll
// while it holds a commit, whether the earlier waves are done with it. Side by side in the same run: the agent's
// gate (seven fixed queries about the earlier waves' hosts), the same seven queries about every host, and the
// seven queries asked per host of the earlier waves; then the gate of a host of the second wave, which asks about
// the canary alone. For each: wall and CPU of a poll in the asking process (a child of its own, so that nothing
// else runs in it), the queries, the bytes Prometheus answered and the time its query handler took (from its own
// metrics), and its CPU beyond scraping. Then `herofleet rollout status` as a user runs it. See bench/README.md.
package main
