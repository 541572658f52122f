package main

import (
	"strings"
	"testing"
)

// Every subcommand the CLI's contract (README, product.md) names is in the root's one AddCommand list, so
// editing that list cannot drop one silently.
func TestRootHasEveryCommand(t *testing.T) {
	root := newRoot()
	for _, path := range []string{
		"validate", "plan", "agent", "status", "sync", "suspend", "resume", "install", "uninstall",
		"start", "stop", "restart", "logs", "site build", "site serve", "demo", "bootstrap", "build", "schema", "version",
		"agent stop-apps", "fleet status", "prometheus config", "prometheus targets", "prometheus rules",
		"recipient", "secrets set", "secrets list", "secrets rekey", "secrets issue", "selftest",
	} {
		args := strings.Fields(path)
		cmd, rest, err := root.Find(args)
		if err != nil || len(rest) != 0 || cmd.CommandPath() != "herofleet "+path {
			t.Errorf("herofleet %s: not a command (found %q, rest %q, %v)", path, cmd.CommandPath(), rest, err)
			continue
		}
		if cmd.RunE == nil {
			t.Errorf("herofleet %s: runs nothing", path)
		}
	}
}
