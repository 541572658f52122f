package selfup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/herofleet/herofleet/internal/artifact"
)

// Limits bound a release archive: what is downloaded and what it unpacks to.
type Limits struct {
	MaxBytes  int64 // the archive
	MaxFiles  int
	MaxUnpack int64 // the files unpacked, together
}

// DefaultLimits suit a herofleet release (one binary and a few plugins of some tens of MiB each).
var DefaultLimits = Limits{MaxBytes: 512 << 20, MaxFiles: 256, MaxUnpack: 2 << 30}

// SelftestTimeout bounds `NEW selftest`.
const SelftestTimeout = 2 * time.Minute

// Release is the archive a fleet commit names for this platform.
type Release struct {
	Version string
	URL     string // rewrites applied
	SHA256  string
}

// Client downloads release archives; the whole download is bounded by the context, the wait for an answer here.
var Client = func() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{Transport: tr}
}()

// Prepare makes rel ready to run under <dir>/agent/<version>/: downloads the archive (bounded), checks its sha256
// before anything is unpacked, unpacks it (regular files and folders only, nothing outside, the release folder's
// prefix dropped), checks that its herofleet is the version named, and runs `NEW selftest --config configPath`.
// It returns the new executable. On any failure nothing is left behind and the error says why, for the status.
func Prepare(ctx context.Context, agentDir string, rel Release, configPath string, lim Limits) (exe string, err error) {
	root := Dir(agentDir)
	if err := os.MkdirAll(root, 0o750); err != nil {
		return "", err
	}
	dest := filepath.Join(root, rel.Version)
	clearLeftovers(root) // of a preparation cut short (kill -9, power cut)
	tmp, err := os.CreateTemp(root, ".download-*.tar.gz")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	if err := download(ctx, rel.URL, io.MultiWriter(tmp, h), lim.MaxBytes); err != nil {
		return "", err
	}
	if got := hex.EncodeToString(h.Sum(nil)); subtle.ConstantTimeCompare([]byte(got), []byte(strings.ToLower(rel.SHA256))) != 1 {
		return "", fmt.Errorf("sha256 mismatch: %s has sha256 %s, the fleet names %s", rel.URL, got, rel.SHA256)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	unpacked, err := os.MkdirTemp(root, ".unpack-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(unpacked) // a no-op once renamed into place
	if err := unpack(tmp, unpacked, lim); err != nil {
		return "", fmt.Errorf("not a release archive: %w", err)
	}
	exe = filepath.Join(unpacked, "herofleet")
	if fi, err := os.Stat(exe); err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		return "", errors.New("not a release archive: it holds no executable herofleet")
	}
	if err := checkVersion(ctx, exe, rel.Version); err != nil {
		return "", err
	}
	if out, err := run(ctx, exe, "selftest", "--config", configPath); err != nil {
		return "", fmt.Errorf("selftest of %s failed (%v): %s", rel.Version, err, lastLines(out, 5))
	}
	_ = os.RemoveAll(dest) // a version prepared before (refused, or rolled back and named again)
	if err := os.Rename(unpacked, dest); err != nil {
		return "", err
	}
	return filepath.Join(dest, "herofleet"), nil
}

// clearLeftovers removes what a preparation cut short left in root: a partial download, a partial unpack.
func clearLeftovers(root string) {
	for _, pat := range []string{".download-*", ".unpack-*"} {
		left, _ := filepath.Glob(filepath.Join(root, pat))
		for _, p := range left {
			_ = os.RemoveAll(p)
		}
	}
}

// transient is a download that failed on the way (no answer, a server error, a cut connection): the next sync
// tries again, where a refusal of the archive itself waits for another commit.
type transient struct{ error }

func (t transient) Unwrap() error { return t.error }

// Transient reports whether Prepare failed on the way rather than on the archive: worth trying at the next sync.
func Transient(err error) bool {
	var t transient
	return errors.As(err, &t)
}

// checkVersion runs `NEW version` and wants the version named.
func checkVersion(ctx context.Context, exe, version string) error {
	out, err := run(ctx, exe, "version")
	if err != nil {
		return fmt.Errorf("not a release archive: its herofleet does not run (%v): %s", err, lastLines(out, 3))
	}
	if f := strings.Fields(string(out)); len(f) < 2 || f[1] != version {
		return fmt.Errorf("not the version named: its herofleet says %q, the fleet names %s", strings.TrimSpace(lastLines(out, 1)), version)
	}
	return nil
}

// run runs exe with args, bounded by SelftestTimeout, and returns its output (capped).
func run(ctx context.Context, exe string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, SelftestTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = setEnv(os.Environ(), ExecsEnv, "0")
	var out capped
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s", SelftestTimeout)
	}
	return out.b.Bytes(), err
}

