// Package demo runs the whole herofleet flow on one machine with no network: the embedded example fleet becomes a
// fleet git repo, each app gets a generated source repo (a small stdlib-only Go program per binary, a
// service.toml and a Makefile), a loopback smart-HTTP git server stands in for the forge (the agents rewrite
// https://forge.ourworld.tf/ to it), and an admin agent and a tester agent converge in-process.
//
// The demo's builds get GOCACHE pointed at the invoking user's Go build cache (build_env), so after the first run
// the standard library is not compiled again and the demo converges in seconds.
package demo
