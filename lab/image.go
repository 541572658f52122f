package lab

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Suite, Variant and Packages make the machines' root filesystem. Prometheus is in every image (one image for all
// roles) and enabled only where the user data says so.
const (
	Suite   = "bookworm"
	Variant = "minbase"
)

// Packages are the Debian packages of the image beyond minbase.
var Packages = []string{"systemd-sysv", "dbus", "iproute2", "ca-certificates", "procps", "prometheus", "git", "curl"}

// Mirror is the Debian mirror mmdebstrap reads (LAB_MIRROR overrides it).
func Mirror() string {
	if m := os.Getenv("LAB_MIRROR"); m != "" {
		return m
	}
	return "http://deb.debian.org/debian"
}

//go:embed image/*
var imageFiles embed.FS

// ImageKey names a base image by everything that decides its contents.
func ImageKey(mirror string, packages []string) string {
	h := sha256.Sum256([]byte(strings.Join(append([]string{Suite, Variant, mirror}, packages...), "\n")))
	return hex.EncodeToString(h[:6])
}

// CacheDir is where base images are kept: ~/.cache/herofleet/lab (XDG_CACHE_HOME respected).
func CacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "herofleet", "lab"), nil
}

// KernelPackages are the image of the qemu tester: a tester's packages (no Prometheus) and Debian's kernel with
// its initramfs.
var KernelPackages = []string{"systemd-sysv", "dbus", "iproute2", "ca-certificates", "procps", "curl", "linux-image-amd64"}

// BaseImage returns the tar of a root filesystem of packages, building it with mmdebstrap when the cache has none
// for this package list. built says whether it was built now.
func BaseImage(ctx context.Context, cache string, packages []string) (path string, built bool, err error) {
	mirror := Mirror()
	path = filepath.Join(cache, "debian-"+Suite+"-"+ImageKey(mirror, packages)+".tar")
	if _, err := os.Stat(path); err == nil {
		return path, false, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", false, err
	}
	tmp := path + ".tmp"
	cmd := exec.CommandContext(ctx, "mmdebstrap", "--quiet", "--format=tar", "--variant="+Variant,
		"--include="+strings.Join(packages, ","), Suite, tmp, mirror)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", false, fmt.Errorf("mmdebstrap %s: %w\n%s", Suite, err, tail(out, 4096))
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", false, err
	}
	return path, true, nil
}

// Golden unpacks base into dir and makes it the machines' image: the release .deb installed with apt-get (as
// docs/provisioning.md tells an operator), the NoCloud-style seed units enabled, Debian's Prometheus disabled (the
// admin machine's user data enables it).
func Golden(ctx context.Context, base, deb, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := run(ctx, "tar", "--numeric-owner", "-xpf", base, "-C", dir); err != nil {
		return err
	}
	pkg := filepath.Join(dir, "root", filepath.Base(deb))
	if err := copyFile(deb, pkg, 0o644); err != nil {
		return err
	}
	if err := run(ctx, "systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "--private-network", "-D", dir,
		"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q", "/root/"+filepath.Base(deb)); err != nil {
		return fmt.Errorf("install %s in the image: %w", filepath.Base(deb), err)
	}
	if err := os.Remove(pkg); err != nil {
		return err
	}
	for _, f := range []struct {
		name, to string
		mode     os.FileMode
	}{
		{"lab-seed", "usr/local/sbin/lab-seed", 0o755},
		{"lab-seed-network.service", "etc/systemd/system/lab-seed-network.service", 0o644},
		{"lab-seed-user-data.service", "etc/systemd/system/lab-seed-user-data.service", 0o644},
	} {
		b, err := imageFiles.ReadFile("image/" + f.name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f.to), b, f.mode); err != nil {
			return err
		}
	}
	if err := run(ctx, "systemctl", "--root="+dir, "--quiet", "enable", "lab-seed-network.service", "lab-seed-user-data.service"); err != nil {
		return err
	}
	return run(ctx, "systemctl", "--root="+dir, "--quiet", "disable", "prometheus.service")
}

// run runs a host command (never a shell) and puts the end of its output into the error.
func run(ctx context.Context, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail(out, 4096))
	}
	return nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

func copyFile(from, to string, mode os.FileMode) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, mode)
}
