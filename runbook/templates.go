package runbook

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/herofleet/herofleet/sitegen"
)

// TemplateData is the dot of a fleet runbook page: {{ .Title }}, {{ .FleetURL }} and so on.
type TemplateData struct {
	Name     string // fleet.yaml name
	Title    string // fleet.yaml title
	Commit   string // the fleet commit, when loaded from git
	FleetURL string // what bootstrap commands name
}

// Helpers documents the functions a fleet's runbook/*.md pages may call. Each takes a name and fails the build,
// with the page's file:line, when the fleet has no such thing.
var Helpers = map[string]string{
	"app":          `{{ app "books" }}: a link to the app's page, titled with the app's title`,
	"binary":       `{{ binary "hero_books_web" }}: the binary's name as code, linked to its section of its app's page`,
	"role":         `{{ role "tester" }}: a link to the role's page`,
	"host":         `{{ host "tester-07" }}: a link to the host on the hosts page`,
	"url":          `{{ url "hero_books_web" }}: the binary's url as the fleet declares it, as code`,
	"listen":       `{{ listen "hero_books_web" }}: the binary's listen address, as code`,
	"preinstalled": `{{ preinstalled "tester" }}: links to the apps a role preinstalls, comma-separated`,
	"catalog":      `{{ catalog "tester" }}: links to the apps a role installs on click, comma-separated`,
	"bootstrap":    `{{ bootstrap "tester" }}: the command that brings up a fresh VM of the role, as code`,
}

// runbookPages renders the fleet's own runbook/*.md as templates. runbook/index.md becomes the section's landing
// page "runbook"; runbook/oncall.md becomes "runbook/oncall".
func (w writer) runbookPages() ([]sitegen.Page, error) {
	data := TemplateData{Name: w.f.Meta.Name, Title: fleetTitle(w.f), Commit: w.f.Commit, FleetURL: w.opts.FleetURL}
	var pages []sitegen.Page
	var probs []sitegen.Problem
	for i, rp := range w.f.Runbook {
		name := strings.TrimSuffix(path.Base(rp.File), ".md")
		p := "runbook/" + name
		if name == "index" {
			p = "runbook"
		}
		out, prob := w.execute(rp.File, rp.Content, data)
		if prob != nil {
			probs = append(probs, *prob)
			continue
		}
		pages = append(pages, sitegen.Page{Path: p, Markdown: out, Source: rp.File, LinkDir: path.Dir(rp.File),
			Section: sectionRunbook, Weight: weightRunbook + i})
	}
	if err := sitegen.Problems(probs); err != nil {
		return nil, err
	}
	return pages, nil
}

func (w writer) execute(file string, src []byte, data TemplateData) ([]byte, *sitegen.Problem) {
	t, err := template.New(file).Option("missingkey=error").Funcs(w.funcs()).Parse(string(src))
	if err != nil {
		return nil, templateProblem(file, err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, data); err != nil {
		return nil, templateProblem(file, err)
	}
	return out.Bytes(), nil
}

var templateErrRe = regexp.MustCompile(`^template: (.*?):(\d+)(?::\d+)?: (.*)$`)

// templateProblem reads the line out of text/template's message, which is the only place the package gives it.
func templateProblem(file string, err error) *sitegen.Problem {
	m := templateErrRe.FindStringSubmatch(err.Error())
	if m == nil {
		return &sitegen.Problem{File: file, Msg: err.Error()}
	}
	msg := m[3]
	if _, after, ok := strings.Cut(msg, ": error calling "); ok {
		if _, reason, ok := strings.Cut(after, ": "); ok {
			msg = reason
		}
	}
	line, _ := strconv.Atoi(m[2])
	return &sitegen.Problem{File: file, Line: line, Msg: msg}
}

func (w writer) funcs() template.FuncMap {
	f := w.f
	binaryApp := func(name string) (string, error) {
		if a, ok := f.BinaryOwner(name); ok {
			return a.Name, nil
		}
		var all []string
		for _, a := range f.AppNames() {
			for _, b := range f.Apps[a].Binaries {
				all = append(all, b.Name)
			}
		}
		sort.Strings(all)
		return "", fmt.Errorf("unknown binary %q (known: %s)", name, strings.Join(all, ", "))
	}
	binaryField := func(name string, field func(app, bin string) string) (string, error) {
		app, err := binaryApp(name)
		if err != nil {
			return "", err
		}
		return field(app, name), nil
	}
	findBinary := func(app, bin string) (url, listen string) {
		for _, b := range f.Apps[app].Binaries {
			if b.Name == bin {
				return b.URL, b.Listen
			}
		}
		return "", ""
	}
	roleApps := func(role string, pick func(string) []string) (string, error) {
		r := f.Roles[role]
		if r == nil {
			return "", unknown("role", role, f.RoleNames())
		}
		var links []string
		for _, a := range pick(role) {
			links = append(links, w.appLink(a))
		}
		return list(links), nil
	}
	return template.FuncMap{
		"app": func(name string) (string, error) {
			if f.Apps[name] == nil {
				return "", unknown("app", name, f.AppNames())
			}
			return w.appLink(name), nil
		},
		"binary": func(name string) (string, error) {
			return binaryField(name, binaryLink)
		},
		"role": func(name string) (string, error) {
			if f.Roles[name] == nil {
				return "", unknown("role", name, f.RoleNames())
			}
			return w.roleLink(name), nil
		},
		"host": func(name string) (string, error) {
			if f.Hosts[name] == nil {
				return "", unknown("host", name, f.HostNames())
			}
			return hostLink(name), nil
		},
		"url": func(name string) (string, error) {
			return binaryField(name, func(app, bin string) string { u, _ := findBinary(app, bin); return code(orDash(u)) })
		},
		"listen": func(name string) (string, error) {
			return binaryField(name, func(app, bin string) string { _, l := findBinary(app, bin); return code(orDash(l)) })
		},
		"preinstalled": func(role string) (string, error) {
			return roleApps(role, func(r string) []string { return f.Roles[r].Preinstalled })
		},
		"catalog": func(role string) (string, error) {
			return roleApps(role, func(r string) []string { return f.Roles[r].Catalog })
		},
		"bootstrap": func(role string) (string, error) {
			if f.Roles[role] == nil {
				return "", unknown("role", role, f.RoleNames())
			}
			return code("herofleet bootstrap --fleet " + w.opts.FleetURL + " --role " + role), nil
		},
	}
}

func unknown(kind, name string, known []string) error {
	return fmt.Errorf("unknown %s %q (known: %s)", kind, name, strings.Join(known, ", "))
}
