// Package lab boots a small fleet of real Debian 12 machines on this machine and runs the scenarios of
// docs/lab.md against them: a fresh tester, a reboot, power cuts during an upgrade, the forge cut off, a rollout
// across machines gated by the admin machine's Prometheus, agent restarts, and the runbook.
//
// The parts are real: a root filesystem built by mmdebstrap from Debian's packages (cached under
// ~/.cache/herofleet/lab, keyed by its package list) with the release .deb installed by apt-get as an operator
// would; machines booted by systemd-nspawn with systemd as PID 1, each in its own network namespace on a bridge
// with a ULA IPv6 address; a forge on that bridge (git http-backend for the fleet and app repos, plain HTTP for the
// artifacts herofleet build made once). Each machine is provisioned only by its NoCloud-style seed: an address and
// a user-data script that runs the one bootstrap line at first boot (image/lab-seed).
//
// `make lab` runs TestLab with LAB=1 as root and writes docs/lab.md; without LAB=1 only the unit tests run.
package lab
