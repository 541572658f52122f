package fleet

import (
	"bytes"
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// maxFileSize bounds every fleet file: a fleet file is hand-written configuration, never data.
const maxFileSize = 1 << 20

// decodeFile strictly decodes one YAML document into out (a pointer to a struct), recording where each field's
// value starts. Every problem is collected, none stops the others: unknown keys, duplicate keys, wrong types.
func decodeFile(file string, data []byte, out any, e *errs) positions {
	pos := positions{"": {Line: 1, Col: 1}}
	broken := positions{"": {Line: 1, Col: 1}, brokenKey: {}}
	switch {
	case len(data) == 0 || len(bytes.TrimSpace(data)) == 0:
		e.add(file, Pos{}, "file is empty")
		return broken
	case len(data) > maxFileSize:
		e.add(file, Pos{}, "file is %d bytes; fleet files are at most %d", len(data), maxFileSize)
		return broken
	case bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data):
		e.add(file, Pos{}, "not a text file (NUL byte or invalid UTF-8)")
		return broken
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		line, msg := yamlErrorLine(err)
		e.add(file, Pos{Line: line, Col: 1}, "invalid YAML: %s", msg)
		return broken
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		e.add(file, Pos{Line: extra.Line, Col: extra.Column}, "a fleet file holds one YAML document, found another")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if a := findAlias(root, 0); a != nil {
		// Aliases are refused before anything is decoded: expanding them is how a small file becomes a huge one.
		e.add(file, Pos{Line: a.Line, Col: a.Column}, "YAML anchors and aliases are not allowed in fleet files")
		return broken
	}
	d := decoder{file: file, pos: pos, errs: e}
	d.value(root, reflect.ValueOf(out).Elem(), "")
	return pos
}

// maxDepth bounds how deeply a fleet file may nest; hand-written configuration never comes close.
const maxDepth = 64

// findAlias returns the first anchor or alias in n, or a node nested deeper than maxDepth.
func findAlias(n *yaml.Node, depth int) *yaml.Node {
	if n.Kind == yaml.AliasNode || n.Anchor != "" || depth > maxDepth {
		return n
	}
	for _, c := range n.Content {
		if a := findAlias(c, depth+1); a != nil {
			return a
		}
	}
	return nil
}

// yamlErrorLine pulls "line N" out of a yaml.v3 syntax error, so it can be reported as file:line:col.
func yamlErrorLine(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(n); err == nil {
				return line, tail
			}
		}
	}
	return 1, msg
}

type decoder struct {
	file string
	pos  positions
	errs *errs
}

func (d *decoder) fail(n *yaml.Node, format string, args ...any) {
	d.errs.add(d.file, Pos{Line: n.Line, Col: n.Column}, format, args...)
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	anyType         = reflect.TypeFor[any]()
)

// value decodes node n into v, whose field path is path.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	d.pos[path] = Pos{Line: n.Line, Col: n.Column}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" && v.Kind() != reflect.String {
		return // an empty value leaves the zero value: "needs:" with nothing after it
	}
	if reflect.PointerTo(v.Type()).Implements(textUnmarshaler) {
		if !d.expect(n, yaml.ScalarNode, "a string") {
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			d.fail(n, "%s: %v", fieldName(path), err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path)
	case reflect.Struct:
		d.structValue(n, v, path)
	case reflect.Slice:
		if !d.expect(n, yaml.SequenceNode, "a list") {
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.value(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		d.mapValue(n, v, path)
	case reflect.String:
		if !d.expect(n, yaml.ScalarNode, "a string") {
			return
		}
		if n.Tag == "!!null" {
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		var i int
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil {
			d.fail(n, "%s must be an integer", fieldName(path))
			return
		}
		v.SetInt(int64(i))
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.fail(n, "%s must be true or false", fieldName(path))
			return
		}
		v.SetBool(n.Value == "true")
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			d.fail(n, "%s: %v", fieldName(path), err)
			return
		}
		v.Set(reflect.ValueOf(&x).Elem())
	default:
		panic(fmt.Sprintf("fleet: no decoder for %s", v.Type())) // a programming error in types.go
	}
}

// expect reports a wrong node kind: a list where a string belongs, and the like.
func (d *decoder) expect(n *yaml.Node, kind yaml.Kind, what string) bool {
	if n.Kind == kind {
		return true
	}
	d.fail(n, "expected %s, found %s", what, describe(n))
	return false
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "an unexpected node"
}

func (d *decoder) structValue(n *yaml.Node, v reflect.Value, path string) {
	if !d.expect(n, yaml.MappingNode, "a mapping") {
		return
	}
	fields := map[string]int{}
	var known []string
	t := v.Type()
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = i
		known = append(known, tag)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(k, "keys must be plain strings")
			continue
		}
		idx, ok := fields[k.Value]
		if !ok {
			d.fail(k, "unknown key %q%s (known: %s)", k.Value, suggest(k.Value, known), strings.Join(known, ", "))
			continue
		}
		if seen[k.Value] {
			d.fail(k, "key %q appears twice", k.Value)
			continue
		}
		seen[k.Value] = true
		d.value(val, v.Field(idx), join(path, k.Value))
	}
}

func (d *decoder) mapValue(n *yaml.Node, v reflect.Value, path string) {
	if !d.expect(n, yaml.MappingNode, "a mapping") {
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag == "!!null" {
			d.fail(k, "keys must be plain strings")
			continue
		}
		key := reflect.ValueOf(k.Value)
		if m.MapIndex(key).IsValid() {
			d.fail(k, "key %q appears twice", k.Value)
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		p := join(path, k.Value)
		d.pos[p+"#key"] = Pos{Line: k.Line, Col: k.Column}
		if v.Type().Elem() == anyType {
			d.pos[p] = Pos{Line: val.Line, Col: val.Column}
			var x any
			if err := val.Decode(&x); err != nil {
				d.fail(val, "%s: %v", fieldName(p), err)
				continue
			}
			if x != nil {
				elem.Set(reflect.ValueOf(x))
			}
		} else {
			d.value(val, elem, p)
		}
		m.SetMapIndex(key, elem)
	}
	v.Set(m)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fieldName is the last element of a field path, for messages.
func fieldName(path string) string {
	if path == "" {
		return "the file"
	}
	return path
}

// suggest names the known key closest to a misspelt one.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(key, k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