// capped keeps the last 64 KiB written to it.
type capped struct{ b bytes.Buffer }

func (c *capped) Write(p []byte) (int, error) {
	c.b.Write(p)
	if over := c.b.Len() - 64<<10; over > 0 {
		c.b.Next(over)
	}
	return len(p), nil
}

// lastLines is the last n non-empty lines of out, joined by " | ".
func lastLines(out []byte, n int) string {
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 {
		return "(no output)"
	}
	return strings.Join(lines, " | ")
}

func download(ctx context.Context, rawURL string, w io.Writer, max int64) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("release url: %w", err)
	}
	var body io.ReadCloser
	switch u.Scheme {
	case "file":
		if body, err = os.Open(u.Path); err != nil {
			return fmt.Errorf("download: %w", err)
		}
	case "http", "https":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return err
		}
		resp, err := Client.Do(req)
		if err != nil {
			return transient{fmt.Errorf("download: %w", err)}
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			err := fmt.Errorf("download %s: HTTP %s", rawURL, resp.Status)
			if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
				return transient{err}
			}
			return err
		}
		if resp.ContentLength > max {
			resp.Body.Close()
			return fmt.Errorf("too big: %s is %d bytes, over the limit of %d", rawURL, resp.ContentLength, max)
		}
		body = resp.Body
	default:
		return fmt.Errorf("release url %s: scheme %q is not http, https or file", rawURL, u.Scheme)
	}
	defer body.Close()
	n, err := io.Copy(w, io.LimitReader(body, max+1))
	if err != nil {
		return transient{fmt.Errorf("download %s: %w", rawURL, err)}
	}
	if n > max {
		return fmt.Errorf("too big: %s is over the limit of %d bytes", rawURL, max)
	}
	return nil
}

// unpack extracts a release's gzipped tar into dest: only folders and regular files, none outside dest; a single
// top folder (herofleet_<version>_<os>_<arch>/, as make release writes it) is dropped.
func unpack(r io.Reader, dest string, lim Limits) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("not a gzipped tar: %w", err)
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(gz)
	var files int
	var total int64
	prefix := ""
	for first := true; ; first = false {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if first {
				return errors.New("empty archive")
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("archive: %w", err)
		}
		if files++; files > lim.MaxFiles {
			return fmt.Errorf("archive holds more than %d entries", lim.MaxFiles)
		}
		clean := path.Clean(strings.TrimSuffix(hdr.Name, "/"))
		if hdr.Name == "" || path.IsAbs(hdr.Name) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(hdr.Name, `\`) {
			return fmt.Errorf("archive entry %q leaves the target folder", hdr.Name)
		}
		if first && hdr.Typeflag == tar.TypeDir && !strings.Contains(clean, "/") && strings.HasPrefix(clean, "herofleet_") {
			prefix = clean + "/"
			continue
		}
		name := clean
		if prefix != "" {
			if !strings.HasPrefix(clean+"/", prefix) {
				return fmt.Errorf("archive entry %q is outside its release folder %s", hdr.Name, prefix)
			}
			name = strings.TrimPrefix(clean, prefix)
			if name == "" || name == strings.TrimSuffix(prefix, "/") {
				continue
			}
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("%s: %w", hdr.Name, err)
			}
		case tar.TypeReg:
			if total += hdr.Size; total > lim.MaxUnpack {
				return fmt.Errorf("archive unpacks to more than %d bytes", lim.MaxUnpack)
			}
			// on disk before the record names it: a power cut leaves no torn binary
			if err := artifact.WriteEntry(root, name, tr, hdr, true); err != nil {
				return err
			}
		default:
			return fmt.Errorf("archive entry %s: type %q is not a regular file or a folder", hdr.Name, hdr.Typeflag)
		}
	}
}
