package packaging

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// release builds the hello stand-in (and a plugin that does not exist) for this machine's platform into out.
func release(t *testing.T, out string, log *bytes.Buffer) []Artifact {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	r := &Release{
		Dir: dir, Out: out, Version: "v1.2.3-rc1", Commit: "0123abc",
		Time:     time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC),
		Targets:  []Target{{"linux", runtime.GOARCH}},
		Binaries: []string{"./packaging/testdata/hello", "./cmd/herofleet-plugin-not-written-yet"},
		Docs:     []string{"packaging/testdata/hello/main.go"},
		Log:      slog.New(slog.NewTextHandler(log, nil)),
	}
	arts, err := r.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return arts
}

func TestReleaseIsReproducibleAndSummed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary twice")
	}
	var log bytes.Buffer
	a, b := t.TempDir(), t.TempDir()
	arts := release(t, a, &log)
	release(t, b, &log)

	if !strings.Contains(log.String(), "skipping a binary whose package is missing") ||
		!strings.Contains(log.String(), "herofleet-plugin-not-written-yet") {
		t.Errorf("no message about the missing plugin:\n%s", log.String())
	}
	archive := "herofleet_v1.2.3-rc1_linux_" + runtime.GOARCH + ".tar.gz"
	deb := "herofleet_1.2.3+rc1_" + runtime.GOARCH + ".deb"
	var names []string
	for _, art := range arts {
		names = append(names, art.Name)
	}
	if want := []string{deb, archive}; !slices.Equal(names, want) {
		t.Fatalf("artifacts %q, want %q", names, want)
	}

	// Two builds of the same inputs: byte-identical files.
	for _, n := range append(names, SumsFile) {
		x, y := readFile(t, filepath.Join(a, n)), readFile(t, filepath.Join(b, n))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds", n)
		}
	}

	// SHA256SUMS matches the files, in sha256sum's format.
	var want strings.Builder
	for _, n := range names {
		sum := sha256.Sum256(readFile(t, filepath.Join(a, n)))
		want.WriteString(hex.EncodeToString(sum[:]) + "  " + n + "\n")
	}
	if got := string(readFile(t, filepath.Join(a, SumsFile))); got != want.String() {
		t.Errorf("SHA256SUMS:\n%s\nwant:\n%s", got, want.String())
	}

	// The archive's listing: sorted, owned by root, one time, the service files rendered for /usr/bin/herofleet.
	prefix := strings.TrimSuffix(archive, ".tar.gz") + "/"
	entries := listTarGz(t, filepath.Join(a, archive))
	wantEntries := []string{
		"drwxr-xr-x " + prefix,
		"-rwxr-xr-x " + prefix + "hello",
		"drwxr-xr-x " + prefix + "packaging/",
		"drwxr-xr-x " + prefix + "packaging/testdata/",
		"drwxr-xr-x " + prefix + "packaging/testdata/hello/",
		"-rw-r--r-- " + prefix + "packaging/testdata/hello/main.go",
		"drwxr-xr-x " + prefix + "systemd/",
		"-rw-r--r-- " + prefix + "systemd/herofleet-agent.service",
		"drwxr-xr-x " + prefix + "zinit/",
		"-rw-r--r-- " + prefix + "zinit/herofleet-agent.yaml",
	}
	if !slices.Equal(entries, wantEntries) {
		t.Errorf("archive lists\n%s\nwant\n%s", strings.Join(entries, "\n"), strings.Join(wantEntries, "\n"))
	}

	// The package installs in the usual places (checked with Debian's own tool when it is there).
	dpkg, err := exec.LookPath("dpkg-deb")
	if err != nil {
		t.Skip("dpkg-deb not installed: the .deb's contents are not checked")
	}
	out, err := exec.Command(dpkg, "--contents", filepath.Join(a, deb)).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb --contents: %v\n%s", err, out)
	}
	for _, p := range []string{"./usr/bin/hello", "./lib/systemd/system/herofleet-agent.service",
		"./usr/share/doc/herofleet/zinit/herofleet-agent.yaml", "./usr/share/doc/herofleet/main.go"} {
		if !strings.Contains(string(out), " "+p+"\n") {
			t.Errorf("deb lacks %s:\n%s", p, out)
		}
	}
	out, err = exec.Command(dpkg, "--field", filepath.Join(a, deb), "Package", "Version", "Architecture").CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb --field: %v\n%s", err, out)
	}
	if want := "Package: herofleet\nVersion: 1.2.3+rc1\nArchitecture: " + runtime.GOARCH + "\n"; string(out) != want {
		t.Errorf("deb fields:\n%s\nwant:\n%s", out, want)
	}
}

func TestDebVersion(t *testing.T) {
	for in, want := range map[string]string{"v1.4.0": "1.4.0", "1.4.0-rc1": "1.4.0+rc1", "abc1234-dirty": "0.0.0~abc1234+dirty", "7b5635f": "0.0.0~7b5635f", "dev": "0.0.0~dev"} {
		if got := DebVersion(in); got != want {
			t.Errorf("DebVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func listTarGz(t *testing.T, p string) []string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var list []string
	var when time.Time
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "root" {
			t.Errorf("%s: owner %d/%d %s", h.Name, h.Uid, h.Gid, h.Uname)
		}
		if when.IsZero() {
			when = h.ModTime
		} else if !h.ModTime.Equal(when) {
			t.Errorf("%s: time %s, others %s", h.Name, h.ModTime, when)
		}
		list = append(list, h.FileInfo().Mode().String()+" "+h.Name)
	}
	return list
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
