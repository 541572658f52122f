// Package build makes an app revision's tree: it checks a commit out of a go-git repository (symlinks kept only
// when they stay inside the tree), runs the app's build command there (an argv, in a process group of its own, with
// a minimal environment and a timeout), and finds the binaries the build produced without leaving the tree.
//
// The agent builds with it on every host, and `herofleet build` uses it to build an app once for the whole fleet,
// without pulling in the agent.
package build
