// Package apply is the agent's apply transaction: it moves one app of the host to the revision the fleet wants,
// whole or not at all, and removes an app that left. The agent's converge decides what to do (fleet.Decide); a
// Runner does it, alone in the app's lane (Lanes), which a person's start, stop or restart of a binary takes too.
//
// A Runner is given, once, only what it works with (Options): the agent's config values (dir, PATH, LANG, build
// env, health timeout, URL rewrites), a logger, the supervisor (agent/supervise), the hook runner, the source
// clones, the lanes, and the host behind two small interfaces of this package: State (what runs, what a person
// stopped, quarantines, the fleet being run) and Progress (each app's phase and reason, its job's output, the
// metrics). The agent's host state provides both; this package never imports the agent.
//
// # The transaction
//
//	resolve   Resolve: the app's revision (a source commit, fetched when the ref moved, or an artifact's
//	          sha256), its build dir and its identity key; the quarantine key adds an artifact's URL  (target.go)
//	build     a source checked out and built, or an artifact fetched, checked and unpacked, into a build dir
//	          used only once its marker names the revision                        (build.go, artifact.go)
//	          a build or fetch that failed on a full disk is the host's fault, not the spec's  (diskfull.go),
//	          and so is a build tool the host lacks (make not on its PATH)         (apply.go hostFault)
//	hooks     pre-build, post-build, pre-start (its env reaches the binaries), post-start; pre-remove when
//	          the app leaves                                                       (hooks.go)
//	start     the old revision stopped, every binary of the new one started       (start.go)
//	health    each binary with a health path answers 2xx before the timeout      (health.go)
//	switch    the new revision recorded (State.Switch): from here on a restarted agent starts it; builds
//	          other than it and the one before it pruned                           (apply.go)
//	manifest  what the new revision runs recorded in it: each executable (with a read-only pristine copy in the
//	          build dir) and every file of an artifact, size, mode, mtime, inode, sha256   (manifest.go)
//	rollback  on any failure after the old revision stopped, it starts again (a new app is removed); a failed
//	          spec is quarantined, but not for the host's fault or the agent's own stop  (apply.go)
//
// Drift (drift.go): CheckDrift compares an installed app with its manifest (cheap: stat and /proc/PID/exe; full:
// sha256, paced), Heal puts back what drifted, in the app's lane, and restarts only the binaries concerned: from the
// pristine copy when it is intact, else from the installed revision made again (fetched again, or built again).
//
// Installed and Proc are what state.json records of an app: the exact binaries started, so that a restarted
// agent starts them again without the fleet (Start). The agent stores them as they are.
package apply
