// Package api declares, once, the names that herofleet's public contracts are made of: the states, phases and
// reason codes of the cockpit API and the agent's status, and the series and labels of its /metrics. The agent
// produces them; the cockpit, `herofleet fleet status`, the rollout gate and the alerting rules read them. Each
// name is spelled here and nowhere else, as Flux declares its condition types and reasons once in its api package.
package api
