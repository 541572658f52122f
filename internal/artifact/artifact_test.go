package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func buildTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range map[string]string{
		"target/release/hero_books_server": "#!binary\n",
		"service.toml":                     "[[binaries]]\n",
		"assets/css/site.css":              "body{}\n",
	} {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		mode := os.FileMode(0o644)
		if strings.Contains(p, "release") {
			mode = 0o755
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../service.toml", filepath.Join(dir, "assets", "manifest")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPackIsReproducible(t *testing.T) {
	tree := buildTree(t)
	var a, b bytes.Buffer
	sumA, err := Pack(tree, &a, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Same content, other mtimes and creation order: the same bytes.
	later := filepath.Join(tree, "service.toml")
	os.Chtimes(later, epoch.AddDate(30, 0, 0), epoch.AddDate(30, 0, 0))
	sumB, err := Pack(tree, &b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sumA != sumB || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("two packs of one tree differ: %s %s", sumA, sumB)
	}
	if sum := sha256.Sum256(a.Bytes()); hex.EncodeToString(sum[:]) != sumA {
		t.Fatal("Pack's sha256 is not the archive's")
	}
	os.Symlink("/etc/passwd", filepath.Join(tree, "out"))
	if _, err := Pack(tree, &bytes.Buffer{}, nil); err == nil || !strings.Contains(err.Error(), "leaves the tree") {
		t.Errorf("a symlink out of the tree must not be packed: %v", err)
	}
}

// evilArchive builds a gzipped tar from raw headers, as an attacker would.
func evilArchive(t *testing.T, entries ...tar.Header) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, h := range entries {
		h := h
		body := []byte("x")
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write(body)
		}
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestFetch(t *testing.T) {
	var good bytes.Buffer
	goodSum, err := Pack(buildTree(t), &good, nil)
	if err != nil {
		t.Fatal(err)
	}
	dotdot := evilArchive(t, tar.Header{Name: "ok.txt", Typeflag: tar.TypeReg, Mode: 0o644},
		tar.Header{Name: "../../escaped.txt", Typeflag: tar.TypeReg, Mode: 0o644})
	linkOut := evilArchive(t, tar.Header{Name: "lib", Typeflag: tar.TypeSymlink, Linkname: "/etc"})
	linkThenWrite := evilArchive(t, tar.Header{Name: "a/b", Typeflag: tar.TypeSymlink, Linkname: "../../.."},
		tar.Header{Name: "a/b/escaped.txt", Typeflag: tar.TypeReg, Mode: 0o644})
	files := map[string][]byte{
		"/good.tar.gz": good.Bytes(), "/truncated.tar.gz": good.Bytes()[:good.Len()/2],
		"/dotdot.tar.gz": dotdot, "/linkout.tar.gz": linkOut, "/linkwrite.tar.gz": linkThenWrite,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, ok := files[r.URL.Path]; ok {
			w.Write(b)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	ctx := context.Background()
	base := t.TempDir()

	dest := filepath.Join(base, "good")
	if err := Fetch(ctx, srv.Client(), srv.URL+"/good.tar.gz", goodSum, dest, DefaultLimits); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dest, "target/release/hero_books_server")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("unpacked binary: %v %v", st, err)
	}
	if target, err := os.Readlink(filepath.Join(dest, "assets", "manifest")); err != nil || target != "../service.toml" {
		t.Errorf("inside symlink: %q %v", target, err)
	}

	for _, tc := range []struct{ name, path, sha, want string }{
		{"wrong sha256", "/good.tar.gz", strings.Repeat("0", 64), "sha256 mismatch"},
		{"truncated", "/truncated.tar.gz", sum(files["/truncated.tar.gz"]), "unexpected EOF"},
		{"404", "/missing.tar.gz", strings.Repeat("0", 64), "404"},
		{"dot-dot entry", "/dotdot.tar.gz", sum(dotdot), "leaves the target directory"},
		{"symlink out", "/linkout.tar.gz", sum(linkOut), "leaves the target directory"},
		{"write through a link", "/linkwrite.tar.gz", sum(linkThenWrite), "leaves the target directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest := filepath.Join(base, strings.ReplaceAll(tc.name, " ", "-"))
			err := Fetch(ctx, srv.Client(), srv.URL+tc.path, tc.sha, dest, DefaultLimits)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error with %q, got %v", tc.want, err)
			}
			if tc.name == "wrong sha256" && !errors.Is(err, ErrChecksum) {
				t.Errorf("not ErrChecksum: %v", err)
			}
			if _, err := os.Stat(dest); !os.IsNotExist(err) {
				t.Errorf("%s left behind after a failure", dest)
			}
			if _, err := os.Stat(filepath.Join(base, "..", "escaped.txt")); err == nil {
				t.Error("an entry escaped the target")
			}
		})
	}
}

func TestFetchSizeLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("a"), 4096))
	}))
	defer srv.Close()
	err := Fetch(context.Background(), srv.Client(), srv.URL, strings.Repeat("0", 64), filepath.Join(t.TempDir(), "x"), Limits{MaxBytes: 1024, MaxFiles: 10, MaxUnpack: 1024})
	if err == nil || !strings.Contains(err.Error(), "over 1024 bytes") {
		t.Fatalf("an oversized download: %v", err)
	}
}
