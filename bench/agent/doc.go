// Package agentbench measures the agent: commit -> converged for a change that needs no rebuild, the CPU cost of
// a poll that finds nothing new, and the idle RSS of an agent running the example fleet. See README.md.
package agentbench
