package fleetbench

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/herofleet/herofleet/fleet"
)

var (
	genOnce sync.Once
	genDir  string
	genErr  error
)

// bigFleet generates the 500-app, 10,000-host fleet once per run.
func bigFleet(b *testing.B) string {
	genOnce.Do(func() {
		genDir, genErr = os.MkdirTemp("", "fleetbench")
		if genErr == nil {
			genErr = Generate(genDir, 500, 10_000)
		}
	})
	if genErr != nil {
		b.Fatal(genErr)
	}
	return genDir
}

// BenchmarkLoadValidatePlan is the target: load + validate + plan every role and host, under 1 s and
// 200 MiB.
func BenchmarkLoadValidatePlan(b *testing.B) {
	dir := bigFleet(b)
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		f, err := fleet.LoadDir(dir)
		if err != nil {
			b.Fatal(err)
		}
		if plans := fleet.PlanAll(nil, f); len(plans) != 10_010 {
			b.Fatalf("%d plans", len(plans))
		}
	}
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	reportMaxRSS(b)
}

// BenchmarkStockYAMLDecode is the alternative: yaml.v3 decoding the same files straight into the same structs,
// with no positions, no validation and no plan. The ratio is what herofleet's checks cost.
func BenchmarkStockYAMLDecode(b *testing.B) {
	dir := bigFleet(b)
	b.ReportAllocs()
	cpu := cpuTime()
	defer func() { b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op") }()
	for b.Loop() {
		n := 0
		for _, sub := range []string{"apps", "roles", "hosts"} {
			entries, err := os.ReadDir(filepath.Join(dir, sub))
			if err != nil {
				b.Fatal(err)
			}
			for _, e := range entries {
				data, err := os.ReadFile(filepath.Join(dir, sub, e.Name()))
				if err != nil {
					b.Fatal(err)
				}
				var v any
				switch sub {
				case "apps":
					v = &fleet.App{}
				case "roles":
					v = &fleet.Role{}
				default:
					v = &fleet.Host{}
				}
				if err := yaml.Unmarshal(data, v); err != nil {
					b.Fatal(err)
				}
				n++
			}
		}
		if n != 10_510 {
			b.Fatalf("%d files", n)
		}
	}
}

// cpuTime is the user + system CPU time the process has used: unlike wall time, it barely moves when other
// work shares the machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportMaxRSS reports the process's peak resident set so far (an upper bound for one load: it includes the
// benchmark harness and every earlier iteration's garbage).
func reportMaxRSS(b *testing.B) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
	}
}
