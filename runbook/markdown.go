package runbook

import (
	"fmt"
	"strings"
)

// mdEscaper backslash-escapes what markdown would otherwise read as markup in fleet-provided text (titles,
// descriptions, commit subjects), so that fleet data never turns into links, code spans or table cells.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`, `<`, `\<`, `>`, `\>`,
	`#`, `\#`, `|`, `\|`, `!`, `\!`, `{`, `\{`, `}`, `\}`, "\n", " ",
)

func esc(s string) string { return mdEscaper.Replace(strings.TrimSpace(s)) }

// code writes s as an inline code span, with a fence longer than any backtick run inside it.
func code(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + strings.ReplaceAll(s, "|", `\|`) + pad + fence
}

// Site-absolute links to generated pages; sitegen rewrites them to relative index.html links.
func appLink(name, title string) string {
	return fmt.Sprintf("[%s](/%s)", esc(title), appPath(name)+".md")
}
func roleLink(name, title string) string {
	return fmt.Sprintf("[%s](/%s)", esc(title), rolePath(name)+".md")
}
func hostLink(name string) string {
	return fmt.Sprintf("[%s](/hosts.md#%s)", esc(name), hostAnchor(name))
}
func binaryLink(app, binary string) string {
	return fmt.Sprintf("[%s](/%s.md#%s)", code(binary), appPath(app), binaryAnchor(binary))
}

func appPath(name string) string  { return "apps/" + name }
func rolePath(name string) string { return "roles/" + name }

// Anchors are the heading ids goldmark generates for the headings the pages write ("### `hero_books_web`" gets
// "hero-books-web", "## tester-07" gets "tester-07"): names are lower case, and goldmark turns "_" into "-".
// sitegen fails the build if this ever drifts.
func binaryAnchor(binary string) string { return strings.ReplaceAll(binary, "_", "-") }
func hostAnchor(host string) string     { return strings.ReplaceAll(host, "_", "-") }

// table writes a markdown table; cells are already markdown.
func table(b *strings.Builder, header []string, rows [][]string) {
	if len(rows) == 0 {
		return
	}
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for range header {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		for i := range r {
			if r[i] == "" {
				r[i] = "—"
			}
		}
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	b.WriteString("\n")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// list joins already-formatted items with commas, or a dash when there are none.
func list(items []string) string {
	if len(items) == 0 {
		return "—"
	}
	return strings.Join(items, ", ")
}
