package main

import "github.com/herofleet/herofleet/plugins/sdk"

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	sdk.Serve(sdk.Plugin{
		Name:    "seed-git",
		Version: version,
		Events:  []string{"post-build", "pre-start", "post-start"},
		Run:     seed,
	})
}
