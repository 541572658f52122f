package sitegen

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"html/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
)

//go:embed layout.html
var layoutSrc string

var layout = template.Must(template.New("layout").Parse(layoutSrc))

type layoutData struct {
	SiteTitle  string
	Title      string
	Root       string // relative prefix from the page back to the site root
	HomeURL    string
	Content    template.HTML
	NeedsH1    bool
	TOC        template.HTML
	Nav        []navLink
	Sections   []navSectionView
	LiveReload string
}

type navLink struct {
	Title   string
	URL     string
	Current bool
}

type navSectionView struct {
	Name  string
	Open  bool
	Pages []navLink
}

func (b Builder) renderAll(ctx context.Context, site Site, pages []*parsedPage, n nav, outDir string) error {
	mds := make(chan goldmark.Markdown, b.Workers)
	for range b.Workers {
		mds <- newMarkdown()
	}
	return forEach(ctx, b.Workers, len(pages), func(i int) error {
		md := <-mds
		defer func() { mds <- md }()
		p := pages[i]
		html, err := b.renderPage(md, site, p, n)
		if err != nil {
			return fmt.Errorf("%s: render: %w", p.source(), err)
		}
		return writeFile(outDir, pageURL(p.Path), html)
	})
}

func (b Builder) renderPage(md goldmark.Markdown, site Site, p *parsedPage, n nav) ([]byte, error) {
	addHeadingAnchors(p.doc)
	var body bytes.Buffer
	if err := md.Renderer().Render(&body, p.src, p.doc); err != nil {
		return nil, err
	}
	root := rootPrefix(p.Path)
	d := layoutData{
		SiteTitle:  site.Title,
		Title:      p.Title,
		Root:       root,
		HomeURL:    root + "index.html",
		Content:    template.HTML(body.String()),
		NeedsH1:    !p.hasH1,
		TOC:        tocHTML(p.headings),
		LiveReload: b.LiveReload,
	}
	if d.Root == "" {
		d.Root = "./"
	}
	for _, s := range n.Sections {
		v := navSectionView{Name: s.Name}
		for _, sp := range s.Pages {
			if sp.Section == p.Section {
				v.Open = true
			}
		}
		if v.Open || len(s.Pages) <= 12 {
			for _, sp := range s.Pages {
				v.Pages = append(v.Pages, navLink{Title: sp.Title, URL: root + pageURL(sp.Path), Current: sp.Path == p.Path})
			}
		} else {
			// A big section that is not the current one shows only its first page, to keep every page small.
			sp := s.Pages[0]
			v.Pages = []navLink{{Title: sp.Title, URL: root + pageURL(sp.Path)}}
		}
		d.Sections = append(d.Sections, v)
	}
	var out bytes.Buffer
	if err := layout.Execute(&out, d); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// addHeadingAnchors appends a "#" self-link to every heading with an id, so readers can copy a deep link.
func addHeadingAnchors(doc ast.Node) {
	var hs []*ast.Heading
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering {
			hs = append(hs, h)
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	for _, h := range hs {
		id, ok := h.AttributeString("id")
		idb, _ := id.([]byte)
		if !ok || len(idb) == 0 {
			continue
		}
		a := ast.NewLink()
		a.Destination = append([]byte("#"), idb...)
		a.SetAttributeString("class", []byte("anchor"))
		a.AppendChild(a, ast.NewString([]byte("#")))
		h.AppendChild(h, a)
	}
}
