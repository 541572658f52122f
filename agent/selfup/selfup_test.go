package selfup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeExec records the execs Start asks for (and fails them, so Start returns).
func fakeExec(t *testing.T) *[]string {
	var calls []string
	old := Exec
	Exec = func(exe string, argv, env []string) error {
		n := ""
		for _, kv := range env {
			if strings.HasPrefix(kv, ExecsEnv+"=") {
				n = kv
			}
		}
		calls = append(calls, exe+" "+n)
		return errors.New("not in a test")
	}
	t.Cleanup(func() { Exec = old })
	return &calls
}

// exes makes two executables, v1 (this process' stand-in) and v2, under dir.
func exes(t *testing.T, dir string) (Version, Version) {
	v1 := Version{Version: "v1", Exe: filepath.Join(dir, "usr-bin-herofleet")}
	v2 := Version{Version: "v2", Exe: filepath.Join(Dir(dir), "v2", "herofleet")}
	for _, v := range []Version{v1, v2} {
		os.MkdirAll(filepath.Dir(v.Exe), 0o755)
		os.WriteFile(v.Exe, []byte("#!/bin/sh\n"), 0o755)
	}
	return v1, v2
}

var quiet = slog.New(slog.DiscardHandler)

func TestStart(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		rec        func(v1, v2 Version) *Record
		self       func(v1, v2 Version) Version
		env        string
		wantExec   func(v1, v2 Version) string // "" for none
		wantCur    string
		wantStarts int
		wantTrial  bool
		wantFailed bool
	}{
		{name: "no record: runs as it is",
			rec: func(v1, v2 Version) *Record { return nil }, self: func(v1, v2 Version) Version { return v1 }},
		{name: "the packaged binary execs the confirmed current version",
			rec:      func(v1, v2 Version) *Record { return &Record{Current: v2, Previous: &v1, Confirmed: true} },
			self:     func(v1, v2 Version) Version { return v1 },
			wantExec: func(v1, v2 Version) string { return v2.Exe + " " + ExecsEnv + "=1" }, wantCur: "v2"},
		{name: "the current version runs, confirmed: no trial",
			rec:  func(v1, v2 Version) *Record { return &Record{Current: v2, Previous: &v1, Confirmed: true} },
			self: func(v1, v2 Version) Version { return v2 }, wantCur: "v2"},
		{name: "loop guard: no exec after three",
			rec:  func(v1, v2 Version) *Record { return &Record{Current: v2, Previous: &v1, Confirmed: true} },
			self: func(v1, v2 Version) Version { return v1 }, env: "3", wantCur: "v2"},
		{name: "on trial: the version itself counts its start",
			rec: func(v1, v2 Version) *Record {
				return &Record{Current: v2, Previous: &v1, Deadline: now.Add(time.Minute), Starts: 1}
			},
			self: func(v1, v2 Version) Version { return v2 }, wantCur: "v2", wantStarts: 2, wantTrial: true},
		{name: "on trial: a binary on its way to exec it does not count",
			rec: func(v1, v2 Version) *Record {
				return &Record{Current: v2, Previous: &v1, Deadline: now.Add(time.Minute), Starts: 1}
			},
			self:     func(v1, v2 Version) Version { return v1 },
			wantExec: func(v1, v2 Version) string { return v2.Exe + " " + ExecsEnv + "=1" }, wantCur: "v2", wantStarts: 1},
		{name: "started MaxStarts times: rolled back, this binary is the previous one",
			rec: func(v1, v2 Version) *Record {
				return &Record{Current: v2, Previous: &v1, Deadline: now.Add(time.Minute), Starts: MaxStarts}
			},
			self: func(v1, v2 Version) Version { return v1 }, wantCur: "v1", wantFailed: true},
		{name: "deadline passed: rolled back and the previous one exec'd",
			rec: func(v1, v2 Version) *Record {
				return &Record{Current: v2, Previous: &v1, Deadline: now.Add(-time.Second), Starts: 1}
			},
			self:     func(v1, v2 Version) Version { return v2 },
			wantExec: func(v1, v2 Version) string { return v1.Exe + " " + ExecsEnv + "=1" }, wantCur: "v1", wantFailed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			v1, v2 := exes(t, dir)
			if r := tt.rec(v1, v2); r != nil {
				if err := Save(dir, r); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv(ExecsEnv, tt.env)
			calls := fakeExec(t)
			trial := Start(dir, tt.self(v1, v2), now, quiet)
			want := []string{}
			if tt.wantExec != nil {
				want = append(want, tt.wantExec(v1, v2))
			}
			if strings.Join(*calls, "|") != strings.Join(want, "|") {
				t.Errorf("execs %q, want %q", *calls, want)
			}
			if (trial != nil) != tt.wantTrial {
				t.Errorf("trial %+v, want %v", trial, tt.wantTrial)
			}
			rec, _ := Load(dir)
			if rec == nil {
				if tt.wantCur != "" {
					t.Fatal("no record")
				}
				return
			}
			if rec.Current.Version != tt.wantCur || rec.Starts != tt.wantStarts || rec.HasFailed("v2") != tt.wantFailed {
				t.Errorf("record %+v; want current %s, %d starts, v2 failed %v", rec, tt.wantCur, tt.wantStarts, tt.wantFailed)
			}
			if tt.wantFailed && (rec.Rollback == nil || rec.Rollback.Version != "v2" || !rec.Confirmed || rec.Previous != nil) {
				t.Errorf("rollback record %+v", rec)
			}
		})
	}
}

