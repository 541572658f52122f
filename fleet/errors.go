package fleet

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Pos is a position in a fleet file, 1-based. A zero Pos means "the file as a whole".
type Pos struct {
	Line, Col int
}

// Error is one problem in a fleet, with the file and position it came from.
type Error struct {
	File string
	Pos
	Msg string
}

func (e Error) Error() string {
	switch {
	case e.File == "":
		return e.Msg
	case e.Line == 0:
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Errors is every problem found in a fleet, sorted by file and position.
type Errors []Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sorted returns the errors in file, line, column order, without exact duplicates.
func (es Errors) sorted() Errors {
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col), cmp.Compare(a.Msg, b.Msg))
	})
	return slices.Compact(out)
}

// errs collects problems while a fleet is decoded and validated.
type errs struct{ list Errors }

func (c *errs) add(file string, p Pos, format string, args ...any) {
	c.list = append(c.list, Error{File: file, Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// err returns nil when nothing was collected: never a typed nil inside an error.
func (c *errs) err() error {
	if len(c.list) == 0 {
		return nil
	}
	return c.list.sorted()
}

// positions maps a field path inside one file ("binaries[0].listen", "needs[1]") to where its value starts.
type positions map[string]Pos

// brokenKey marks a file that could not be decoded at all: its other problems would only be noise.
const brokenKey = "!broken"

// has says whether a field was written in the file, whatever its value (a wrong type is reported already).
func (p positions) has(path string) bool { _, ok := p[path]; return ok }

func (p positions) broken() bool { return p.has(brokenKey) }

// at is the position of a field path, falling back to its closest recorded parent, then the file's start.
func (p positions) at(path string) Pos {
	for {
		if pos, ok := p[path]; ok {
			return pos
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return p[""]
		}
		path = path[:i]
	}
}
