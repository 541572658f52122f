package artifact

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Fetch downloads the archive at rawURL (http, https or file), checks its sha256 before anything is unpacked, and
// unpacks it into dest (which must not exist). On any failure dest does not exist afterwards.
func Fetch(ctx context.Context, client *http.Client, rawURL, wantSHA256, dest string, lim Limits) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".artifact-*.tar.gz")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	if err := download(ctx, client, rawURL, io.MultiWriter(tmp, h), lim.MaxBytes); err != nil {
		return err
	}
	got := hex.EncodeToString(h.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(got), []byte(strings.ToLower(wantSHA256))) != 1 {
		return fmt.Errorf("%w: %s has sha256 %s, the fleet names %s", ErrChecksum, rawURL, got, wantSHA256)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dest)
		}
	}()
	return Unpack(tmp.Name(), dest, lim)
}

func download(ctx context.Context, client *http.Client, rawURL string, w io.Writer, max int64) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("artifact url: %w", err)
	}
	var body io.ReadCloser
	switch u.Scheme {
	case "file":
		if body, err = os.Open(u.Path); err != nil {
			return fmt.Errorf("artifact: %w", err)
		}
	case "http", "https":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("artifact: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return fmt.Errorf("artifact %s: HTTP %s", rawURL, resp.Status)
		}
		body = resp.Body
	default:
		return fmt.Errorf("artifact url %s: scheme %q is not http, https or file", rawURL, u.Scheme)
	}
	defer body.Close()
	n, err := io.Copy(w, io.LimitReader(body, max+1))
	if err != nil {
		return fmt.Errorf("artifact %s: %w", rawURL, err)
	}
	if n > max {
		return fmt.Errorf("artifact %s is over %d bytes", rawURL, max)
	}
	return nil
}