type entry struct {
	name string
	typ  byte
	body string
	link string
}

func tgz(t *testing.T, entries ...entry) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o755, Size: int64(len(e.body)), Linkname: e.link}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// unpack takes regular files and folders of one release folder and nothing that could leave the target.
func TestUnpack(t *testing.T) {
	top := entry{name: "herofleet_v2_linux_amd64/", typ: tar.TypeDir}
	good := []entry{top, {name: "herofleet_v2_linux_amd64/herofleet", typ: tar.TypeReg, body: "bin"},
		{name: "herofleet_v2_linux_amd64/plugins/", typ: tar.TypeDir},
		{name: "herofleet_v2_linux_amd64/plugins/herofleet-plugin-seed-git", typ: tar.TypeReg, body: "p"}}
	dest := t.TempDir()
	if err := unpack(bytes.NewReader(tgz(t, good...)), dest, DefaultLimits); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"herofleet", "plugins/herofleet-plugin-seed-git"} {
		if fi, err := os.Stat(filepath.Join(dest, f)); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v %v", f, fi, err)
		}
	}
	bad := map[string][]entry{
		"leaves the target":     {top, {name: "herofleet_v2_linux_amd64/../../x", typ: tar.TypeReg, body: "x"}},
		"leaves the target ":    {{name: "/etc/passwd", typ: tar.TypeReg, body: "x"}},
		"not a regular file":    {top, {name: "herofleet_v2_linux_amd64/herofleet", typ: tar.TypeSymlink, link: "/bin/sh"}},
		"not a regular file ":   {top, {name: "herofleet_v2_linux_amd64/h", typ: tar.TypeLink, link: "herofleet_v2_linux_amd64/x"}},
		"outside its release":   {top, {name: "other/herofleet", typ: tar.TypeReg, body: "x"}},
		"more than 256 entries": append([]entry{top}, manyFiles(300)...),
		"empty archive":         {},
	}
	for want, entries := range bad {
		err := unpack(bytes.NewReader(tgz(t, entries...)), t.TempDir(), DefaultLimits)
		if err == nil || !strings.Contains(err.Error(), strings.TrimSpace(want)) {
			t.Errorf("%s: got %v", want, err)
		}
	}
	if err := unpack(strings.NewReader("not gzip"), t.TempDir(), DefaultLimits); err == nil || !strings.Contains(err.Error(), "not a gzipped tar") {
		t.Errorf("junk: %v", err)
	}
}

func manyFiles(n int) []entry {
	var out []entry
	for i := range n {
		out = append(out, entry{name: "herofleet_v2_linux_amd64/f" + strconv.Itoa(i), typ: tar.TypeReg, body: "x"})
	}
	return out
}

// Prune keeps the current and the previous version's folders, nothing else.
func TestPrune(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"v1", "v2", "v3", ".unpack-123"} {
		os.MkdirAll(filepath.Join(Dir(dir), v), 0o755)
	}
	r := &Record{Current: Version{"v3", filepath.Join(Dir(dir), "v3", "herofleet")}, Previous: &Version{"v2", filepath.Join(Dir(dir), "v2", "herofleet")}}
	Save(dir, r)
	r.Prune(dir)
	entries, _ := os.ReadDir(Dir(dir))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "current v2 v3" {
		t.Errorf("left %s", got)
	}
}
