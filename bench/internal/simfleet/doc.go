// Package simfleet is the simulated fleet the fleet-view and rollout benchmarks measure against: testers that
// answer /api/v1/status and /metrics as an agent's metrics_listen does (the example tester's apps), a fleet repo
// whose host files point at them, and Debian's Prometheus scraping them from `herofleet prometheus
// config|targets|rules` of that fleet. Benchmarks only: nothing here stands in for a part in a test.
package simfleet
