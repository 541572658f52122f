package sitegen

import (
	"bytes"
	"encoding/json"
	"unicode"
	"unicode/utf8"
)

// maxWordsPerPage bounds the search index, which a reader loads whole on first using search.
const maxWordsPerPage = 3000

// wordSet collects the distinct lower-case words of a page in order of first appearance.
type wordSet struct {
	seen map[string]bool
	list []string
}

func (w *wordSet) add(b []byte) {
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	for len(b) > 0 {
		start := -1
		i := 0
		for i < len(b) {
			r, size := utf8.DecodeRune(b[i:])
			word := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'
			if word && start < 0 {
				start = i
			}
			if !word && start >= 0 {
				break
			}
			i += size
		}
		if start >= 0 && i-start > 1 && len(w.list) < maxWordsPerPage {
			word := string(bytes.ToLower(b[start:i]))
			if !w.seen[word] {
				w.seen[word] = true
				w.list = append(w.list, word)
			}
		}
		b = b[i:]
	}
}

type searchEntry struct {
	URL      string   `json:"u"`
	Title    string   `json:"t"`
	Section  string   `json:"s,omitempty"`
	Summary  string   `json:"d,omitempty"`
	Headings []string `json:"h,omitempty"`
	Words    string   `json:"w"`
}

// searchIndexJS is the index as a script that sets a global, so that it loads from file:// where fetch cannot.
func searchIndexJS(pages []*parsedPage) ([]byte, error) {
	entries := make([]searchEntry, 0, len(pages))
	for _, p := range pages {
		e := searchEntry{URL: pageURL(p.Path), Title: p.Title, Section: p.Section, Summary: p.summary}
		for _, h := range p.headings {
			if h.Level > 1 {
				e.Headings = append(e.Headings, h.Text)
			}
		}
		var ws bytes.Buffer
		for i, w := range p.words {
			if i > 0 {
				ws.WriteByte(' ')
			}
			ws.WriteString(w)
		}
		e.Words = ws.String()
		entries = append(entries, e)
	}
	data, err := json.Marshal(entries)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.WriteString("window.SITEGEN_INDEX = ")
	out.Write(data)
	out.WriteString(";\n")
	return out.Bytes(), nil
}
