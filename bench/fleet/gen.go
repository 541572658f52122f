package fleetbench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Generate writes a fleet of apps apps and hosts hosts into dir: 10 roles, each preinstalling 20 apps (with a
// needs chain) and offering 10 on click; every host adds one catalog app and pins one.
func Generate(dir string, apps, hosts int) error {
	write := func(name, content string) error {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(content), 0o644)
	}
	if err := write("fleet.yaml", "name: big\ntitle: A big fleet\nsync: {schedule: \"@every 1m\", jitter: 20s}\nmaintenance:\n  - {schedule: \"0 2 * * 6\", duration: 2h}\n"); err != nil {
		return err
	}
	const roles = 10
	perRole := apps / roles
	for i := range apps {
		var b strings.Builder
		fmt.Fprintf(&b, "title: App %d\ndescription: Generated app number %d.\n", i, i)
		fmt.Fprintf(&b, "source: {repo: https://forge.example/org/app%d.git, ref: main}\n", i)
		b.WriteString("build: {command: [make, build], timeout: 10m}\nbinaries:\n")
		for j, kind := range []string{"server", "web", "admin"} {
			port := 10000 + i*3 + j
			fmt.Fprintf(&b, "  - name: app%d_%s\n    kind: %s\n    path: target/release/app%d_%s\n", i, kind, kind, i, kind)
			fmt.Fprintf(&b, "    args: [--listen, \"tcp://${host}:%d\", --data, \"${data}\"]\n    env: {PATH_ROOT: \"${data}\"}\n", port)
			fmt.Fprintf(&b, "    listen: tcp://${host}:%d\n    health: /health\n    url: \"http://${host}:%d/\"\n", port, port)
		}
		if i%perRole != 0 && i%perRole < 20 {
			fmt.Fprintf(&b, "needs: [app%d]\n", i-1)
		}
		if err := write(fmt.Sprintf("apps/app%d.yaml", i), b.String()); err != nil {
			return err
		}
	}
	for r := range roles {
		var pre, cat []string
		for k := range 20 {
			pre = append(pre, fmt.Sprintf("app%d", r*perRole+k))
		}
		for k := 20; k < 30 && k < perRole; k++ {
			cat = append(cat, fmt.Sprintf("app%d", r*perRole+k))
		}
		if err := write(fmt.Sprintf("roles/role%d.yaml", r), fmt.Sprintf("title: Role %d\npreinstalled: [%s]\ncatalog: [%s]\n", r, strings.Join(pre, ", "), strings.Join(cat, ", "))); err != nil {
			return err
		}
	}
	for h := range hosts {
		r := h % roles
		content := fmt.Sprintf("role: role%d\naddress: \"[4a5::%x]\"\nadd: [app%d]\npin: {app%d: v1.%d}\n", r, h, r*perRole+20, r*perRole+1, h%7)
		if err := write(fmt.Sprintf("hosts/host%05d.yaml", h), content); err != nil {
			return err
		}
	}
	return nil
}
