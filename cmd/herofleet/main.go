package main

import (
	"errors"
	"fmt"
	"os"
)

func main() { os.Exit(run(os.Args[1:])) }

// Exit codes.
const (
	exitOK      = 0
	exitInvalid = 1 // the input is bad: an invalid fleet, a refused request
	exitFailed  = 2 // the command could not run
)

// exitError carries the exit code a command chose for its error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// invalid marks an error as the user's input being bad (exit 1).
func invalid(err error) error { return &exitError{code: exitInvalid, err: err} }

func run(args []string) int {
	root := newRoot()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(os.Stderr, ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "herofleet:", err)
	return exitFailed
}
