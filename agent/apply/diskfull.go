package apply

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// errDiskFull marks an apply that failed because the disk it writes to is full. That is the host's fault, not the
// spec's: the app is not quarantined, and the next sync tries again (once space is freed it succeeds).
var errDiskFull = errors.New("no space left on device")

// diskFullFree is the free space under which a failed build or fetch is blamed on a full disk.
const diskFullFree = 1 << 20

// failedTree looks at a build or fetch of t that failed with err, before its partial tree is removed: a full disk
// (ENOSPC met by the agent, the filesystem of the builds nearly full, or the build's log saying so) makes err an
// errDiskFull. The partial tree goes either way: it is never used, and on a full disk it holds the space the next
// try needs. Its log stays.
func (r *Runner) failedTree(t *Target, err error) error {
	full := errors.Is(err, syscall.ENOSPC)
	var fs syscall.Statfs_t
	if serr := syscall.Statfs(filepath.Dir(t.buildDir), &fs); serr == nil && int64(fs.Bfree)*fs.Bsize < diskFullFree {
		full = true
	}
	if !full && logSays(t.buildDir+".log", "no space left on device") {
		full = true
	}
	if rerr := os.RemoveAll(t.buildDir); rerr != nil {
		r.log.Warn("could not remove a failed build's tree", "dir", t.buildDir, "err", rerr)
	}
	if !full {
		return err
	}
	free := "unknown"
	if serr := syscall.Statfs(filepath.Dir(t.buildDir), &fs); serr == nil {
		free = fmt.Sprintf("%d KiB", int64(fs.Bavail)*fs.Bsize>>10)
	}
	return fmt.Errorf("%w on %s (%s free once the failed tree was removed): %w", errDiskFull, filepath.Dir(t.buildDir), free, err)
}

// logSays reports whether the last 4 KiB of the log at path hold text (case-insensitive).
func logSays(path, text string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	const tail = 4 << 10
	if st, err := f.Stat(); err == nil && st.Size() > tail {
		_, _ = f.Seek(st.Size()-tail, io.SeekStart)
	}
	b, _ := io.ReadAll(io.LimitReader(f, tail))
	return bytes.Contains(bytes.ToLower(b), []byte(text))
}
