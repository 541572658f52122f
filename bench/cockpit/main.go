package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/herofleet/herofleet/agent"
	"github.com/herofleet/herofleet/agent/cockpit"
	"github.com/herofleet/herofleet/api"
	"github.com/herofleet/herofleet/internal/gitserver"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "app-build":
			appBuild(os.Args[2:])
			return
		case "app-serve":
			appServe(os.Args[2:])
			return
		}
	}
	rate := flag.Int("rate", 1000, "requests per second")
	rounds := flag.Int("rounds", 10, "rounds: in each, every endpoint gets one slice of load")
	slice := flag.Duration("slice", time.Second, "length of one endpoint's turn")
	apps := flag.Int("apps", 6, "preinstalled apps (3 binaries each); 4 more sit in the catalog")
	outside := flag.String("agent", "", "load a running agent at this `URL` instead (e.g. the tester of `herofleet demo`)")
	app := flag.String("install", "", "with -agent: the catalog `APP` to install during the load")
	flag.StringVar(&token, "token", token, "with -agent: its bearer token")
	flag.BoolVar(&serveOnly, "serve", false, "only set up the agent, print its URL and wait for Ctrl-C: load it from another process with -agent")
	flag.Parse()
	var err error
	if *outside != "" {
		err = measure(context.Background(), strings.TrimRight(*outside, "/"), *app, *rate, *rounds, *slice)
	} else {
		err = run(*rate, *rounds, *slice, *apps)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// serveOnly: set up the agent and wait, so that the load comes from another process.
var serveOnly bool

// token is the bearer token of the agent under load (-token for an outside agent).
var token = "bench-token"

func run(rate, rounds int, slice time.Duration, napps int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("/tmp", "hfbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	git, err := gitserver.Start(tmp + "/git")
	if err != nil {
		return err
	}
	defer git.Stop()

	var pre, cat []string
	files := map[string]string{"fleet.yaml": "name: bench\n"}
	for i := range napps + 4 {
		name := fmt.Sprintf("app%d", i)
		sleep := "0s"
		if i >= napps {
			cat = append(cat, name)
			sleep = (time.Duration(rounds*3)*slice + time.Minute).String() // the install outlasts the load run
		} else {
			pre = append(pre, name)
		}
		files["apps/"+name+".yaml"] = appYAML(self, name, sleep)
		if _, err := git.Commit("apps/"+name, "main", "init", gitserver.Text(map[string]string{"README": name})); err != nil {
			return err
		}
	}
	files["roles/tester.yaml"] = fmt.Sprintf("preinstalled: [%s]\ncatalog: [%s]\n", strings.Join(pre, ", "), strings.Join(cat, ", "))
	if _, err := git.Commit("ops/fleet", "main", "fleet", gitserver.Text(files)); err != nil {
		return err
	}
	cfg, err := agent.ParseConfig(fmt.Appendf(nil, `
fleet: {repo: "https://forge.test/ops/fleet.git", ref: main}
host: t1
role: tester
address: 127.0.0.1
dir: %s/agent
rewrite: {"https://forge.test/": %q}
schedule: "@every 1h"
stop_grace: 2s
`, tmp, git.URL()))
	if err != nil {
		return err
	}
	a, err := agent.New(cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx); close(done) }()
	go func() { _ = cockpit.NewAPI(a, token).Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

	fmt.Fprintf(os.Stderr, "waiting for %d preinstalled apps to run...\n", napps)
	if err := waitRunning(client, base, 3*napps, 3*time.Minute); err != nil {
		return err
	}
	if serveOnly {
		fmt.Printf("agent %s token %s; catalog %s\nload it with: go run ./bench/cockpit -agent %s -install %s\n",
			base, token, strings.Join(cat, " "), base, cat[0])
		sig, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		<-sig.Done()
		return nil
	}
	return measure(ctx, base, cat[0], rate, rounds, slice)
}

// measure loads base's endpoints in turns, idle and then while install (when given) runs, and prints the table.
func measure(ctx context.Context, base, installApp string, rate, rounds int, slice time.Duration) error {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	rows := countRows(client, base)
	load(ctx, client, base+"/api/v1/apps", rate, 2*time.Second) // warm-up: connections, caches
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "endpoint\twhile\trate/s\tsent\terrors\tp50\tp90\tp99\tmax\t\n")
	// The endpoints take turns in slices of one second, round after round, so that the load of a shared machine
	// falls on all of them alike.
	paths := []string{
		"/api/v1/apps",
		"/api/v1/apps?fresh=1", // the alternative: rows computed from a fresh snapshot per request
		"/api/v1/status",       // the full snapshot, as the API had it before the rows
	}
	run := func(while string) {
		res := make([]result, len(paths))
		for range rounds {
			for i, p := range paths {
				res[i].add(load(ctx, client, base+p, rate, slice))
			}
		}
		for i, p := range paths {
			report(tw, p, while, res[i])
		}
	}
	run("idle")
	if installApp != "" {
		job, err := install(client, base, installApp)
		if err != nil {
			return err
		}
		run("install " + installApp)
		if p := jobPhase(client, base, job); p != "building" {
			fmt.Fprintf(os.Stderr, "warning: the install ended (%s) before the load did: the last lines are not during an install\n", p)
		}
	}
	tw.Flush()
	fmt.Printf("\n%d rows; GOMAXPROCS=%d\n", rows, runtimeProcs())
	return nil
}

func report(tw *tabwriter.Writer, path, while string, r result) {
	fmt.Fprintf(tw, "%s\t%s\t%.0f\t%d\t%d\t%s\t%s\t%s\t%s\t\n", path, while, float64(r.sent)/r.elapsed.Seconds(),
		r.sent, r.errors, ms(r.pct(0.50)), ms(r.pct(0.90)), ms(r.pct(0.99)), ms(r.pct(1)))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

func appYAML(self, name, sleep string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "title: %s\nsource: {repo: https://forge.test/apps/%s.git, ref: main}\n", name, name)
	fmt.Fprintf(&b, "build: {command: [%q, app-build, --sleep, %q", self, sleep)
	kinds := []string{"server", "web", "admin"}
	for _, k := range kinds {
		fmt.Fprintf(&b, ", target/%s_%s", name, k)
	}
	b.WriteString("], timeout: 10m}\nbinaries:\n")
	for _, k := range kinds {
		bin := name + "_" + k
		fmt.Fprintf(&b, "  - {name: %s, kind: %s, path: target/%s, args: [app-serve, --listen, \"unix://${sockets}/%s.sock\"], listen: \"unix://${sockets}/%s.sock\", health: /health, url: \"http://${host}/%s\"}\n",
			bin, k, bin, bin, bin, bin)
	}
	return b.String()
}

func fetchApps(client *http.Client, base string) (cockpit.Apps, error) {
	var out cockpit.Apps
	resp, err := client.Get(base + "/api/v1/apps")
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

func waitRunning(client *http.Client, base string, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		apps, err := fetchApps(client, base)
		running := 0
		for _, r := range apps.Rows {
			if r.State == api.RowState(api.BinRunning) {
				running++
			}
		}
		if err == nil && running >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d binaries running after %s (err %v, fleet %+v)", running, want, timeout, err, apps.Fleet)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func countRows(client *http.Client, base string) int {
	apps, _ := fetchApps(client, base)
	return len(apps.Rows)
}

func install(client *http.Client, base, app string) (string, error) {
	req, _ := http.NewRequest("POST", base+"/api/v1/apps/"+app+"/install", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var ans struct{ Job string }
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != 202 {
		return "", fmt.Errorf("install %s: %s %v", app, resp.Status, err)
	}
	// the load starts once the build runs
	deadline := time.Now().Add(time.Minute)
	for jobPhase(client, base, ans.Job) != "building" {
		if time.Now().After(deadline) {
			return "", fmt.Errorf("install %s never reached building", app)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return ans.Job, nil
}

func jobPhase(client *http.Client, base, id string) string {
	resp, err := client.Get(base + "/api/v1/jobs/" + id)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var j agent.Job
	_ = json.NewDecoder(resp.Body).Decode(&j)
	return string(j.Phase)
}
