// Package cockpit is the agent's HTTP surface: the cockpit API (status, the agreed rows, install on click, jobs,
// binary controls and logs, sync, suspend, resume), the Forgejo push webhook, /metrics, /healthz and the page at
// /. It reads snapshots of the agent and sends it commands; it never changes the host itself.
//
// Files: api.go (the mux, the bearer token, serving), rows.go (rows from a snapshot, their cache, install,
// uninstall and jobs), controls.go (start, stop, restart, logs, suspend, resume), webhook.go and page.go (the
// page, from page/).
package cockpit
