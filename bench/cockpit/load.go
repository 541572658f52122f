package main

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// result is one or more load runs: latencies measured from each request's scheduled start (open loop: a slow
// answer delays no later request's schedule, so queueing shows in the figures instead of hiding in a lower rate).
type result struct {
	sent, errors int
	lat          []time.Duration
	elapsed      time.Duration
}

func (r *result) add(o result) {
	r.sent += o.sent
	r.errors += o.errors
	r.lat = append(r.lat, o.lat...)
	r.elapsed += o.elapsed
}

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	lat := slices.Clone(r.lat)
	slices.Sort(lat)
	return lat[min(len(lat)-1, int(float64(len(lat))*p))]
}

// workers is how many requests may be in flight; each keeps one keep-alive connection, so a backlog shows as
// latency, not as a storm of new connections.
const workers = 64

// load sends GET url at rate per second for d.
func load(ctx context.Context, client *http.Client, url string, rate int, d time.Duration) result {
	interval := time.Second / time.Duration(rate)
	n := int(d / interval)
	schedule := make(chan time.Time, n)
	var (
		mu  sync.Mutex
		res = result{lat: make([]time.Duration, 0, n)}
		wg  sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for at := range schedule {
				ok := get(ctx, client, url)
				lat := time.Since(at)
				mu.Lock()
				res.sent++
				if ok {
					res.lat = append(res.lat, lat)
				} else {
					res.errors++
				}
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		at := start.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			time.Sleep(wait) // pacing, not synchronisation
		}
		schedule <- at
	}
	close(schedule)
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

func get(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err == nil && resp.StatusCode == 200
}
