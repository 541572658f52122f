package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// corpus writes the same markdown pages twice: as a plain tree for sitegen and as a Hugo project's content.
// Pages are generated from a fixed seed, so every run renders the same corpus.
type corpus struct {
	pages    int
	sections int
}

var words = strings.Fields(`agent app binary bundle build catalog cockpit commit converge deploy engine embedder fleet
health host hook install listen memory mycelium overlay plan plugin preinstalled provider quarantine release repo
revision role rollback schedule server service source supervise sync tester upgrade voice web window admin books`)

var snippets = []struct{ lang, code string }{
	{"go", "func (a *Agent) Apply(ctx context.Context, app string) error {\n\tif err := ctx.Err(); err != nil {\n\t\treturn err\n\t}\n\treturn a.start(ctx, app)\n}"},
	{"yaml", "name: books\nsource: {repo: https://forge.example/hero_books.git, ref: main}\nbinaries:\n  - name: hero_books_server\n    kind: server\n    listen: tcp://127.0.0.1:9201"},
	{"sh", "herofleet validate --deep .\nherofleet plan --role tester\ngit push origin main"},
}

func (c corpus) write(siteDir, hugoDir string) error {
	rng := rand.New(rand.NewPCG(42, 2000))
	perSection := (c.pages + c.sections - 1) / c.sections
	for i := 0; i < c.pages; i++ {
		sec, n := i/perSection, i%perSection
		md := c.page(rng, i, sec, n, perSection)
		rel := filepath.Join(fmt.Sprintf("sec-%02d", sec), fmt.Sprintf("page-%04d.md", n))
		for _, dst := range []string{filepath.Join(siteDir, rel), filepath.Join(hugoDir, "content", rel)} {
			if err := writeFile(dst, md); err != nil {
				return err
			}
		}
	}
	home := "---\ntitle: Benchmark corpus\n---\nA generated corpus of " + fmt.Sprint(c.pages) + " pages.\n\nStart at [the first page](sec-00/page-0000.md).\n"
	if err := writeFile(filepath.Join(siteDir, "index.md"), home); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(hugoDir, "content", "_index.md"), home); err != nil {
		return err
	}
	return writeHugoProject(hugoDir)
}

func (c corpus) page(rng *rand.Rand, i, sec, n, perSection int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "---\ntitle: \"%s %d\"\nweight: %d\n---\n", title(rng), i, n)
	b.WriteString(para(rng, 3) + "\n\n")
	for h := 0; h < 4; h++ {
		fmt.Fprintf(&b, "## Part %d %s\n\n%s\n\n", h, title(rng), para(rng, 4))
		if h%2 == 0 {
			fmt.Fprintf(&b, "### Detail %d\n\n- `%s_%s` %s\n- %s\n- %s\n\n", h, word(rng), word(rng), para(rng, 1), para(rng, 1), para(rng, 1))
		}
		if h == 1 {
			s := snippets[rng.IntN(len(snippets))]
			fmt.Fprintf(&b, "```%s\n%s\n```\n\n", s.lang, s.code)
		}
		if h == 2 {
			b.WriteString("| app | port | state |\n|-----|------|-------|\n")
			for r := 0; r < 4; r++ {
				fmt.Fprintf(&b, "| %s | %d | %s |\n", word(rng), 9000+rng.IntN(999), word(rng))
			}
			b.WriteString("\n")
		}
	}
	// Links to other pages and to their headings, which sitegen checks and rewrites.
	for l := 0; l < 3; l++ {
		ts, tn := rng.IntN(c.sections), rng.IntN(perSection)
		if ts*perSection+tn >= c.pages {
			ts, tn = 0, 0
		}
		fmt.Fprintf(&b, "See [page %d of section %d](../sec-%02d/page-%04d.md). ", tn, ts, ts, tn)
	}
	fmt.Fprintf(&b, "Back to [the first part](#part-0-%s).\n", "")
	return fixSelfAnchor(b.String())
}

// fixSelfAnchor points the last link at the page's own first h2, whose generated id depends on its random title.
func fixSelfAnchor(md string) string {
	i := strings.Index(md, "## Part 0 ")
	line := md[i+3 : i+strings.IndexByte(md[i:], '\n')]
	id := strings.ToLower(strings.ReplaceAll(line, " ", "-"))
	return strings.Replace(md, "(#part-0-)", "(#"+id+")", 1)
}

func word(rng *rand.Rand) string { return words[rng.IntN(len(words))] }

func title(rng *rand.Rand) string {
	w := word(rng)
	return strings.ToUpper(w[:1]) + w[1:] + " " + word(rng)
}

func para(rng *rand.Rand, sentences int) string {
	var s []string
	for i := 0; i < sentences; i++ {
		n := 8 + rng.IntN(10)
		ws := make([]string, n)
		for j := range ws {
			ws[j] = word(rng)
		}
		ws[0] = strings.ToUpper(ws[0][:1]) + ws[0][1:]
		s = append(s, strings.Join(ws, " ")+".")
	}
	return strings.Join(s, " ")
}

// writeHugoProject gives Hugo the same job: class-based highlighting, heading ids, a TOC, and a sidebar listing
// the current section's pages, with relative URLs.
func writeHugoProject(dir string) error {
	files := map[string]string{
		"config.toml": `baseURL = "/"
title = "Benchmark corpus"
relativeURLs = true
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
[markup.highlight]
noClasses = false
[markup.goldmark.parser]
autoHeadingID = true
[markup.tableOfContents]
startLevel = 2
endLevel = 3
`,
		"layouts/_default/baseof.html": `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} · {{ .Site.Title }}</title>
<link rel="stylesheet" href="{{ "style.css" | relURL }}"></head>
<body><header><a href="{{ "/" | relURL }}">{{ .Site.Title }}</a></header>
<nav>{{ range .Site.Sections }}<div>{{ .Title }}<ul>{{ if eq . $.CurrentSection }}{{ range .RegularPages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}{{ end }}</ul></div>{{ end }}</nav>
<main>{{ block "main" . }}{{ end }}</main>
</body></html>
`,
		"layouts/_default/single.html": `{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}<aside>{{ .TableOfContents }}</aside>{{ end }}`,
		"layouts/_default/list.html":   `{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}{{ end }}`,
		"static/style.css":             "body{font-family:sans-serif}\n",
	}
	for name, data := range files {
		if err := writeFile(filepath.Join(dir, filepath.FromSlash(name)), data); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(dst, data string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, []byte(data), 0o644)
}
