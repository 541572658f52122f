// Command hello stands in for herofleet in the release test: a main package that builds in a second.
package main

import "fmt"

var (
	version = "dev"
	commit  = ""
)

func main() { fmt.Println("hello", version, commit) }
