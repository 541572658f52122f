// Command cockpit benchmarks the agent's cockpit API: GET /api/v1/apps at a fixed rate (default 1,000 requests/s)
// while a one-click install runs, side by side with the same load on the alternatives it must beat: rows computed
// from a fresh snapshot per request (/api/v1/apps?fresh=1) and the full snapshot (/api/v1/status). It needs
// nothing but Go: a loopback git server holds the fleet repo and the app repos, and this executable is the apps'
// build and binaries. See README.md.
package main
