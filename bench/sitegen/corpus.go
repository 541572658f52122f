package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// corpus writes the same runbook pages twice: as a fleet repo whose runbook/ folder holds them (for `herofleet site
// build`) and as a Hugo project's content. Pages are generated from a fixed seed, so every run renders the same
// corpus. A fleet's runbook/ is one folder: with sections > 1 the pages name their section in front matter (Hugo
// gets one content folder per section, its way of saying the same).
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

// fleetFiles is the smallest fleet the runbook pages can name: one app, one role, one host.
var fleetFiles = map[string]string{
	"fleet.yaml": "name: bench\ntitle: Benchmark fleet\n",
	"apps/books.yaml": `title: Hero Books
description: Library server and reader web UI.
source: {repo: https://forge.example/hero_books.git, ref: main}
build: {command: [make, build]}
binaries:
  - name: hero_books_server
    kind: server
    path: bin/hero_books_server
    listen: tcp://${host}:9201
    health: /health
    url: "http://${host}:9201/"
`,
	"roles/tester.yaml":    "title: Tester VM\ndescription: One per tester.\npreinstalled: [books]\n",
	"hosts/tester-01.yaml": "role: tester\naddress: \"[4a5::7]\"\n",
}

func (c corpus) write(fleetDir, hugoDir string) error {
	rng := rand.New(rand.NewPCG(42, 2000))
	perSection := (c.pages + c.sections - 1) / c.sections
	for i := 0; i < c.pages; i++ {
		sec, n := i/perSection, i%perSection
		page := c.page(rng, i, sec, n, perSection)
		name := fmt.Sprintf("page-%04d.md", i)
		// The fleet's pages name the app through a helper; Hugo's through a plain link.
		md := strings.ReplaceAll(page, "{{APP}}", `{{ app "books" }}`)
		if err := writeFile(filepath.Join(fleetDir, "runbook", name), md); err != nil {
			return err
		}
		hugoMD := strings.ReplaceAll(page, "{{APP}}", "[Hero Books](/apps/books/)")
		if err := writeFile(filepath.Join(hugoDir, "content", c.hugoSection(sec), name), hugoMD); err != nil {
			return err
		}
	}
	for name, data := range fleetFiles {
		if err := writeFile(filepath.Join(fleetDir, filepath.FromSlash(name)), data); err != nil {
			return err
		}
	}
	home := "---\ntitle: Benchmark fleet\n---\nA generated runbook of " + fmt.Sprint(c.pages) + " pages.\n"
	if err := writeFile(filepath.Join(hugoDir, "content", "_index.md"), home); err != nil {
		return err
	}
	return writeHugoProject(hugoDir)
}

func (c corpus) hugoSection(sec int) string {
	if c.sections == 1 {
		return "runbook"
	}
	return fmt.Sprintf("sec-%02d", sec)
}

func (c corpus) page(rng *rand.Rand, i, sec, n, perSection int) string {
	var b strings.Builder
	// Weights start at 1 (Hugo reads 0 as "none"), so a page's place in its section is its weight - 1.
	fmt.Fprintf(&b, "---\ntitle: \"%s %d\"\nweight: %d\n", title(rng), i, n+1)
	if c.sections > 1 {
		fmt.Fprintf(&b, "section: \"Section %02d\"\n", sec)
	}
	b.WriteString("---\n")
	b.WriteString(para(rng, 3) + " Served by {{APP}}.\n\n")
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
	// Links to other pages and to a heading of the page itself, which sitegen checks and rewrites.
	for l := 0; l < 3; l++ {
		t := rng.IntN(c.pages)
		fmt.Fprintf(&b, "See [page %d](page-%04d.md). ", t, t)
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

// writeHugoProject gives Hugo the same job: class-based highlighting, heading ids, a TOC (h2-h3), relative URLs,
// and the navigation sitegen writes: every section's title linked to its first page, and the current section's
// pages in groups of 50 (its own group listed, one link to the start of every other group).
func writeHugoProject(dir string) error {
	files := map[string]string{
		"config.toml": `baseURL = "/"
title = "Benchmark fleet"
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
<nav>{{ range .Site.Sections }}{{ $pages := .RegularPages }}{{ if eq . $.CurrentSection }}<div>{{ .Title }}<ul>
{{ $g := div (sub $.Weight 1) 50 }}{{ $groups := div (add (len $pages) 49) 50 }}
{{ range $i := seq 0 (sub $groups 1) }}{{ if eq $i $g }}{{ range first 50 (after (mul $i 50) $pages) }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>
{{ end }}{{ else }}<li><a href="{{ (index $pages (mul $i 50)).RelPermalink }}">Pages {{ add (mul $i 50) 1 }}</a></li>
{{ end }}{{ end }}</ul></div>{{ else }}<div><a href="{{ (index $pages 0).RelPermalink }}">{{ .Title }}</a></div>{{ end }}{{ end }}</nav>
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
