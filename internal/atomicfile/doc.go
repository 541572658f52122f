// Package atomicfile is the one atomic file write: a reader of the file, and a machine that loses power at any
// moment, see either the whole old content or the whole new one, never a half-written file. The agent's state and
// secrets, the files bootstrap writes and those the config-file plugin renders all go through it.
package atomicfile
