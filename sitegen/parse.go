package sitegen

import (
	"context"
	"html"
	"sort"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"go.abhg.dev/goldmark/frontmatter"
)

// parsedPage is what the TOC, links check, navigation and search index need of a page, and its metadata merged
// from the Page and its front matter. It does not keep the page's syntax tree: a site's trees would all be held at
// once between parsing and rendering, so each page is parsed again when it is rendered, and memory is bounded by
// the pages being rendered rather than by the site.
type parsedPage struct {
	Page
	src      []byte
	lines    []int // byte offset of each line start, for file:line; only while parsing
	headings []heading
	links    []*linkRef
	codes    []codeRef
	hasH1    bool
	escTitle string // Title, HTML-escaped once for the navigation of every page
	navIndex int    // position among its section's pages in the navigation
	summary  string
	words    []string
}

type heading struct {
	Level int
	ID    string
	Text  string
}

// linkRef is a link or image found in a page, in document order; checkLinks replaces dest with the URL written.
type linkRef struct {
	dest string
	line int
}

type codeRef struct {
	text string
	line int
}

type frontMatter struct {
	Title   string `yaml:"title"`
	Section string `yaml:"section"`
	Weight  *int   `yaml:"weight"`
}

func newMarkdown() goldmark.Markdown {
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM, &frontmatter.Extender{}),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	)
	newCodeBlocks().Extend(md)
	return md
}

// parseAll parses every page in parallel. Problems found while parsing (front matter, rejected code spans) are
// returned beside the pages, so that they are reported together with broken links.
func (b Builder) parseAll(ctx context.Context, site Site) ([]*parsedPage, []Problem, error) {
	pages := make([]*parsedPage, len(site.Pages))
	mds := make(chan goldmark.Markdown, b.Workers)
	for range b.Workers {
		mds <- newMarkdown()
	}
	probs := make([][]Problem, len(site.Pages))
	err := forEach(ctx, b.Workers, len(site.Pages), func(i int) error {
		md := <-mds
		defer func() { mds <- md }()
		pages[i], probs[i] = parsePage(md, site.Pages[i], site.CheckCode)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var all []Problem
	for _, p := range probs {
		all = append(all, p...)
	}
	sort.Slice(pages, func(i, j int) bool { return pages[i].Path < pages[j].Path })
	return pages, all, nil
}

func parsePage(md goldmark.Markdown, pg Page, checkCode func(string) string) (*parsedPage, []Problem) {
	p := &parsedPage{Page: pg, src: pg.Markdown}
	p.lines = lineStarts(p.src)
	pc := parser.NewContext()
	doc := md.Parser().Parse(text.NewReader(p.src), parser.WithContext(pc))
	var probs []Problem
	if d := frontmatter.Get(pc); d != nil {
		var fm frontMatter
		if err := d.Decode(&fm); err != nil {
			probs = append(probs, problemf(p.source(), 1, "front matter: %v", err))
		}
		if p.Title == "" {
			p.Title = fm.Title
		}
		if fm.Section != "" {
			p.Section = fm.Section // the page's author knows better than the caller's default
		}
		if fm.Weight != nil && p.Weight == 0 {
			p.Weight = *fm.Weight
		}
	}
	var words wordSet
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			id, _ := n.AttributeString("id")
			idb, _ := id.([]byte)
			h := heading{Level: n.Level, ID: string(idb), Text: plainText(n, p.src)}
			p.headings = append(p.headings, h)
			if n.Level == 1 {
				p.hasH1 = true
				if p.Title == "" {
					p.Title = h.Text
				}
			}
		case *ast.Link:
			p.links = append(p.links, &linkRef{dest: string(n.Destination), line: p.lineOf(n)})
		case *ast.Image:
			p.links = append(p.links, &linkRef{dest: string(n.Destination), line: p.lineOf(n)})
		case *ast.CodeSpan:
			if checkCode != nil {
				code := plainText(n, p.src)
				if msg := checkCode(code); msg != "" {
					probs = append(probs, Problem{File: p.source(), Line: p.lineOf(n), Msg: msg})
				}
			}
		case *ast.Text:
			words.add(n.Segment.Value(p.src))
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			for i := 0; i < n.Lines().Len(); i++ {
				seg := n.Lines().At(i)
				words.add(seg.Value(p.src))
			}
		}
		return ast.WalkContinue, nil
	})
	if p.Title == "" {
		p.Title = pg.Path
		if p.Title == "" {
			p.Title = "Home"
		}
	}
	p.escTitle = html.EscapeString(p.Title)
	p.words = words.list
	p.summary = summarize(doc, p.src)
	p.lines = nil
	return p, probs
}

// lineOf finds the 1-based source line of an inline or block node: its own lines, else the first text inside it,
// else the text just before it, else its enclosing block.
func (p *parsedPage) lineOf(n ast.Node) int {
	if n.Type() == ast.TypeBlock && n.Lines().Len() > 0 {
		return p.line(n.Lines().At(0).Start)
	}
	if off, ok := firstOffset(n); ok {
		return p.line(off)
	}
	for s := n.PreviousSibling(); s != nil; s = s.PreviousSibling() {
		if t, ok := s.(*ast.Text); ok {
			return p.line(t.Segment.Stop)
		}
	}
	for a := n.Parent(); a != nil; a = a.Parent() {
		if a.Type() == ast.TypeBlock && a.Lines().Len() > 0 {
			return p.line(a.Lines().At(0).Start)
		}
	}
	return 1
}

func firstOffset(n ast.Node) (int, bool) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if t, ok := c.(*ast.Text); ok {
			return t.Segment.Start, true
		}
		if off, ok := firstOffset(c); ok {
			return off, true
		}
	}
	return 0, false
}

func (p *parsedPage) line(off int) int {
	return sort.Search(len(p.lines), func(i int) bool { return p.lines[i] > off })
}

func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// plainText is the visible text of an inline tree, used for headings, titles and code spans.
func plainText(n ast.Node, src []byte) string {
	var sb strings.Builder
	var walk func(ast.Node)
	walk = func(n ast.Node) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Text:
				sb.Write(c.Segment.Value(src))
				if c.SoftLineBreak() || c.HardLineBreak() {
					sb.WriteByte(' ')
				}
			case *ast.String:
				sb.Write(c.Value)
			default:
				walk(c)
			}
		}
	}
	walk(n)
	return strings.TrimSpace(sb.String())
}

// summarize takes the first paragraph's text, cut to about 160 characters, for search results.
func summarize(doc ast.Node, src []byte) string {
	for c := doc.FirstChild(); c != nil; c = c.NextSibling() {
		if c.Kind() == ast.KindParagraph {
			s := plainText(c, src)
			if r := []rune(s); len(r) > 160 {
				s = string(r[:157]) + "…"
			}
			return s
		}
	}
	return ""
}
