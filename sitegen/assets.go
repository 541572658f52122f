package sitegen

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"

	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/styles"
)

//go:embed assets/style.css
var styleCSS []byte

//go:embed assets/site.js
var siteJS []byte

// writeAssets writes the stylesheet (with both highlighting themes), the script and the search index.
func writeAssets(outDir string, pages []*parsedPage) error {
	css, err := stylesheet()
	if err != nil {
		return err
	}
	idx, err := searchIndexJS(pages)
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	for name, data := range map[string][]byte{"style.css": css, "site.js": siteJS, "search-index.js": idx} {
		if err := writeFile(outDir, assetsDir+"/"+name, data); err != nil {
			return err
		}
	}
	return nil
}

// stylesheet appends Chroma's class-based CSS: "github" for light, "github-dark" scoped to the dark theme (forced by
// the toggle, or chosen by the system when the reader has not forced light).
func stylesheet() ([]byte, error) {
	f := chromahtml.New(chromahtml.WithClasses(true))
	var light, dark bytes.Buffer
	if err := f.WriteCSS(&light, styles.Get("github")); err != nil {
		return nil, err
	}
	if err := f.WriteCSS(&dark, styles.Get("github-dark")); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Write(styleCSS)
	out.WriteString("\n/* code highlighting: light */\n")
	out.Write(light.Bytes())
	// The dark theme first undoes the light rules (tokens the dark style leaves alone would keep a light-theme
	// colour, dark on dark), then applies its own, which are more specific than the reset.
	const reset = " .chroma span { color: inherit; background-color: transparent; font-weight: inherit; font-style: inherit; text-decoration: inherit; }\n"
	out.WriteString("\n/* code highlighting: dark */\n")
	out.WriteString(`html[data-theme="dark"]` + reset)
	out.WriteString(strings.ReplaceAll(dark.String(), ".chroma", `html[data-theme="dark"] .chroma`))
	out.WriteString("@media (prefers-color-scheme: dark) {\n")
	out.WriteString(`html:not([data-theme="light"])` + reset)
	out.WriteString(strings.ReplaceAll(dark.String(), ".chroma", `html:not([data-theme="light"]) .chroma`))
	out.WriteString("}\n")
	// The code block background comes from the theme variables, so both themes agree with the page.
	out.WriteString(".chroma, pre.chroma { background-color: var(--code-bg) !important; }\n")
	return out.Bytes(), nil
}
