#!/usr/bin/env python3
"""linux_boot_peers.py - boot benchmark: the project's Linux guest in
faultline, QEMU TCG and Bochs 2.7, in one run on the same machine.

usage: linux_boot_peers.py [--faultline PATH] [--guest DIR] [--runs N] [--clock wall|cpu] [--no-doc]

Two boot paths, each measured in every tool that has it:
  direct  bzImage + initramfs through the Linux boot protocol (faultline,
          QEMU; Bochs has no direct kernel loader);
  disk    the BIOS-bootable disk image: firmware (SeaBIOS in faultline and
          QEMU, Bochs's own BIOS in Bochs), syslinux from the MBR, kernel and
          initramfs loaded through BIOS disk calls (faultline, QEMU, Bochs).
For each run the time from process start to each console marker is recorded
(--clock wall: elapsed time; --clock cpu: the process's user+system CPU
time when the marker appeared, read from /proc, which a concurrently loaded
machine disturbs much less):
`faultline-init: started`, every `workload NAME: ok`, and the final
`all workloads ok`. The table (best of N runs per marker) and the ratios
faultline/peer go to stdout and into docs/performance.md ("## Linux boot").
A benchmark, not a test: it exits non-zero only when a tool fails to run.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

MARKERS = [
    ("init started", re.compile(rb"faultline-init: started")),
    ("checksum", re.compile(rb"workload checksum: ok")),
    ("sort", re.compile(rb"workload sort: ok")),
    ("filerw", re.compile(rb"workload filerw: ok")),
    ("forkexec", re.compile(rb"workload forkexec: ok")),
    ("all workloads", re.compile(rb"faultline-init: all workloads ok")),
]


def cpu_seconds(pid):
    """User + system CPU time of a process (all its threads), from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def watch(cmd, read_path=None, timeout=600.0, clock="wall"):
    """Runs cmd, returns {marker: seconds}. Output is read from the process's
    stdout, or from read_path (a file the process writes) when given."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE if read_path is None else subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    seen = {}
    buf = b""
    fd = proc.stdout.fileno() if read_path is None else None
    fh = None
    try:
        while time.monotonic() - t0 < timeout and len(seen) < len(MARKERS):
            chunk = b""
            if fd is not None:
                import select
                r, _, _ = select.select([fd], [], [], 0.05)
                if r:
                    chunk = os.read(fd, 65536)
                    if not chunk and proc.poll() is not None:
                        break
            else:
                if fh is None and os.path.exists(read_path):
                    fh = open(read_path, "rb")
                if fh is not None:
                    chunk = fh.read()
                if not chunk:
                    if proc.poll() is not None:
                        break
                    time.sleep(0.02)
            if chunk:
                now = time.monotonic() - t0
                if clock == "cpu":
                    c = cpu_seconds(proc.pid)
                    now = c if c is not None else now
                buf += chunk
                for name, rx in MARKERS:
                    if name not in seen and rx.search(buf):
                        seen[name] = now
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        if fh:
            fh.close()
    return seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--faultline", default="build/release/experiments/faultline")
    ap.add_argument("--guest", default=None, help="guest dir (default: build it with the recipe)")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    ap.add_argument("--no-doc", action="store_true")
    a = ap.parse_args()
    guest = a.guest or subprocess.run(["experiments/guests/build-linux-guest.sh"], check=True,
                                      capture_output=True, text=True).stdout.strip().splitlines()[-1]
    bz, initrd, disk = (os.path.join(guest, f) for f in ("bzImage", "initramfs.cpio.gz", "disk.img"))
    tmp = tempfile.mkdtemp(prefix="linux_boot_peers.")
    shutil.copy(disk, os.path.join(tmp, "disk.img"))
    serial = os.path.join(tmp, "serial.log")
    bochsrc = os.path.join(tmp, "bochsrc")
    with open(bochsrc, "w") as f:
        f.write(f"""megs: 128
