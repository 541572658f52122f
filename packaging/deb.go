package packaging

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

// The Debian package's maintainer scripts: they tell systemd about the unit, restart a running agent on an upgrade
// (its apps keep running and are adopted), and on removal stop the agent, then its apps (`herofleet agent
// stop-apps`); enabling the agent is bootstrap's job, since the agent needs a config first.
var (
	//go:embed deb/postinst
	postinst []byte
	//go:embed deb/prerm
	prerm []byte
	//go:embed deb/postrm
	postrm []byte
)

// writeDeb writes the target's Debian package with nfpm (a kept library that writes correct .deb archives) and
// returns its file name.
func (r *Release) writeDeb(t Target, fs []file) (string, error) {
	stage, err := os.MkdirTemp("", "herofleet-deb-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(stage)
	var contents files.Contents
	for i, fl := range fs {
		src := fl.source
		if src == "" { // nfpm reads every file from disk
			src = filepath.Join(stage, fmt.Sprint(i))
			if err := os.WriteFile(src, fl.data, fl.mode); err != nil {
				return "", err
			}
		}
		contents = append(contents, &files.Content{Source: src, Destination: fl.deb,
			FileInfo: &files.ContentFileInfo{Mode: fl.mode, MTime: r.Time, Owner: "root", Group: "root"}})
	}
	scripts := map[string][]byte{"postinst": postinst, "prerm": prerm, "postrm": postrm}
	for name, data := range scripts {
		if err := os.WriteFile(filepath.Join(stage, name), data, 0o755); err != nil {
			return "", err
		}
	}
	info := nfpm.WithDefaults(&nfpm.Info{
		Name:          "herofleet",
		Arch:          t.Arch,
		Platform:      t.OS,
		Version:       DebVersion(r.Version),
		VersionSchema: "none",
		Section:       "admin",
		Priority:      "optional",
		Maintainer:    "herofleet maintainers <noreply@herofleet.invalid>",
		Description: "runs a tester fleet from one git repo\n" +
			"The herofleet agent pulls the fleet repo and installs, upgrades and supervises the\n" +
			"app bundles of its VM; herofleet also validates the fleet repo and renders its runbook.",
		MTime: r.Time.UTC(),
		Overridables: nfpm.Overridables{
			Contents:   contents,
			Recommends: []string{"git"},
			Scripts: nfpm.Scripts{
				PostInstall: filepath.Join(stage, "postinst"),
				PreRemove:   filepath.Join(stage, "prerm"),
				PostRemove:  filepath.Join(stage, "postrm"),
			},
		},
	})
	if err := nfpm.PrepareForPackager(info, "deb"); err != nil {
		return "", fmt.Errorf("deb for %s: %w", t, err)
	}
	name := deb.Default.ConventionalFileName(info)
	out, err := os.Create(filepath.Join(r.Out, name))
	if err != nil {
		return "", err
	}
	if err := deb.Default.Package(info, out); err != nil {
		out.Close()
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return name, out.Close()
}

// DebVersion turns a release version into a Debian one: no leading v, and no hyphen (Debian reads the last one
// as the package's revision). A version that does not start like 1.4 (a bare commit from git describe) sorts
// before every release: 0.0.0~<version>.
func DebVersion(v string) string {
	v = strings.TrimPrefix(v, "v")
	if !releaseRE.MatchString(v) {
		v = "0.0.0~" + v
	}
	return strings.ReplaceAll(v, "-", "+")
}

var releaseRE = regexp.MustCompile(`^[0-9]+\.[0-9]`)
