package lab

import (
	"fmt"
	"strings"

	"github.com/herofleet/herofleet/demo"
)

// UserData is the script a machine's seed runs at first boot: the one bootstrap line of docs/provisioning.md
// (the .deb is in the image already), and on the admin machine Debian's Prometheus configured by herofleet
// prometheus from a clone of the fleet repo, as the runbook tells an operator.
func UserData(h Host, forgeURL, fleetURL string) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# lab user data for " + h.Name + " (run once, at first boot, by lab-seed)\nset -eux\n")
	fmt.Fprintf(&b, "herofleet bootstrap --fleet %s --role %s --host %s --address '[%s]' --rewrite %s=%s\n",
		fleetURL, h.Role, h.Name, Addr(h.Part), demo.Forge, forgeURL)
	if h.Role == "admin" {
		fmt.Fprintf(&b, "git clone -q %s /root/hero-fleet\n", fleetURL)
		b.WriteString("herofleet prometheus config /root/hero-fleet > /etc/prometheus/prometheus.yml\n")
		b.WriteString("herofleet prometheus targets /root/hero-fleet > /etc/prometheus/herofleet-targets.json\n")
		b.WriteString("herofleet prometheus rules > /etc/prometheus/herofleet.rules.yml\n")
		b.WriteString("systemctl enable --now prometheus\n")
	}
	return b.String()
}
