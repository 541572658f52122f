// Package promapi is a small client of Prometheus' HTTP query API (GET /api/v1/query): instant vectors with their
// labels and values, bounded reads, and an error for every answer that is not a success. Fleet tools use it to read
// what the agents export (`herofleet fleet status --prometheus`, rollout gates); an empty result is a valid answer,
// and callers decide what no series means.
package promapi
