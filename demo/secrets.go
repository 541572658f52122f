package demo

import "github.com/herofleet/herofleet/fleet"

// WriteSecrets puts a fresh secret in dir for every secret a config-file hook of f reads, as the demo does for its
// agents: for a benchmark or a test that runs an agent of its own on the example fleet.
func WriteSecrets(f *fleet.Fleet, dir string) error { return writeSecrets(f, dir) }
