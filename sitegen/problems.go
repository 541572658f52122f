package sitegen

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with a site's input, with the page source and line it came from. A zero Line means
// the file as a whole; an empty File a problem of the site itself (a static file's path, say).
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) String() string {
	switch {
	case p.File == "":
		return p.Msg
	case p.Line == 0:
		return p.File + ": " + p.Msg
	}
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
}

// problemf makes a Problem with a formatted message.
func problemf(file string, line int, format string, args ...any) Problem {
	return Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// BuildError lists every problem a build found, sorted by file, line and message for stable output.
type BuildError struct {
	Problems []Problem
}

func (e *BuildError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Problems returns a *BuildError of probs sorted, without exact duplicates, or nil when there are none: never a
// typed nil inside an error.
func Problems(probs []Problem) error {
	if len(probs) == 0 {
		return nil
	}
	out := slices.Clone(probs)
	slices.SortStableFunc(out, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Msg, b.Msg))
	})
	return &BuildError{Problems: slices.Compact(out)}
}
