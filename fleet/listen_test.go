package fleet

import (
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

func TestParseListen(t *testing.T) {
	v := Vars{App: "books", Host: "10.0.0.7", Data: "/var/lib/herofleet/data/books", Sockets: "/var/lib/herofleet/run"}
	for _, tc := range []struct {
		in   string
		want Listen
		err  string
	}{
		{in: "tcp://127.0.0.1:9201", want: Listen{"tcp", "127.0.0.1:9201"}},
		{in: "tcp://[::1]:80", want: Listen{"tcp", "[::1]:80"}},
		{in: "tcp://:8080", want: Listen{"tcp", ":8080"}},
		{in: "tcp://0.0.0.0:1", want: Listen{"tcp", "0.0.0.0:1"}},
		{in: "tcp://localhost:65535", want: Listen{"tcp", "localhost:65535"}},
		{in: "tcp://${host}:9201", want: Listen{"tcp", "10.0.0.7:9201"}},
		{in: "unix:///run/books.sock", want: Listen{"unix", "/run/books.sock"}},
		{in: "unix://${sockets}/${app}/rpc.sock", want: Listen{"unix", "/var/lib/herofleet/run/books/rpc.sock"}},
		{in: "unix://${data}/s.sock", want: Listen{"unix", "/var/lib/herofleet/data/books/s.sock"}},
		{in: "127.0.0.1:80", err: "must be tcp://HOST:PORT or unix://PATH"},
		{in: "", err: "must be tcp://HOST:PORT or unix://PATH"},
		{in: "http://127.0.0.1:80", err: `scheme "http" is not tcp or unix`},
		{in: "udp://127.0.0.1:53", err: `scheme "udp" is not tcp or unix`},
		{in: "tcp://127.0.0.1", err: "missing port"},
		{in: "tcp://127.0.0.1:0", err: "port must be a number from 1 to 65535"},
		{in: "tcp://127.0.0.1:65536", err: "port must be a number from 1 to 65535"},
		{in: "tcp://127.0.0.1:http", err: "port must be a number from 1 to 65535"},
		{in: "tcp://127.0.0.1:-1", err: "port must be a number from 1 to 65535"},
		{in: "tcp://a b:80", err: "bad host"},
		{in: "unix://relative.sock", err: "a socket path is absolute or starts with ${sockets} or ${data}"},
		{in: "tcp://${port}:80", err: "unknown variable ${port}"},
		{in: "unix://$sockets/a.sock", err: "a lone $"},
	} {
		got, err := ParseListen(tc.in, v)
		wantErr(t, "ParseListen("+tc.in+")", err, tc.err)
		if tc.err == "" && got != tc.want {
			t.Errorf("ParseListen(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// TestListenClash: two binaries, each of its own app, clash when one host cannot run both.
func TestListenClash(t *testing.T) {
	for _, tc := range []struct {
		a, b  string
		clash bool
	}{
		{"tcp://127.0.0.1:8001", "tcp://127.0.0.1:8001", true},
		{"tcp://127.0.0.1:8001", "tcp://127.0.0.1:8002", false},
		{"tcp://127.0.0.1:8001", "tcp://10.0.0.7:8001", false},
		{"tcp://0.0.0.0:8001", "tcp://127.0.0.1:8001", true},
		{"tcp://127.0.0.1:8001", "tcp://0.0.0.0:8001", true},
		{"tcp://:8001", "tcp://10.0.0.7:8001", true},
		{"tcp://[::]:8001", "tcp://127.0.0.1:8001", true},
		{"tcp://[::1]:8001", "tcp://[::1]:8001", true},
		{"tcp://[::1]:8001", "tcp://127.0.0.1:8001", false},
		{"tcp://127.0.0.1:8001", "unix:///run/8001", false},
		{"unix:///run/a.sock", "unix:///run/a.sock", true},
		{"unix:///run/a.sock", "unix:///run/b.sock", false},
		{"unix:///run/x/../a.sock", "unix:///run//a.sock", true},
		{"unix://${sockets}/a.sock", "unix://${sockets}/a.sock", true},
		{"unix://${data}/a.sock", "unix://${data}/a.sock", false}, // each app has its own ${data}
		{"unix://${sockets}/${app}.sock", "unix://${sockets}/${app}.sock", false},
	} {
		ka := mustListenKey(t, "one", tc.a)
		kb := mustListenKey(t, "two", tc.b)
		if got := clash(ka, kb); got != tc.clash {
			t.Errorf("clash(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.clash)
		}
		if clash(kb, ka) != clash(ka, kb) {
			t.Errorf("clash(%s, %s) depends on the order", tc.a, tc.b)
		}
	}
}

func mustListenKey(t *testing.T, app, listen string) listenKey {
	t.Helper()
	l, err := parseListen(listen, symbolicVars(app))
	if err != nil {
		t.Fatalf("%s: %v", listen, err)
	}
	return keyOf(l)
}

// TestCheckListenClashes: only binaries that one host may run together are compared, each clash is reported once.
func TestCheckListenClashes(t *testing.T) {
	const apps = `-- fleet.yaml --
name: t
-- apps/web.yaml --
source: {repo: https://f.example/web.git}
binaries: [{name: web, kind: web, path: w, listen: "tcp://127.0.0.1:8001"}]
-- apps/api.yaml --
source: {repo: https://f.example/api.git}
binaries: [{name: api, kind: server, path: a, listen: "tcp://0.0.0.0:8001"}]
-- apps/db.yaml --
source: {repo: https://f.example/db.git}
binaries: [{name: db, kind: server, path: d, listen: "tcp://127.0.0.1:5432"}]
-- apps/lib.yaml --
source: {repo: https://f.example/lib.git}
binaries: [{name: lib, kind: server, path: l, listen: "tcp://127.0.0.1:5432"}]
`
	for _, tc := range []struct {
		name, fleet string
		want        []string
	}{
		{"apps on no role are not compared", "", nil},
		{"apps of different roles do not meet", "-- roles/r1.yaml --\npreinstalled: [web]\n-- roles/r2.yaml --\npreinstalled: [api]\n", nil},
		{"preinstalled apps clash", "-- roles/r.yaml --\npreinstalled: [web, api]\n",
			[]string{`apps/web.yaml:2:52: listen tcp://127.0.0.1:8001 clashes with binary "api" (apps/api.yaml) on role r`}},
		{"a catalog app clashes with a preinstalled one", "-- roles/r.yaml --\npreinstalled: [db]\ncatalog: [lib]\n",
			[]string{`apps/lib.yaml:2:55: listen tcp://127.0.0.1:5432 clashes with binary "db" (apps/db.yaml) on role r`}},
		{"a host's add clashes, reported once for two such hosts",
			"-- roles/r.yaml --\npreinstalled: [web]\n-- hosts/h1.yaml --\nrole: r\nadd: [api]\n-- hosts/h2.yaml --\nrole: r\nadd: [api]\n",
			[]string{`apps/web.yaml:2:52: listen tcp://127.0.0.1:8001 clashes with binary "api" (apps/api.yaml) on host h1`}},
		{"a role whose apps do not resolve (a needs cycle) is not compared",
			"-- roles/r.yaml --\npreinstalled: [web, api, cyc]\n-- apps/cyc.yaml --\nsource: {repo: https://f.example/c.git}\nbinaries: [{name: cyc, kind: server, path: c}]\nneeds: [cyc2]\n-- apps/cyc2.yaml --\nsource: {repo: https://f.example/c2.git}\nbinaries: [{name: cyc2, kind: server, path: c}]\nneeds: [cyc]\n",
			[]string{"apps/cyc2.yaml:3:9: needs cycle: cyc -> cyc2 -> cyc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadDir(writeTree(t, txtar.Parse([]byte(apps+tc.fleet))))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if want := strings.Join(tc.want, "\n"); got != want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
