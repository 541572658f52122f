package sitegen

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"os"
	"path/filepath"

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
	NeedsH1    bool
	TOC        template.HTML
	LiveReload string
}

func (b Builder) renderAll(ctx context.Context, site Site, pages []*parsedPage, n nav, outDir string) error {
	if err := makeDirs(outDir, pages); err != nil {
		return err
	}
	navs := newNavCache(n)
	mds := make(chan goldmark.Markdown, b.Workers)
	for range b.Workers {
		mds <- newMarkdown()
	}
	return forEach(ctx, b.Workers, len(pages), func(i int) error {
		md := <-mds
		defer func() { mds <- md }()
		p := pages[i]
		html, err := b.renderPage(md, site, p, navs)
		if err != nil {
			return fmt.Errorf("%s: render: %w", p.source(), err)
		}
		return os.WriteFile(filepath.Join(outDir, filepath.FromSlash(pageURL(p.Path))), html, 0o644)
	})
}

func (b Builder) renderPage(md goldmark.Markdown, site Site, p *parsedPage, navs *navCache) ([]byte, error) {
	addHeadingAnchors(p.doc)
	root := rootPrefix(p.Path)
	d := layoutData{
		SiteTitle:  site.Title,
		Title:      p.Title,
		Root:       root,
		HomeURL:    root + "index.html",
		NeedsH1:    !p.hasH1,
		TOC:        tocHTML(p.headings),
		LiveReload: b.LiveReload,
	}
	if d.Root == "" {
		d.Root = "./"
	}
	// The big parts (sidebar, content) are written straight into the page; the template only handles the small,
	// escaped fields around them.
	out := bytes.NewBuffer(make([]byte, 0, 4*len(p.src)+16<<10))
	if err := layout.ExecuteTemplate(out, "top", d); err != nil {
		return nil, err
	}
	out.WriteString(navs.forPage(p, root))
	if err := layout.ExecuteTemplate(out, "article", d); err != nil {
		return nil, err
	}
	if err := md.Renderer().Render(out, p.src, p.doc); err != nil {
		return nil, err
	}
	if err := layout.ExecuteTemplate(out, "bottom", d); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// makeDirs creates every page directory once, before the workers write into them.
func makeDirs(outDir string, pages []*parsedPage) error {
	for _, p := range pages {
		if p.Path == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Join(outDir, filepath.FromSlash(p.Path)), 0o755); err != nil {
			return err
		}
	}
	return nil
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
