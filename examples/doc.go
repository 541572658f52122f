// Package examples holds the example fleet repos shipped inside the herofleet binary: the Hero deployment (an
// admin VM with the shared engines, one VM per tester) is the default of `herofleet demo` and of the runbook.
package examples

import (
	"embed"
	"io/fs"
)

//go:embed all:hero
var hero embed.FS

// Hero is the Hero example fleet repo: fleet.yaml, apps/, roles/, hosts/, runbook/.
func Hero() fs.FS {
	sub, err := fs.Sub(hero, "hero")
	if err != nil {
		panic(err) // the folder is embedded above: it is always there
	}
	return sub
}
