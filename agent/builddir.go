package agent

import (
	"bytes"
	"io"
	"os"
	"path/filepath"

	"github.com/herofleet/herofleet/agent/build"
)

// builtFor reports whether t's build tree is complete and was built for t's revision: its marker names the
// revision. A tree marked for another revision (or not marked) is built again.
func builtFor(t *target) bool {
	f, err := os.Open(filepath.Join(t.buildDir, build.DoneMarker))
	if err != nil {
		return false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 256))
	return err == nil && string(bytes.TrimSpace(b)) == t.rev
}
