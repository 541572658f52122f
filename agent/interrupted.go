package agent

import (
	"path/filepath"

	"github.com/herofleet/herofleet/internal/source"
)

// clearInterrupted removes what the fetches of a killed agent left half-written in the fleet clone and the source
// clones: go-git's temporary files, which no later fetch removes. restore calls it before the first sync, while
// nothing fetches.
func (a *Agent) clearInterrupted() {
	clones, _ := filepath.Glob(filepath.Join(a.cfg.Dir, "sources", "*"))
	for _, dir := range append(clones, a.fleet.dir) {
		removed, err := source.ClearInterrupted(dir)
		if len(removed) > 0 {
			a.log.Warn("removed what a fetch of a previous agent left half-written", "paths", removed)
		}
		if err != nil {
			a.log.Warn("clear an interrupted fetch", "dir", dir, "err", err)
		}
	}
}
