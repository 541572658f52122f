package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/herofleet/herofleet/bench/internal/simfleet"
)

// promQueryTotals reads from Prometheus' own /metrics the bytes its /api/v1/query endpoint has answered and the
// seconds its handler has taken, so far.
func promQueryTotals(p *simfleet.Prometheus) (bytesSum, secondsSum float64, err error) {
	resp, err := http.Get(p.URL + "/metrics")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, 0, err
	}
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var dst *float64
		switch {
		case strings.HasPrefix(line, `prometheus_http_response_size_bytes_sum{handler="/api/v1/query"}`):
			dst = &bytesSum
		case strings.HasPrefix(line, `prometheus_http_request_duration_seconds_sum{handler="/api/v1/query"}`):
			dst = &secondsSum
		default:
			continue
		}
		f := strings.Fields(line)
		if *dst, err = strconv.ParseFloat(f[len(f)-1], 64); err != nil {
			return 0, 0, err
		}
		found++
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("prometheus /metrics: no /api/v1/query size and duration sums")
	}
	return bytesSum, secondsSum, nil
}

// procCPU is a process's user+system CPU so far, in seconds (from /proc/PID/stat, in clock ticks of 10 ms).
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
}

// promCPURate is what Prometheus spends per second when nobody queries it (scraping the hosts), over d.
func promCPURate(p *simfleet.Prometheus, d time.Duration) (float64, error) {
	c0 := procCPU(p.Pid())
	time.Sleep(d) // measuring an interval, not waiting for an event
	return (procCPU(p.Pid()) - c0) / d.Seconds(), nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func sortDurations(d []time.Duration) { slices.Sort(d) }
