// Package fleetview shows the whole fleet in one place: every host's applied commit against the fleet's HEAD, its
// state, its apps and what is not fine, asked of each agent's read-only listener (metrics_listen) directly or read
// from Prometheus, the fleet's one aggregator. It also writes what Prometheus needs to watch the fleet: file_sd
// targets from the fleet's hosts, a scrape configuration and alerting rules.
//
// Files: targets.go (targets and the scrape config), rules.go (alerting rules), report.go (a host's row and the
// verdict on the fleet), direct.go (asking the agents), prometheus.go (reading Prometheus), text.go (the table).
package fleetview