cpu: model=p2_klamath, ips=50000000
clock: sync=none
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=disk, path={tmp}/disk.img, mode=flat
boot: disk
com1: enabled=1, mode=file, dev={serial}
sound: driver=dummy
display_library: rfb, options="timeout=0"
""")
    rc = os.path.join(tmp, "bochs.rc")
    with open(rc, "w") as f:
        f.write("c\n")
    qemu = ["qemu-system-i386", "-accel", "tcg", "-cpu", "pentium2", "-m", "128", "-display", "none",
            "-serial", "stdio", "-monitor", "none", "-nic", "none", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    tools = {
        "faultline": (lambda: [a.faultline, "run", "--linux", bz, "--initrd", initrd, "--append",
                               "console=ttyS0", "--memory", "128"], None),
        "qemu": (lambda: qemu + ["-kernel", bz, "-initrd", initrd, "-append", "console=ttyS0"], None),
        "faultline-disk": (lambda: [a.faultline, "run", "--disk", os.path.join(tmp, "disk.img"),
                                    "--memory", "128"], None),
        "qemu-disk": (lambda: qemu + ["-drive", f"file={tmp}/disk.img,format=raw,if=ide,snapshot=on"], None),
        "bochs": (lambda: ["bochs", "-q", "-f", bochsrc, "-rc", rc, "-unlock"], serial),
    }
    best = {}
    for run in range(a.runs):
        for name, (cmd, path) in tools.items():
            if path and os.path.exists(path):
                os.unlink(path)
            if name == "bochs":
                shutil.copy(disk, os.path.join(tmp, "disk.img"))
            seen = watch(cmd(), path, clock=a.clock)
            print(f"linux_boot_peers: run {run + 1} {name}: " +
                  ", ".join(f"{k} {v:.2f}s" for k, v in seen.items()), file=sys.stderr)
            for k, v in seen.items():
                best.setdefault(name, {})
                best[name][k] = min(v, best[name].get(k, v))
    if "all workloads" not in best.get("faultline", {}):
        print("linux_boot_peers: faultline did not finish the workloads", file=sys.stderr)
        return 1
    lines = ["| marker | faultline direct s | QEMU direct s | faultline disk s | QEMU disk s | Bochs disk s "
             "| faultline/QEMU direct | faultline/QEMU disk | faultline/Bochs disk |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    def cell(tool, m):
        v = best.get(tool, {}).get(m)
        return f"{v:.2f}" if v is not None else "n/a"
    def ratio(m, mine, peer):
        f, p = best.get(mine, {}).get(m), best.get(peer, {}).get(m)
        return f"{f / p:.2f}" if f and p else "n/a"
    for m, _ in MARKERS:
        lines.append(f"| {m} | {cell('faultline', m)} | {cell('qemu', m)} | {cell('faultline-disk', m)} | "
                     f"{cell('qemu-disk', m)} | {cell('bochs', m)} | {ratio(m, 'faultline', 'qemu')} | "
                     f"{ratio(m, 'faultline-disk', 'qemu-disk')} | {ratio(m, 'faultline-disk', 'bochs')} |")
    table = "\n".join(lines)
    print(table)
    if not a.no_doc:
        load = open("/proc/loadavg").read().split()[:3]
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
        section = f"""## Linux boot

{"Wall" if a.clock == "wall" else "CPU"} time from process start to console markers of the project's Linux 6.1
guest (experiments/guests: tinyconfig-based i386 kernel, HZ=100, initramfs
with the project's workloads), best of {a.runs} runs, produced by

```
tests/bench/linux_boot_peers.py --faultline {a.faultline} --runs {a.runs} --clock {a.clock}
```

on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs ({cpu}), load average
{' '.join(load)} at the end. "direct": faultline (interpreter) and QEMU 7.2
TCG (`-cpu pentium2`) boot bzImage + initramfs through the Linux boot
protocol. "disk": the BIOS-bootable disk image, booted by Debian's SeaBIOS
1.16 in faultline (`faultline run --disk`) and QEMU, and by Bochs 2.7's own
BIOS (Debian, `ips=50000000`, `clock: sync=none`); these times include
firmware, syslinux loading kernel and initramfs through BIOS disk calls,
and filerw on the IDE disk. 128 MiB of guest RAM everywhere.

{table}
"""
        p = "docs/performance.md"
        text = open(p).read() if os.path.exists(p) else "# Performance\n"
        text = re.sub(r"\n## Linux boot\n.*?(?=\n## |\Z)", "\n", text, flags=re.S).rstrip() + "\n\n" + section
        open(p, "w").write(text)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
