package source

import (
	"errors"
	"os"
	"path/filepath"
)

// interruptedPatterns are the temporary files go-git writes into a bare clone while it fetches and renames or
// removes when the fetch ends; a process killed half-way leaves them behind for good.
var interruptedPatterns = []string{
	"objects/pack/tmp_pack_*", // the pack being received
	"objects/pack/tmp_obj_*",  // a loose object being written
	"._packed-refs*",          // packed-refs being rewritten
}

// ClearInterrupted removes what a fetch killed half-way left in the bare clone at dir and returns the paths it
// removed. Call it only when no fetch into dir can be under way: the agent does when it starts, before its first
// sync. A clone that is not there is nothing to clear.
func ClearInterrupted(dir string) ([]string, error) {
	var removed []string
	var errs []error
	for _, pattern := range interruptedPatterns {
		paths, _ := filepath.Glob(filepath.Join(dir, pattern)) // the patterns are well-formed
		for _, p := range paths {
			if err := os.RemoveAll(p); err != nil {
				errs = append(errs, err)
				continue
			}
			removed = append(removed, p)
		}
	}
	return removed, errors.Join(errs...)
}
