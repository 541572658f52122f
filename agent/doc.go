// Package agent is the pull agent that runs on every VM: it syncs the fleet repo (go-git), works out the host's
// desired apps, applies each app as a transaction (fetch, build, hooks, start, health, switch; any failure rolls
// the app back and quarantines it), supervises the binaries, and reports a status snapshot.
//
// Files follow the flow: config.go (the agent's own config), sync.go (fleet repo polling; clones live in
// internal/source), trust_wire.go (signed commits, no rewinds: agent/trust), target.go (an app's resolved
// revision and spec), windows.go (maintenance windows: agent/window), apply.go (one app's transaction), build.go,
// artifact.go (apps installed from an archive, in builds/<app>/<sha12>-artifact; their ${rev} is the sha256),
// start.go, health.go, hooks.go, explain.go (why each action happened), state.go (what survives a restart),
// status.go (the snapshot), jobs.go (install on click), api.go (HTTP); the cockpit on top of it:
// api_apps.go (rows, install, jobs), api_control.go (binary controls, logs, suspend), webhook.go, metrics.go and
// cockpit.go (the page, from cockpit/).
//
// # Crash safety: replace, not adopt
//
// State is one JSON file written atomically (temp file, fsync, rename, fsync of the folder). It records what was
// applied (fleet commit, per app the revision and the exact binaries started), quarantines and clicked apps. An
// app's entry is switched only after its new revision is healthy, so on disk an app is always either its old
// complete revision or its new complete revision: never a half-app.
//
// Every process the agent starts (builds and binaries) carries HEROFLEET_AGENT_DIR=<dir> in its environment. When
// the agent starts, it first kills the process group of every process that carries its marker: survivors of a
// killed agent, or a build it was running. Then it starts every app recorded in the state from its recorded build,
// and converges from there. Replacing survivors rather than adopting them costs one restart of each binary after
// an agent crash, but needs no trust in pid files (pids are reused) and always ends with exactly one instance of
// each binary. A build directory is used only when its ".herofleet-built" marker exists; a build killed half-way
// is wiped and redone. A source or fleet clone that cannot be read after a kill during a fetch is thrown away and
// cloned again. An apply cut short by the agent's own stop is not quarantined.
//
// # Layout of <dir>
//
//	state.json               the state above
//	fleet.git                bare clone of the fleet repo (only the followed ref is fetched)
//	sources/<repo>-<hash>    full bare clone per app repo URL (every branch and tag)
//	builds/<app>/<rev12>-<h> one checkout + build per revision and build command; <dir>.log is the build log.
//	                         The running build and the one before it (for a rollback) are kept, older ones pruned.
//	data/<app>               ${data}: the binaries' working directory; kept across upgrades and removal
//	home/<app>               HOME of the app's builds and binaries
//	run                      ${sockets}
//	logs/<binary>.log        stdout+stderr of a binary, rotated to .log.1 at log_max_bytes (10 MiB)
//
// # Build environment
//
// Builds and binaries get PATH (config path), HOME (<dir>/home/<app>), LANG (config lang) and the app's env,
// never the agent's own environment. build_env adds variables to builds only: the demo uses it to point GOCACHE
// and GOPATH at a cache shared by all apps so that its Go builds stay fast.
package agent
