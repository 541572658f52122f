package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at link time by `make release`: -X main.version=… -X main.commit=….
var (
	version = "dev"
	commit  = ""
)

func newVersionCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print herofleet's version and commit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVersion(cmd.Context(), versionOptions{}, g, streamsOf(cmd), args)
		},
	}
}

// versionOptions: version has no flags of its own.
type versionOptions struct{}

func runVersion(_ context.Context, _ versionOptions, _ *globals, s streams, _ []string) error {
	fmt.Fprintf(s.out, "herofleet %s (commit %s, %s, %s/%s)\n", version, buildCommit(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// buildCommit is the commit set at link time, else the one the Go toolchain stamped, else "unknown".
func buildCommit() string {
	if commit != "" {
		return commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}
