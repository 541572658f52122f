package sitegen

import (
	"html/template"
	"strings"
)

// tocHTML renders the page's level-2 and level-3 headings as nested lists; an empty result means no TOC.
func tocHTML(headings []heading) template.HTML {
	var sb strings.Builder
	depth := 0 // open <ul> levels: 1 for h2 lists, 2 inside an h2 for its h3s
	count := 0
	for _, h := range headings {
		if h.Level < 2 || h.Level > 3 || h.ID == "" {
			continue
		}
		want := h.Level - 1
		switch {
		case depth == 0:
			sb.WriteString("<ul>")
			depth = 1
			if want == 2 { // an h3 before any h2: indent it anyway
				sb.WriteString("<li><ul>")
				depth = 2
			}
		case want > depth:
			sb.WriteString("<ul>")
			depth = 2
		case want < depth:
			sb.WriteString("</li></ul></li>")
			depth = 1
		default:
			sb.WriteString("</li>")
		}
		sb.WriteString(`<li><a href="#`)
		sb.WriteString(template.HTMLEscapeString(h.ID))
		sb.WriteString(`">`)
		sb.WriteString(template.HTMLEscapeString(h.Text))
		sb.WriteString("</a>")
		count++
	}
	for ; depth > 0; depth-- {
		sb.WriteString("</li></ul>")
	}
	if count < 2 {
		return ""
	}
	return template.HTML(sb.String())
}
