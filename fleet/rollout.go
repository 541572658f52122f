package fleet

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"time"
)

// Rollout is fleet.yaml's rollout: a new fleet commit reaches the hosts wave after wave, each wave once every host
// of the earlier ones has applied it and stayed healthy on it for Bake, as Prometheus reports. No rollout (or one
// wave) means every host applies a commit at once.
type Rollout struct {
	Waves  []Wave        `yaml:"waves" json:"waves,omitempty"`
	Bake   Duration      `yaml:"bake" json:"bake,omitempty" jsonschema:"description=how long every host of the earlier waves must have been healthy on a commit (default 10m)"`
	Health RolloutHealth `yaml:"health" json:"health,omitempty"`
}

// Wave is one step of a rollout: named hosts, a share of the hosts not placed yet, or (neither) every host left.
type Wave struct {
	Name    string   `yaml:"name" json:"name" jsonschema:"required"`
	Hosts   []string `yaml:"hosts" json:"hosts,omitempty" jsonschema:"description=host names"`
	Percent int      `yaml:"percent" json:"percent,omitempty" jsonschema:"description=1-100: a share of the hosts no wave names, chosen by a stable hash of the name"`
}

// RolloutHealth is where the gate reads the earlier waves' health.
type RolloutHealth struct {
	Prometheus string `yaml:"prometheus" json:"prometheus,omitempty" jsonschema:"description=http://HOST:PORT of the Prometheus that scrapes the fleet's agents (herofleet prometheus config)"`
}

// DefaultBake is the bake of a rollout that gives none.
const DefaultBake = 10 * time.Minute

// BakeOrDefault is rollout.bake, or DefaultBake when the fleet gives none.
func (r Rollout) BakeOrDefault() time.Duration {
	if r.Bake.Duration > 0 {
		return r.Bake.Duration
	}
	return DefaultBake
}

// CatchAll reports a wave that takes every host no earlier wave took.
func (w Wave) CatchAll() bool { return len(w.Hosts) == 0 && w.Percent == 0 }

// WaveHosts is one wave with the hosts of the fleet's host files it holds, sorted by name.
type WaveHosts struct {
	Index int
	Name  string
	Hosts []string
}

// Waves places every host of the fleet's host files in its wave, from the fleet alone, so that every agent and
// `herofleet plan` place a host alike: first the hosts waves name; then each percent wave takes its share
// (rounded up) of the hosts not placed yet, ordered by a stable hash of their names; the catch-all takes the rest.
// A fleet without waves has one implicit wave of every host. A host left out of every wave (a fleet validate
// refuses) lands in the last one.
func (f *Fleet) Waves() []WaveHosts {
	ws := f.Meta.Rollout.Waves
	if len(ws) == 0 {
		return []WaveHosts{{Index: 0, Name: "", Hosts: sortedKeys(f.Hosts)}}
	}
	out, left := placeHosts(f)
	last := len(ws) - 1
	for i, w := range ws {
		if w.CatchAll() {
			last = i
			break
		}
	}
	out[last].Hosts = append(out[last].Hosts, left...)
	for i := range out {
		slices.Sort(out[i].Hosts)
	}
	return out
}

// placeHosts puts the hosts of the fleet's host files in the waves that name them or whose share takes them, and
// returns those no such wave takes (the catch-all's).
func placeHosts(f *Fleet) ([]WaveHosts, []string) {
	ws := f.Meta.Rollout.Waves
	out := make([]WaveHosts, len(ws))
	placed := map[string]bool{}
	for i, w := range ws {
		out[i] = WaveHosts{Index: i, Name: w.Name, Hosts: []string{}}
		for _, h := range w.Hosts {
			if f.Hosts[h] != nil && !placed[h] {
				placed[h] = true
				out[i].Hosts = append(out[i].Hosts, h)
			}
		}
	}
	var all []hashed // every host with its stable hash, computed once (not twice per comparison)
	for _, h := range sortedKeys(f.Hosts) {
		all = append(all, hashed{h, waveHash(h)})
	}
	rest := func() []hashed {
		var r []hashed
		for _, h := range all {
			if !placed[h.name] {
				r = append(r, h)
			}
		}
		return r
	}
	for i, w := range ws {
		if w.Percent <= 0 || len(w.Hosts) > 0 {
			continue
		}
		r := rest()
		slices.SortFunc(r, func(a, b hashed) int { return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(a.name, b.name)) })
		for _, h := range r[:(len(r)*min(w.Percent, 100)+99)/100] {
			placed[h.name] = true
			out[i].Hosts = append(out[i].Hosts, h.name)
		}
	}
	left := []string{}
	for _, h := range rest() {
		left = append(left, h.name)
	}
	return out, left
}

// hashed is a host name and its waveHash.
type hashed struct {
	name string
	hash uint64
}

// WaveOf is the wave of a host, by its index and name. A host with no host file is in the catch-all (or the last
// wave); a fleet without waves has one wave, index 0 with no name.
func (f *Fleet) WaveOf(host string) (int, string) {
	ws := f.Waves()
	for _, w := range ws {
		if slices.Contains(w.Hosts, host) {
			return w.Index, w.Name
		}
	}
	for _, w := range ws {
		if i := w.Index; i < len(f.Meta.Rollout.Waves) && f.Meta.Rollout.Waves[i].CatchAll() {
			return w.Index, w.Name
		}
	}
	last := ws[len(ws)-1]
	return last.Index, last.Name
}

// waveHash is the stable order of percent waves: the first 8 bytes of the name's sha256.
func waveHash(name string) uint64 {
	sum := sha256.Sum256([]byte(name))
	return binary.BigEndian.Uint64(sum[:8])
}
