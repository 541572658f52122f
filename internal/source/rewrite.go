package source

import (
	"fmt"
	"slices"
	"strings"
)

// Rewrites are URL prefix rewrites, like git's url.<base>.insteadOf: the longest matching prefix wins.
type Rewrites map[string]string

// Apply rewrites url by its longest matching prefix.
func (r Rewrites) Apply(url string) string {
	best := ""
	for from := range r {
		if strings.HasPrefix(url, from) && len(from) > len(best) {
			best = from
		}
	}
	if best == "" {
		return url
	}
	return r[best] + strings.TrimPrefix(url, best)
}

// ParseRewrites reads FROM=TO flags.
func ParseRewrites(flags []string) (Rewrites, error) {
	r := Rewrites{}
	for _, f := range flags {
		from, to, ok := strings.Cut(f, "=")
		if !ok || from == "" || to == "" {
			return nil, fmt.Errorf("--rewrite %q: write FROM=TO", f)
		}
		r[from] = to
	}
	return r, nil
}

// String lists the rewrites in a stable order, for logs.
func (r Rewrites) String() string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + r[k]
	}
	return strings.Join(parts, ", ")
}
