// Package agent is the pull agent that runs on every VM: it syncs the fleet repo (go-git), works out the host's
// desired apps, applies each app as a transaction (fetch, build, hooks, start, health, switch; any failure rolls
// the app back and quarantines it), supervises the binaries, and reports a status snapshot. The transaction is
// agent/apply; its HTTP surface (the cockpit API, the webhook, /metrics and the page) is agent/cockpit; builds are
// agent/build; the supervisor is agent/supervise.
//
// # How a converge reads
//
// converge.go runs one pass as a list of named steps, each a method that reads what the earlier ones found and
// answers with a typed outcome that tells the loop how to react (go on, end the pass, fall back to the last good
// commit after a refusal or a hold, or fail the sync with the fleet state to show); no step decides for the loop:
//
//	sync     where the followed ref points; fetched only when it moved           (fleetrepo.go)
//	verify   a new commit is signed as the config asks and does not rewind       (trust.go, agent/trust)
//	load     a new commit loads and validates, or is refused whole
//	secrets  the host's secrets/<host>/*.age of the newest verified and valid commit decrypted into secrets_dir
//	         before any hook runs and before the rollout can hold that commit (secrets.go: the dir's one writer):
//	         secrets are not rolled out in waves, nor held by a window or a suspend (while suspended a new commit is
//	         verified and loaded for its secrets alone); a file it cannot decrypt refuses the commit whole, naming it;
//	         the dir records its commit and never takes an older commit's secrets over a newer one's
//	rollout  a new commit waits while the fleet's earlier rollout waves are not healthy on it for the bake, per
//	         Prometheus (rollout.go, package rollout), or for a resume; the host keeps converging its commit
//	         meanwhile. The held commit stays loaded (host_rollout.go): a held poll costs an idle one plus the gate's
//	         seven queries. Whether a commit is the host's first is state.json's applied commit
//	accept   a new commit that passed every check is the good one
//	resolve  the host's apps, each resolved to a revision                         (agent/apply: target.go)
//	gate     whether disruptive changes may happen now: maintenance windows, suspend (windows.go)
//	apply    each installed app first checked for drift against the manifest recorded at install (drift.go,
//	         agent/apply: drift.go: a stat of each file and /proc/PID/exe each poll, a full sha256 check when
//	         that differs and every drift_full_check); then each app decided by fleet.DecideApp (or DecideRemoval;
//	         a drifted app is healed unless the fleet says drift: report) on the host as the apps before it left it,
//	         then carried out in its lane (carryout.go only carries out: every decision, waiting for a need
//	         included, is a fleet.Decision; explain.go records why); the transaction itself is agent/apply:
//	         build or fetch, hooks, start, health, switch or rollback
//	record   the applied commit, and nothing held for apps that left
//
// `herofleet plan` decides with the same rules (fleet.Decide), from the fleet alone, taking each change to succeed.
//
// # One owner of the host's state
//
// hostState (host.go) owns everything the agent knows about its host: state.json and the suspended flag (state.go
// holds their types and the atomic write; save is the one place that writes state.json), the fleet being run and
// the sync's state (host_fleet.go), what a person asked for (host_requests.go), each app's phase, reason, held
// change and last action (host_progress.go), and install jobs (jobs.go). Every change goes through
// its methods under its one lock; status.go takes snapshots from it. States, phases and reasons are named types
// (package api): a reason is a value made where the cause is known and rendered to text only for people.
//
// The apply transaction (agent/apply) sees the host through two small interfaces of its own, State and Progress;
// applyhost.go provides them over hostState and the metrics, and makes the agent's Runner. agent/apply never
// imports the agent: the agent calls it (carryOut applies and removes, restore starts, the commands start a
// binary) and it reports back only through those interfaces. Installed and Proc, what state.json records of an
// app, are its types.
//
// # One path for commands
//
// commands.go is what a person can ask: install, uninstall, start, stop, restart, sync, suspend, resume (the
// webhook asks for a sync). Each one changes the host's state through hostState and the app's processes only
// inside the app's lane (agent/apply's Lanes), where every apply and removal of the app runs too: two of them
// never interleave on one app, so a restart clicked during an upgrade neither starts the old revision's argv nor
// stops half of the new one. A control that waits for its lane longer than laneWait answers that it is queued and
// is carried out right after the apply. Install and uninstall record the click and wake the loop (agent.go), whose
// converge does the work.
//
// The other files: config.go (the agent's own config), schedule.go (when the next sync runs: the fleet's cron
// spec with jitter, backoff after failures, or a held change's window, all read on the agent's Clock, which only a
// simulation replaces), metrics.go (Prometheus instruments), applyhost.go (the host as agent/apply sees it).
// agent/apply holds the transaction's rooms: target.go (an app's revision, build dir, identity and quarantine
// keys), build.go and artifact.go (its tree), diskfull.go (a build or fetch that failed on a full disk: the
// host's fault, so the app is not quarantined and the next sync tries again; so is a build tool missing from the
// host's PATH, reason build-tool-missing), hooks.go, start.go, health.go,
// apply.go (the transaction, rollback and removal) and lanes.go.
//
// # Crash safety: adopt what still runs as started, replace the rest
//
// State is one JSON file written atomically (temp file, fsync, rename, fsync of the folder). It records what was
// applied (fleet commit, per app the revision and the exact binaries started), quarantines, clicked apps, and per
// binary the process last started for it (pid, start time in clock ticks after boot, boot id, executable path and
// dev/inode, and a digest of the spec it was started from). An app's entry is switched only after its new revision
// is healthy, so on disk an app is always either its old complete revision or its new complete revision: never a
// half-app.
//
// A binary's output goes to its log file directly (the agent hands it a descriptor opened for appending and caps
// the file's size by copy-then-truncate), so a binary outlives its agent. When the agent starts, it adopts each
// binary of a recorded app whose recorded process still runs as recorded (same start time in the same boot, same
// executable: a pid now used by another process is never adopted or signalled) and was started from the spec the
// app records for it: the binary keeps running, with its start time and no new start, watched through a pidfd, and
// a later exit of it is a crash like any other. Every process the agent starts (builds and binaries) carries
// HEROFLEET_AGENT_DIR=<dir> in its environment; the agent then kills the process group of every process that
// carries its marker and was not adopted (a binary of another spec, a build the killed agent was running), starts
// every recorded binary it did not adopt from its recorded build, and converges from there: always exactly one
// instance of each binary. After a reboot nothing matches (the boot id) and everything starts afresh.
// A build directory is used only when its ".herofleet-built" marker exists; a build killed half-way
// is wiped and redone. A source or fleet clone that cannot be read after a kill during a fetch is thrown away and
// cloned again; the temporary files such a fetch leaves in a readable clone are removed when the agent starts
// (interrupted.go). An apply cut short by the agent's own stop is not quarantined.
//
// The agent's own stop (Shutdown, the end of Run) stops every binary, unless LeaveBinariesRunning was called: then
// it leaves them running, recorded, for the next agent to adopt as above. The agent command does that on SIGTERM
// and SIGINT, so a restart of the agent (`systemctl restart`, a package upgrade) restarts no app; the demo and the
// tests keep the default. `herofleet agent stop-apps` (supervise.StopMarked) stops what a stopped agent left.
//
// # Layout of <dir>
//
//	state.json               the state above
//	suspended                present while a person holds new fleet commits
//	fleet.git                bare clone of the fleet repo (only the followed ref is fetched)
//	sources/<repo>-<hash>    full bare clone per app repo URL (every branch and tag)
//	builds/<app>/<rev12>-<h> one checkout + build per revision and build command; <dir>.log is the build log;
//	                         <dir>/.herofleet-pristine holds a read-only copy of each executable, what a heal puts back
//	                         (when its sha256 is the manifest's; otherwise the revision is built again in <dir>.heal).
//	                         The running build and the one before it (for a rollback) are kept, older ones pruned.
//	                         Apps installed from an archive unpack into builds/<app>/<sha12>-artifact; their
//	                         ${rev} is the sha256.
//	data/<app>               ${data}: the binaries' working directory; kept across upgrades and removal
//	home/<app>               HOME of the app's builds and binaries
//	run                      ${sockets}
//	logs/<binary>.log        stdout+stderr of a binary, written by the binary itself; past log_max_bytes (10 MiB,
//	                         checked every second) copied to .log.1 and truncated
//	drift/<app>/<time>-<f>   the files a heal replaced, for the person who made them (the newest 5)
//
// # Build environment
//
// Builds and binaries get PATH (config path), HOME (<dir>/home/<app>), LANG (config lang) and the app's env,
// never the agent's own environment. build_env adds variables to builds only: the demo uses it to point GOCACHE
// and GOPATH at a cache shared by all apps so that its Go builds stay fast.
package agent
