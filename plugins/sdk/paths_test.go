package sdk

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herofleet/herofleet/plugins"
)

func TestInDataDir(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data", "books")
	outside := filepath.Join(root, "outside")
	for _, d := range []string{data, outside, filepath.Join(data, "real")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	must(t, os.Symlink(outside, filepath.Join(data, "escape")))
	must(t, os.Symlink(filepath.Join(data, "real"), filepath.Join(data, "inside")))
	must(t, os.Symlink("/etc/passwd", filepath.Join(data, "passwd")))
	call := plugins.Call{DataDir: data}

	tests := []struct {
		path, want, err string
	}{
		{path: data + "/libraries", want: data + "/libraries"},
		{path: "libraries/a", want: data + "/libraries/a"},
		{path: data, want: data},
		{path: data + "/x/../y", want: data + "/y"},
		{path: data + "/inside/new/file", want: data + "/inside/new/file"},
		{path: data + "/../books2", err: "outside the app's data directory"},
		{path: "../../outside", err: "outside the app's data directory"},
		{path: "/etc", err: "outside the app's data directory"},
		{path: data + "/escape", err: "through a symlink"},
		{path: data + "/escape/deeper/file", err: "through a symlink"},
		{path: data + "/passwd", err: "through a symlink"},
	}
	for _, tt := range tests {
		got, err := InDataDir(call, tt.path)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("InDataDir(%q) = %q, %v; want error %q", tt.path, got, err, tt.err)
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("InDataDir(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
	if _, err := InDataDir(plugins.Call{}, "/x"); err == nil {
		t.Error("an empty data directory must be refused")
	}
}

func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "voice-token"), []byte("s3cret\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "big"), make([]byte, MaxSecretBytes+1), 0o600))
	must(t, os.Mkdir(filepath.Join(dir, "adir"), 0o700))
	call := plugins.Call{Secrets: dir}

	if got, err := ReadSecret(call, "voice-token"); err != nil || got != "s3cret" {
		t.Errorf("ReadSecret = %q, %v", got, err)
	}
	for name, want := range map[string]string{
		"../voice-token": "does not match",
		"a/b":            "does not match",
		"missing":        "no such file",
		"big":            "larger than",
		"adir":           "not a regular file",
	} {
		_, err := ReadSecret(call, name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadSecret(%q) err = %v, want %q", name, err, want)
		}
	}
	if _, err := ReadSecret(plugins.Call{}, "voice-token"); err == nil {
		t.Error("no secrets directory must be an error")
	}
}

func TestDecodeWithRejectsUnknownKeys(t *testing.T) {
	var cfg struct {
		Into string `json:"into"`
	}
	err := DecodeWith(map[string]any{"into": "x", "inot": "y"}, &cfg)
	if err == nil || !strings.Contains(err.Error(), `unknown field "inot"`) {
		t.Fatalf("err = %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzInDataDir: whatever the fleet repo writes, an accepted path stays inside the data directory.
func FuzzInDataDir(f *testing.F) {
	for _, s := range []string{"libraries", "../x", "/etc/passwd", "a/../../b", "./a//b/", "..", "/", "a/..\x00/b"} {
		f.Add(s)
	}
	root := f.TempDir()
	data := filepath.Join(root, "data", "app")
	if err := os.MkdirAll(data, 0o755); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := InDataDir(plugins.Call{DataDir: data}, p)
		if err != nil {
			return
		}
		if got != data && !strings.HasPrefix(got, data+string(filepath.Separator)) {
			t.Fatalf("InDataDir(%q) = %q, outside %s", p, got, data)
		}
	})
}
