package sitegen

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"sync"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
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

// writersPerWorker: creating a file waits on the disk rather than the CPU, so more files are written at once than
// pages rendered.
const writersPerWorker = 4

type pageFile struct {
	path string
	buf  *bytes.Buffer
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
	bufs := sync.Pool{New: func() any { return new(bytes.Buffer) }}
	files := make(chan pageFile, b.Workers*writersPerWorker)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var writeErr error
	for range b.Workers * writersPerWorker {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range files {
				err := os.WriteFile(f.path, f.buf.Bytes(), 0o644)
				bufs.Put(f.buf)
				if err != nil {
					mu.Lock()
					if writeErr == nil {
						writeErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	err := forEach(ctx, b.Workers, len(pages), func(i int) error {
		md := <-mds
		defer func() { mds <- md }()
		p := pages[i]
		buf := bufs.Get().(*bytes.Buffer)
		buf.Reset()
		if err := b.renderPage(buf, md, site, p, navs); err != nil {
			return fmt.Errorf("%s: render: %w", p.source(), err)
		}
		files <- pageFile{path: filepath.Join(outDir, filepath.FromSlash(pageURL(p.Path))), buf: buf}
		return nil
	})
	close(files)
	wg.Wait()
	if err != nil {
		return err
	}
	return writeErr
}

func (b Builder) renderPage(out *bytes.Buffer, md goldmark.Markdown, site Site, p *parsedPage, navs *navCache) error {
	doc, err := p.reparse(md)
	if err != nil {
		return err
	}
	addHeadingAnchors(doc)
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
	if err := layout.ExecuteTemplate(out, "top", d); err != nil {
		return err
	}
	out.WriteString(navs.forPage(p, root))
	if err := layout.ExecuteTemplate(out, "article", d); err != nil {
		return err
	}
	if err := md.Renderer().Render(out, p.src, doc); err != nil {
		return err
	}
	if err := layout.ExecuteTemplate(out, "bottom", d); err != nil {
		return err
	}
	return nil
}

// reparse parses the page again for rendering and gives its links and images the destinations checkLinks wrote.
// The same parser finds the same links in the same order as the first parse did.
func (p *parsedPage) reparse(md goldmark.Markdown) (ast.Node, error) {
	doc := md.Parser().Parse(text.NewReader(p.src), parser.WithContext(parser.NewContext()))
	k := 0
	err := ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		var dest *[]byte
		switch n := n.(type) {
		case *ast.Link:
			dest = &n.Destination
		case *ast.Image:
			dest = &n.Destination
		default:
			return ast.WalkContinue, nil
		}
		if k >= len(p.links) {
			return ast.WalkStop, fmt.Errorf("second parse found more links than the first")
		}
		*dest = []byte(p.links[k].dest)
		k++
		return ast.WalkContinue, nil
	})
	if err == nil && k != len(p.links) {
		err = fmt.Errorf("second parse found %d links, the first %d", k, len(p.links))
	}
	return doc, err
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
