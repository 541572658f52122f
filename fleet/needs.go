package fleet

import (
	"fmt"
	"slices"
	"strings"
)

// checkNeedsCycles finds needs cycles; each cycle is reported once, at the first of its apps by name.
func checkNeedsCycles(f *Fleet, e *errs) {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(name string)
	visit = func(name string) {
		color[name] = grey
		stack = append(stack, name)
		a := f.Apps[name]
		for i, n := range a.Needs {
			if f.Apps[n] == nil || n == name {
				continue
			}
			switch color[n] {
			case grey:
				start := slices.Index(stack, n)
				cycle := append(slices.Clone(stack[start:]), n)
				e.add(a.File, a.pos.at(fmt.Sprintf("needs[%d]", i)), "needs cycle: %s", strings.Join(cycle, " -> "))
			case white:
				visit(n)
			}
		}
		stack = stack[:len(stack)-1]
		color[name] = black
	}
	for _, name := range sortedKeys(f.Apps) {
		if color[name] == white {
			visit(name)
		}
	}
}
