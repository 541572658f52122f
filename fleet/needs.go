package fleet

import (
	"fmt"
	"slices"
	"strings"
)

// needsCycles finds the cycles of a needs graph: app -> the apps it needs, in the order its file lists them. A
// need naming an app that is not in the graph is left out (an unknown app is reported on its own), and so is a
// need named twice.
//
// Each cycle comes once, as its apps in needs order starting with the smallest name: "a needs b, b needs a" is
// [a b]; an app that needs itself is a cycle of one. The walk is depth first (apps by name, needs in order), and
// each need leading back to an app still being walked closes one cycle. So the list is empty exactly when the
// graph has no cycle, and every group of apps that need each other shows up in it, though a group tangled enough
// to hold several cycles need not have each of them listed. The cycles are sorted.
func needsCycles(needs map[string][]string) [][]string {
	const (
		unseen = iota
		walking
		done
	)
	state := make(map[string]int, len(needs))
	var path []string // the apps being walked, each needing the next
	var cycles [][]string
	var walk func(app string)
	walk = func(app string) {
		state[app] = walking
		path = append(path, app)
		for i, n := range needs[app] {
			if _, known := needs[n]; !known || slices.Contains(needs[app][:i], n) {
				continue
			}
			switch state[n] {
			case walking:
				cycles = append(cycles, fromSmallest(path[slices.Index(path, n):]))
			case unseen:
				walk(n)
			}
		}
		path = path[:len(path)-1]
		state[app] = done
	}
	for _, app := range sortedKeys(needs) {
		if state[app] == unseen {
			walk(app)
		}
	}
	slices.SortFunc(cycles, slices.Compare)
	return cycles
}

// fromSmallest returns a copy of cycle turned to start at its smallest name, so that it reads the same wherever
// the walk came into it.
func fromSmallest(cycle []string) []string {
	i := slices.Index(cycle, slices.Min(cycle))
	return append(slices.Clone(cycle[i:]), cycle[:i]...)
}

// cyclePath writes a cycle as the path that goes round it: a -> b -> a.
func cyclePath(cycle []string) string {
	return strings.Join(append(slices.Clone(cycle), cycle[0]), " -> ")
}

// needsGraph is the needs graph of the whole fleet.
func (f *Fleet) needsGraph() map[string][]string {
	needs := make(map[string][]string, len(f.Apps))
	for name, a := range f.Apps {
		needs[name] = a.Needs
	}
	return needs
}

// needsCycleError is a set of apps that cannot be put in an order because of needs cycles. Validation reports
// each cycle where it is written; resolving a fleet that was not validated meets them here.
type needsCycleError struct{ cycles [][]string }

func (e *needsCycleError) Error() string {
	paths := make([]string, len(e.cycles))
	for i, c := range e.cycles {
		paths[i] = cyclePath(c)
	}
	if len(paths) == 1 {
		return "needs cycle: " + paths[0]
	}
	return "needs cycles: " + strings.Join(paths, "; ")
}

// checkNeedsCycles reports each needs cycle once, at the need that closes it: in the cycle's last app, the need
// naming its first. An app that needs itself is left to checkAppRefs, which says so plainly.
func checkNeedsCycles(f *Fleet, e *errs) {
	for _, c := range needsCycles(f.needsGraph()) {
		if len(c) == 1 {
			continue
		}
		last := f.Apps[c[len(c)-1]]
		i := slices.Index(last.Needs, c[0])
		e.add(last.File, last.pos.at(fmt.Sprintf("needs[%d]", i)), "needs cycle: %s", cyclePath(c))
	}
}
