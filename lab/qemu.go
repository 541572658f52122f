package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// VM is a machine with a kernel of its own under qemu (TCG: nested KVM hangs here), booted from a disk image on a
// virtio disk with a write-back cache, on the bridge through a tap. Killing qemu is a real power cut: what the
// guest had not written out of its page cache is lost, unlike a nspawn machine whose writes live in the host's.
type VM struct {
	Name, Role string
	Addr       string
	Root       string // the root filesystem the disk image is made from (and where its kernel is)
	Disk       string
	Console    string
	Tap        string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// NewVM makes a virtual machine from the golden image with a kernel at golden: its root under dir, seeded with
// userData, turned into an ext4 disk image of size (mkfs.ext4 -d: no mount needed).
func NewVM(ctx context.Context, golden, dir, name, role, addr, userData, size string) (*VM, error) {
	v := &VM{Name: name, Role: role, Addr: addr, Root: filepath.Join(dir, name), Disk: filepath.Join(dir, name+".img"),
		Console: filepath.Join(dir, name+".console"), Tap: "hftap-" + name}
	if len(v.Tap) > 15 {
		v.Tap = v.Tap[:15]
	}
	if err := run(ctx, "cp", "-a", golden, v.Root); err != nil {
		return nil, err
	}
	if err := writeSeed(v.Root, name, addr, userData); err != nil {
		return nil, err
	}
	if err := run(ctx, "mkfs.ext4", "-q", "-F", "-L", "root", "-d", v.Root, v.Disk, size); err != nil {
		return nil, err
	}
	return v, nil
}

// Boot starts qemu with the image's kernel and initramfs; the VM's console goes to v.Console.
func (v *VM) Boot(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cmd != nil {
		return fmt.Errorf("%s is running", v.Name)
	}
	kernels, _ := filepath.Glob(filepath.Join(v.Root, "boot", "vmlinuz-*"))
	initrds, _ := filepath.Glob(filepath.Join(v.Root, "boot", "initrd.img-*"))
	if len(kernels) != 1 || len(initrds) != 1 {
		return fmt.Errorf("%s: want one kernel and one initramfs in /boot, found %v %v", v.Name, kernels, initrds)
	}
	if _, err := os.Stat(filepath.Join("/sys/class/net", v.Tap)); err != nil {
		if err := run(ctx, "ip", "tuntap", "add", v.Tap, "mode", "tap"); err != nil {
			return err
		}
		if err := run(ctx, "ip", "link", "set", v.Tap, "master", Bridge, "up"); err != nil {
			return err
		}
	}
	console, err := os.OpenFile(v.Console, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(console, "\n==== lab: boot of %s at %s\n", v.Name, time.Now().UTC().Format(time.RFC3339))
	cmd := exec.Command("qemu-system-x86_64", "-accel", "tcg", "-m", "1024", "-smp", "2", "-nographic", "-no-reboot",
		"-kernel", kernels[0], "-initrd", initrds[0],
		"-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0 systemd.show_status=false",
		"-drive", "file="+v.Disk+",format=raw,if=virtio,cache=writeback",
		"-netdev", "tap,id=n0,ifname="+v.Tap+",script=no,downscript=no", "-device", "virtio-net-pci,netdev=n0")
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = console, console
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		console.Close()
		return fmt.Errorf("boot %s: %w", v.Name, err)
	}
	v.cmd, v.done = cmd, make(chan struct{})
	go func(done chan struct{}) {
		_ = cmd.Wait()
		console.Close()
		v.mu.Lock()
		v.cmd = nil
		v.mu.Unlock()
		close(done)
	}(v.done)
	return nil
}

// PowerCut kills qemu: the guest's page cache and everything it had not written are gone.
func (v *VM) PowerCut() {
	v.mu.Lock()
	cmd, done := v.cmd, v.done
	v.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Stop cuts the VM's power (nothing on it is kept after the run) and removes its tap.
func (v *VM) Stop(ctx context.Context) {
	v.PowerCut()
	if _, err := os.Stat(filepath.Join("/sys/class/net", v.Tap)); err == nil {
		_ = run(ctx, "ip", "link", "del", v.Tap)
	}
}

// Files replays the disk's journal (as the next boot's mount would: e2fsck) and copies dir of the stopped VM's
// disk out to into, with debugfs: what the disk holds after the power cut, read without booting it.
func (v *VM) Files(ctx context.Context, dir, into string) error {
	v.mu.Lock()
	running := v.cmd != nil
	v.mu.Unlock()
	if running {
		return fmt.Errorf("%s is running", v.Name)
	}
	// e2fsck exits 1 when it fixed something (a replayed journal): not an error here.
	cmd := exec.CommandContext(ctx, "e2fsck", "-fy", v.Disk)
	if out, err := cmd.CombinedOutput(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() > 1 {
			return fmt.Errorf("e2fsck %s: %w\n%s", v.Disk, err, tail(out, 2048))
		}
	}
	if err := os.MkdirAll(into, 0o755); err != nil {
		return err
	}
	return run(ctx, "debugfs", "-R", "rdump "+dir+" "+into, v.Disk)
}
