// Package supervise runs an app's binaries: one process group per binary, stdout and stderr to a size-capped log,
// restart with exponential backoff after an exit nobody asked for, a crash-loop state after repeated fast exits,
// and stop = SIGTERM to the group, a grace period, then SIGKILL.
//
// Every process it starts carries a marker in its environment (see Marker); KillMarked finds and kills the
// process groups of a previous agent that died without stopping them, so a restarted agent starts from a clean
// host instead of racing survivors for their ports.
package supervise
