// Package plugins runs per-app install hooks as hashicorp/go-plugin processes over gRPC.
//
// A hook plugin is an executable named herofleet-plugin-<name> in one of the agent's plugin directories. The
// agent hands a Call to a Runner, which finds the executable, checks its sha256 pin, starts it with a minimal
// environment, negotiates the versioned protocol over AutoMTLS, asks the plugin's Info and Run, checks its
// untrusted answer against fixed bounds, and kills the process before returning. The plugin's stderr is logged
// under its name.
//
// Plugins are written with package plugins/sdk; the two the Hero fleet needs ship as cmd/herofleet-plugin-seed-git
// and cmd/herofleet-plugin-config-file. The wire protocol lives in plugins/internal/hookpb.
package plugins
