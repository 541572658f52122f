package sitegen

import (
	"bytes"
	"testing"

	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/yuin/goldmark"
	highlighting "github.com/yuin/goldmark-highlighting/v2"
	"github.com/yuin/goldmark/extension"
)

// TestCodeBlocksMatchGoldmarkHighlighting: our code block renderer writes exactly what goldmark-highlighting wrote
// before it (same classes, same plain fallback), so sites rebuild byte-identical.
func TestCodeBlocksMatchGoldmarkHighlighting(t *testing.T) {
	theirs := goldmark.New(goldmark.WithExtensions(extension.GFM, highlighting.NewHighlighting(
		highlighting.WithStyle("github"), highlighting.WithFormatOptions(chromahtml.WithClasses(true)))))
	ours := goldmark.New(goldmark.WithExtensions(extension.GFM))
	newCodeBlocks().Extend(ours)
	for name, src := range map[string]string{
		"go":         "```go\nfunc main() { fmt.Println(\"<hi>\") }\n```\n",
		"yaml":       "```yaml\nname: books\nbinaries: [a, b] # c\n```\n",
		"shell":      "```sh\nherofleet site build . --out /tmp/site && echo ok\n```\n",
		"html":       "```html\n<script>alert(1)</script>\n```\n",
		"no lang":    "```\nplain <b>text</b> & more\n```\n",
		"unknown":    "```nosuchlang\nx < y\n```\n",
		"empty":      "```go\n```\n",
		"in a list":  "- item\n\n  ```yaml\n  a: 1\n  ```\n",
		"two blocks": "```go\nx := 1\n```\n\ntext\n\n```sh\nls -l\n```\n",
	} {
		var want, got bytes.Buffer
		if err := theirs.Convert([]byte(src), &want); err != nil {
			t.Fatal(err)
		}
		if err := ours.Convert([]byte(src), &got); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s:\n got: %s\nwant: %s", name, got.String(), want.String())
		}
	}
}
