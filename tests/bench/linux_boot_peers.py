#!/usr/bin/env python3
"""linux_boot_peers.py - boot benchmark: the project's Linux guest in
faultline, QEMU TCG and Bochs 2.7, in one run on the same machine.

usage: linux_boot_peers.py [--faultline PATH] [--guest DIR] [--runs N] [--no-doc]

faultline and QEMU boot bzImage + initramfs through the Linux boot protocol;
Bochs boots the disk image through its BIOS and syslinux (it has no direct
kernel loader), so its figures include firmware and bootloader time. For each
tool the wall time from process start to each console marker is recorded:
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


def watch(cmd, read_path=None, timeout=600.0):
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
    tools = {
        "faultline": (lambda: [a.faultline, "run", "--linux", bz, "--initrd", initrd, "--append",
                               "console=ttyS0", "--memory", "128"], None),
        "qemu": (lambda: ["qemu-system-i386", "-accel", "tcg", "-cpu", "pentium2", "-m", "128",
                          "-kernel", bz, "-initrd", initrd, "-append", "console=ttyS0",
                          "-display", "none", "-serial", "stdio", "-monitor", "none", "-nic", "none",
                          "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=4"], None),
        "bochs": (lambda: ["bochs", "-q", "-f", bochsrc, "-rc", rc, "-unlock"], serial),
    }
    best = {}
    for run in range(a.runs):
        for name, (cmd, path) in tools.items():
            if path and os.path.exists(path):
                os.unlink(path)
            if name == "bochs":
                shutil.copy(disk, os.path.join(tmp, "disk.img"))
            seen = watch(cmd(), path)
            print(f"linux_boot_peers: run {run + 1} {name}: " +
                  ", ".join(f"{k} {v:.2f}s" for k, v in seen.items()), file=sys.stderr)
            for k, v in seen.items():
                best.setdefault(name, {})
                best[name][k] = min(v, best[name].get(k, v))
    if "all workloads" not in best.get("faultline", {}):
        print("linux_boot_peers: faultline did not finish the workloads", file=sys.stderr)
        return 1
    lines = ["| marker | faultline s | QEMU TCG s | Bochs 2.7 s | faultline/QEMU | faultline/Bochs |",
             "|---|---:|---:|---:|---:|---:|"]
    def cell(tool, m):
        v = best.get(tool, {}).get(m)
        return f"{v:.2f}" if v is not None else "n/a"
    def ratio(m, peer):
        f, p = best["faultline"].get(m), best.get(peer, {}).get(m)
        return f"{f / p:.2f}" if f and p else "n/a"
    for m, _ in MARKERS:
        lines.append(f"| {m} | {cell('faultline', m)} | {cell('qemu', m)} | {cell('bochs', m)} | "
                     f"{ratio(m, 'qemu')} | {ratio(m, 'bochs')} |")
    table = "\n".join(lines)
    print(table)
    if not a.no_doc:
        load = open("/proc/loadavg").read().split()[:3]
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
        section = f"""## Linux boot

Wall time from process start to console markers of the project's Linux 6.1
guest (experiments/guests: tinyconfig-based i386 kernel, HZ=100, initramfs
with the project's workloads), best of {a.runs} runs, produced by

```
tests/bench/linux_boot_peers.py --faultline {a.faultline} --runs {a.runs}
```

on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs ({cpu}), load average
{' '.join(load)} at the end. faultline (interpreter) and QEMU 7.2 TCG
(`-cpu pentium2`) boot bzImage + initramfs through the Linux boot protocol;
Bochs 2.7 (Debian, `ips=50000000`, `clock: sync=none`) boots the disk image
through its BIOS and syslinux, so its times include firmware and bootloader
and its filerw runs on the IDE disk. 128 MiB of guest RAM everywhere.

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
