package plugins

import (
	"errors"
	"fmt"
)

// Kinds of hook failure, for errors.Is. Every error the Runner returns is an *Error wrapping one of them (or
// ErrNotFound), so the agent can report what went wrong without parsing text.
var (
	ErrPinMismatch = errors.New("executable does not match its sha256 pin in fleet.yaml")
	ErrHandshake   = errors.New("plugin handshake failed")
	ErrTimeout     = errors.New("plugin timed out")
	ErrCrashed     = errors.New("plugin process failed")
	ErrBadAnswer   = errors.New("plugin answer refused")
	ErrUnsupported = errors.New("plugin does not handle this event")
	ErrHookFailed  = errors.New("hook failed")
)

// Error is a failed hook call: which plugin, for which app and event, and why.
type Error struct {
	Plugin string
	App    string
	Event  string
	Err    error
}

func (e *Error) Error() string {
	if e.App == "" {
		return fmt.Sprintf("plugin %s: %v", e.Plugin, e.Err)
	}
	return fmt.Sprintf("hook %s (%s) of app %s: %v", e.Plugin, e.Event, e.App, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }
