package fleet

import (
	"errors"
	"testing"
)

// FuzzDecodeApp: whatever bytes an app file holds, loading reports errors with positions and never panics.
func FuzzDecodeApp(f *testing.F) {
	f.Add([]byte("source: {repo: https://f.example/w.git}\nbinaries: [{name: web, kind: web, path: w}]\n"))
	f.Add([]byte("binaries:\n  - name: a\n    env: {A: ${data}}\n    args: [\"$$\"]\n"))
	f.Add([]byte("hooks: [{plugin: x, on: pre-start, with: {a: [1, {b: c}]}}]\n"))
	f.Add([]byte("&a [*a]"))
	f.Add([]byte("\x00\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs := &files{data: map[string][]byte{
			"fleet.yaml":        []byte("name: t\n"),
			"apps/web.yaml":     data,
			"roles/tester.yaml": []byte("preinstalled: [web]\n"),
		}}
		_, err := load(fs, "")
		var fe Errors
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("an error that is not fleet.Errors: %v", err)
		}
		for _, e := range fe {
			if e.File == "" || e.Msg == "" {
				t.Fatalf("an error without its file or message: %#v", e)
			}
		}
	})
}
