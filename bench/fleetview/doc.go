// Command fleetview benchmarks `herofleet fleet status` on a fleet of simulated testers (default 1,000), each an
// HTTP server on a loopback port of its own answering /api/v1/status and /metrics as an agent's metrics_listen does
// (the example tester's apps; one host in ten with a crashlooping binary). It runs the herofleet binary as a user
// would, in direct mode (every agent asked) and through Debian's Prometheus scraping every simulated host, and
// reports wall time and peak RSS of each, side by side. See bench/README.md.
package main
