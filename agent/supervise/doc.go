// Package supervise runs an app's binaries: one process group per binary, stdout and stderr straight to a
// size-capped log file, restart with exponential backoff after an exit nobody asked for, a crash-loop state after
// repeated fast exits, and stop = SIGTERM to the group, a grace period, then SIGKILL.
//
// A binary outlives the agent: its output does not go through the agent, and a restarted agent adopts it (Adopt)
// when it is still the very process that was started (pid, start time, boot and executable, recorded through
// Options.OnRun) from the same spec, and watches it through a pidfd. Every process it starts carries a marker in
// its environment (see Marker); KillMarked finds and kills the process groups that a previous agent left and that
// were not adopted (builds, hooks, binaries of another spec), so a restarted agent never races them for a port.
package supervise
