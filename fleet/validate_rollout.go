package fleet

import (
	"fmt"
	"net/url"
	"strings"
)

// validateRollout checks fleet.yaml's rollout: named, distinct waves; each names known hosts, a share of 1 to 100
// percent, or nothing (the catch-all, last); no host in two waves; no host left out of every wave; a bake that is
// not negative; and, when a later wave waits on the earlier ones, a Prometheus to ask, without credentials.
func validateRollout(f *Fleet, e *errs) {
	m := &f.Meta
	r := m.Rollout
	if m.File == "" || m.pos.broken() {
		return
	}
	at := func(p string) Pos { return m.pos.at(p) }
	if r.Bake.Duration < 0 {
		e.add(m.File, at("rollout.bake"), "rollout.bake must not be negative")
	}
	if len(r.Waves) > 1 || r.Health.Prometheus != "" {
		checkPrometheusURL(m, r.Health.Prometheus, e)
	}
	names := map[string]bool{}
	owner := map[string]string{} // host -> the wave that names it
	total := 0
	for i, w := range r.Waves {
		p := fmt.Sprintf("rollout.waves[%d]", i)
		switch {
		case w.Name == "":
			e.add(m.File, at(p), "%s.name is required", p)
		case !ValidName(w.Name):
			e.add(m.File, at(p+".name"), "wave name %q does not match %s", w.Name, NamePattern)
		case names[w.Name]:
			e.add(m.File, at(p+".name"), "wave %q is named twice", w.Name)
		}
		names[w.Name] = true
		hasHosts, hasPercent := m.pos.has(p+".hosts"), m.pos.has(p+".percent")
		switch {
		case hasHosts && hasPercent:
			e.add(m.File, at(p), "wave %q: give hosts or percent, not both", w.Name)
		case hasHosts && len(w.Hosts) == 0:
			e.add(m.File, at(p+".hosts"), "wave %q: hosts is empty (leave it out for a catch-all wave)", w.Name)
		case hasPercent && (w.Percent < 1 || w.Percent > 100):
			e.add(m.File, at(p+".percent"), "wave %q: percent must be 1 to 100, not %d", w.Name, w.Percent)
		case hasPercent:
			if total += w.Percent; total > 100 {
				e.add(m.File, at(p+".percent"), "wave %q: the waves' percents add up to %d%%; together they cannot exceed 100", w.Name, total)
			}
		case !hasHosts && i != len(r.Waves)-1:
			e.add(m.File, at(p), "wave %q takes every host left (no hosts, no percent): only the last wave may, or the waves after it get none", w.Name)
		}
		for j, h := range w.Hosts {
			hp := fmt.Sprintf("%s.hosts[%d]", p, j)
			switch {
			case f.Hosts[h] == nil:
				e.add(m.File, at(hp), "wave %q: unknown host %q (no hosts/%s.yaml)%s", w.Name, h, h, suggest(h, sortedKeys(f.Hosts)))
			case owner[h] != "":
				e.add(m.File, at(hp), "host %q is in two waves: %q and %q", h, owner[h], w.Name)
			default:
				owner[h] = w.Name
			}
		}
	}
	if len(r.Waves) == 0 {
		return
	}
	placed, left := placeHosts(f)
	checkEmptyWaves(f, placed, left, e)
	if r.Waves[len(r.Waves)-1].CatchAll() {
		return
	}
	if len(left) > 0 {
		e.add(m.File, at("rollout.waves"), "%d host(s) are in no wave (%s); end with a catch-all wave such as {name: rest}",
			len(left), strings.Join(firstN(left, 5), ", "))
	}
}

// checkEmptyWaves refuses a percent wave that places no host while a later wave places some: the gate holds the
// later waves on an earlier wave with no hosts (nothing can show a commit healthy there), so they would wait for
// ever. A catch-all wave always places hosts: it takes every host without a host file too. (A wave naming hosts
// that places none already has an error: its hosts are unknown or in an earlier wave.)
func checkEmptyWaves(f *Fleet, placed []WaveHosts, left []string, e *errs) {
	m := &f.Meta
	ws := m.Rollout.Waves
	places := func(i int) bool {
		p := fmt.Sprintf("rollout.waves[%d]", i)
		catchAll := !m.pos.has(p+".hosts") && !m.pos.has(p+".percent")
		return len(placed[i].Hosts) > 0 || catchAll || i == len(ws)-1 && len(left) > 0
	}
	for i, w := range ws {
		if w.Percent <= 0 || w.Percent > 100 || len(w.Hosts) > 0 || places(i) {
			continue
		}
		for j := i + 1; j < len(ws); j++ {
			if places(j) {
				e.add(m.File, m.pos.at(fmt.Sprintf("rollout.waves[%d].percent", i)),
					"wave %q places no host (its %d%% of the %d host(s) with a host file left to it) while the later wave %q does: %q would wait on it for ever; name its hosts, or add their host files",
					w.Name, w.Percent, unplacedBefore(placed, len(f.Hosts), i), ws[j].Name, ws[j].Name)
				break
			}
		}
	}
}

// unplacedBefore is how many of the fleet's n host files no wave before wave i placed.
func unplacedBefore(placed []WaveHosts, n, i int) int {
	for _, w := range placed[:i] {
		n -= len(w.Hosts)
	}
	return n
}

// checkPrometheusURL checks rollout.health.prometheus: required, http(s)://HOST[:PORT][/PATH], no credentials
// (they would sit in the fleet repo for every reader; put Prometheus behind the network instead).
func checkPrometheusURL(m *Meta, raw string, e *errs) {
	at := m.pos.at("rollout.health.prometheus")
	if raw == "" {
		e.add(m.File, m.pos.at("rollout"), "rollout.health.prometheus is required: a later wave waits for the earlier waves' health as Prometheus reports it")
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		e.add(m.File, at, "rollout.health.prometheus: want http://HOST:PORT, not %q", hideUserinfo(raw))
	case u.User != nil:
		e.add(m.File, at, "rollout.health.prometheus: credentials do not belong in the fleet repo (%s)", hideUserinfo(raw))
	case u.RawQuery != "" || u.Fragment != "":
		e.add(m.File, at, "rollout.health.prometheus: no query or fragment: want http://HOST:PORT")
	}
}

// hideUserinfo masks the password (or a lone token) in a URL's userinfo, as internal/redact does for every text
// herofleet prints: https://user:token@host becomes https://user:xxxxx@host and https://token@host becomes
// https://xxxxx@host; an ssh URL keeps its user. fleet imports no other herofleet package, so it does this for the
// one URL it quotes itself; a test holds it to redact.Text on URLs.
func hideUserinfo(raw string) string {
	before, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	// The scheme is the longest run of scheme characters before "://" that starts with a letter.
	i := len(before)
	for i > 0 && isSchemeChar(before[i-1]) {
		i--
	}
	for i < len(before) && !isLetter(before[i]) {
		i++
	}
	if i == len(before) {
		return raw
	}
	end := strings.IndexAny(rest, "/?#@ \t\n\r\f\v\"'<>")
	if end < 0 || rest[end] != '@' {
		return raw
	}
	info := rest[:end]
	if user, _, ok := strings.Cut(info, ":"); ok {
		info = user + ":xxxxx"
	} else if s := strings.ToLower(before[i:]); strings.HasPrefix(s, "ssh") || strings.HasPrefix(s, "git+ssh") {
		return raw
	} else {
		info = "xxxxx"
	}
	return before + "://" + info + rest[end:]
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isSchemeChar(c byte) bool {
	return isLetter(c) || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
}
