#!/usr/bin/python3
"""Start-to-ready time and idle memory of our virtproxyd, with Debian's libvirtd started the
same way (unprivileged, session mode, same options) as the same-run baseline.

Ready = READY=1 arriving on the NOTIFY_SOCKET we pass, timed from just before execve (the
forked child reads CLOCK_MONOTONIC after dropping to nobody and writes it to a pipe).
Idle memory = VmRSS from /proc/PID/status and Pss from /proc/PID/smaps_rollup, read
`--settle` seconds after ready. Then, unless --no-analysis, the same for variants of our
daemon (fewer worker threads, one malloc arena, a static build) and a per-mapping breakdown
of the default one, to show what its RSS is made of.

Variants: config (fewer idle worker threads), environment (MALLOC_ARENA_MAX), madvise tricks
tried through target/bench-variants/madvise-shim.so (LD_PRELOAD,
built from bench/madvise-shim.c), and the release-profile builds that
bench/build-variants makes (opt-level s/z, fat LTO, strip, +crt-static). A static build is
also checked for unix_sock_group (getgrnam through glibc's NSS in a static binary).

Usage (as root): /usr/bin/python3 bench/startup.py [--quick] [--reps N] [--settle S]
                 [--variant-reps N] [--variants-dir DIR] [--no-analysis]
"""

import argparse
import os
import select
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

TARGET_READY_MS = 5.0
TARGET_RSS_KIB = 2048
# bench/build-variants names, in the order shown.
BUILD_VARIANTS = ["opt3-thin", "opt-s", "opt-z", "fat-lto", "strip", "z-fat-strip", "static", "static-z-fat-strip"]
_SEQ = 0


def launch(argv, env, log_path, notify):
    """Forks, drops to nobody, stamps the clock, execs. Returns (pid, t0 ns)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            null = os.open("/dev/null", os.O_RDONLY)
            os.dup2(null, 0)
            os.chdir("/")
            B.demote()
            env = dict(env, NOTIFY_SOCKET=notify)
            t0 = time.monotonic_ns()
            os.write(w, str(t0).encode())
            os.close(w)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        t0 = int(f.read().decode() or 0)
    return pid, t0


def wait_exit(pid, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        p, _ = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            return True
        time.sleep(0.005)
    return False


def terminate(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    if not wait_exit(pid):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


class Subject:
    """One way of starting a daemon: argv, environment, files to clear before each start."""

    def __init__(self, label, argv, env, log, cleanup=()):
        self.label = label
        self.argv = argv
        self.env = env
        self.log = log
        self.cleanup = cleanup
        self.ready_ms = []
        self.rss_ready = []
        self.rss = []
        self.pss = []
        self.threads = []
        self.fds = []
        self.last_pid = None

    def run_once(self, notify_sock, notify_path, settle, record=True, keep_running=False):
        for p in self.cleanup:
            if os.path.lexists(p):
                os.unlink(p)
        while select.select([notify_sock], [], [], 0)[0]:
            notify_sock.recv(4096)
        pid, t0 = launch(self.argv, self.env, self.log, notify_path)
        got = b""
        end = time.monotonic() + 60
        t1 = None
        while time.monotonic() < end:
            if not select.select([notify_sock], [], [], 0.5)[0]:
                p, _ = os.waitpid(pid, os.WNOHANG)
                if p == pid:
                    raise RuntimeError("%s exited before READY=1; see %s" % (self.label, self.log))
                continue
            got = notify_sock.recv(4096)
            t1 = time.monotonic_ns()
            if b"READY=1" in got:
                break
        if t1 is None or b"READY=1" not in got:
            terminate(pid)
            raise RuntimeError("%s sent no READY=1 in 60 s" % self.label)
        rss0 = B.rss_kb(pid)
        time.sleep(settle)
        if record:
            self.ready_ms.append((t1 - t0) / 1e6)
            self.rss_ready.append(rss0)
            self.rss.append(B.rss_kb(pid))
            self.pss.append(B.rollup_kb(pid, "Pss"))
            self.threads.append(B.threads(pid))
            self.fds.append(B.nfds(pid))
        self.last_pid = pid
        if keep_running:
            return pid
        terminate(pid)
        return None


def proxy_subject(wd, label, conf_extra="", env_extra=None, binary=B.PROXY_BIN):
    global _SEQ
    _SEQ += 1
    tag = "p%d" % _SEQ
    home = wd.mkdir(tag + "home")
    run = wd.mkdir(tag + "run")
    conf = wd.write(tag + ".conf", "# bench/startup.py: %s\n%s\n" % (label, conf_extra))
    env = B.base_env(home, run)
    env.update(env_extra or {})
    pidf = os.path.join(run, "virtproxyd.pid")
    argv = [binary, "-f", conf, "-p", pidf, "-t", "600"]
    return Subject(label, argv, env, wd.join(tag + ".log"),
                   cleanup=[os.path.join(run, "libvirt/libvirt-sock"), os.path.join(run, "libvirt/libvirt-admin-sock")])


def nss_check(wd, binary):
    """Does `binary --check-config` resolve unix_sock_group through NSS (getgrnam_r)? A static
    glibc binary must still find 'nogroup' and still reject a group that does not exist."""
    import subprocess
    out = []
    for group in ("nogroup", "vlbench-no-such-group"):
        conf = wd.write("nss-%s.conf" % group, 'unix_sock_group = "%s"\n' % group)
        r = subprocess.run([binary, "--check-config", "-f", conf], capture_output=True, text=True, timeout=30)
        out.append((group, r.returncode, (r.stdout + r.stderr).strip().replace("\n", " | ")))
    # A missing group must give the daemon's error and exit 1, not a crash (a negative code is
    # the signal that killed it: static glibc dlopen()s the NSS modules after `files`).
    ok = out[0][1] == 0 and out[1][1] > 0 and "Failed to find group record" in out[1][2]
    return ok, out


def libvirtd_subject(wd):
    lv = B.Libvirtd(wd, conf="# bench/startup.py: Debian's defaults\n")
    argv = ["/usr/sbin/libvirtd", "-f", lv.conf, "-p", os.path.join(lv.run, "libvirtd.pid"), "-t", "600"]
    return Subject("libvirtd (Debian, session)", argv, lv.env(), os.path.join(lv.home, "libvirtd.log"),
                   cleanup=[lv.sock])


def report(subjects):
    print("%-42s %9s %9s %9s %9s %9s %7s %5s" % ("daemon", "ready med", "ready p90", "RSS@ready", "RSS idle",
                                                   "Pss idle", "threads", "fds"))
    print("%-42s %9s %9s %9s %9s %9s %7s %5s" % ("", "ms", "ms", "KiB", "KiB", "KiB", "", ""))
    for s in subjects:
        print("%-42s %9s %9s %9s %9s %9s %7s %5s" % (
            s.label, B.fmt(B.median(s.ready_ms)), B.fmt(B.pct(s.ready_ms, 90)), B.fmt(B.median(s.rss_ready)),
            B.fmt(B.median(s.rss)), B.fmt(B.median(s.pss)), B.fmt(B.median(s.threads)), B.fmt(B.median(s.fds))))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=15, help="measured starts of each daemon (default 15)")
    ap.add_argument("--warmup", type=int, default=2, help="unmeasured starts first (libvirtd fills its caches)")
    ap.add_argument("--settle", type=float, default=0.5, help="seconds after ready before reading memory")
    ap.add_argument("--variant-reps", type=int, default=7, help="starts of each variant in the analysis (default 7)")
    ap.add_argument("--variants-dir", default=os.path.join(B.REPO, "target/bench-variants"),
                    help="where bench/build-variants put its builds (those found are measured)")
    ap.add_argument("--quick", action="store_true", help="5 starts, 2 per variant, settle 0.3 s")
    ap.add_argument("--no-analysis", action="store_true", help="only the comparison with libvirtd")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.warmup, args.variant_reps, args.settle = 5, 1, 2, 0.3
    args.settle = max(args.settle, 0.3)

    B.print_header("startup: start-to-ready time and idle memory, virtproxyd (ours) vs Debian's libvirtd")
    wd = B.Workdir("startup")
    notify_path = wd.join("notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(notify_path)
    os.chmod(notify_path, 0o777)
    try:
        ours = proxy_subject(wd, "virtproxyd (ours)")
        lvd = libvirtd_subject(wd)
        B.section("ready and idle memory, %d starts each, interleaved (%d warm-up), settle %.1f s"
                  % (args.reps, args.warmup, args.settle))
        for s in (ours, lvd):
            for _ in range(args.warmup):
                s.run_once(ns, notify_path, 0.0, record=False)
        for i in range(args.reps):
            order = (ours, lvd) if i % 2 == 0 else (lvd, ours)
            for s in order:
                s.run_once(ns, notify_path, args.settle)
        report([ours, lvd])
        print("  ready spread: ours %s ms; libvirtd %s ms" % (B.spread(ours.ready_ms), B.spread(lvd.ready_ms)))
        print("  ratio libvirtd/ours: ready %.1fx, RSS %.1fx, Pss %.1fx" % (
            B.median(lvd.ready_ms) / B.median(ours.ready_ms), B.median(lvd.rss) / B.median(ours.rss),
            B.median(lvd.pss) / B.median(ours.pss)))
        r, m = B.median(ours.ready_ms), B.median(ours.rss)
        print("  ready < %.0f ms (a bar of this script, not the issue's): %s (median %.2f ms)" % (
            TARGET_READY_MS, "yes" if r < TARGET_READY_MS else "no", r))
        print("  issue 2 target, idle RSS < %d KiB: %s (median %d KiB; Pss %d KiB)" % (
            TARGET_RSS_KIB, "MET" if m < TARGET_RSS_KIB else "MISSED", m, B.median(ours.pss)))

        if args.no_analysis:
            return
        B.section("what the idle RSS of ours is made of (one default start, /proc/PID/smaps)")
        pid = ours.run_once(ns, notify_path, args.settle, record=False, keep_running=True)
        try:
            B.print_breakdown(pid)
            names = {}
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                    n = f.read().strip()
                names[n] = names.get(n, 0) + 1
            print("  threads: " + ", ".join("%d x %s" % (v, k) for k, v in sorted(names.items())))
        finally:
            terminate(pid)

        B.section("variants of ours, %d starts each, interleaved" % args.variant_reps)
        few = "min_workers = 1\n"
        none = "min_workers = 0\nprio_workers = 0\nadmin_min_workers = 0\n"
        variants = [
            proxy_subject(wd, "default"),
            proxy_subject(wd, "min_workers = 1", few),
            proxy_subject(wd, "no idle workers (min/prio/admin 0)", none),
            proxy_subject(wd, "MALLOC_ARENA_MAX=1", env_extra={"MALLOC_ARENA_MAX": "1"}),
            proxy_subject(wd, "no idle workers + ARENA_MAX=1", none, env_extra={"MALLOC_ARENA_MAX": "1"}),
        ]
        shim = os.path.join(args.variants_dir, "madvise-shim.so")
        # The shim's DONTNEED runs 100 ms after exec, before the memory is read (settle >= 0.3 s).
        drop = {"VLBENCH_MADV": "drop", "VLBENCH_MADV_DELAY_MS": "100"}
        if os.path.exists(shim):
            variants += [
                proxy_subject(wd, "madvise RANDOM on r-x (shim)", env_extra={"LD_PRELOAD": shim, "VLBENCH_MADV": "random"}),
                proxy_subject(wd, "madvise DONTNEED r-x after start", env_extra=dict(drop, LD_PRELOAD=shim)),
                proxy_subject(wd, "DONTNEED r-x + no idle workers", none, env_extra=dict(drop, LD_PRELOAD=shim)),
            ]
        else:
            print("  (no %s: bench/build-variants builds it)" % shim)
        found = False
        broken = set()
        for name in BUILD_VARIANTS:
            binary = os.path.join(args.variants_dir, name, "x86_64-unknown-linux-gnu/release/virtproxyd")
            if not os.path.exists(binary):
                continue
            found = True
            variants.append(proxy_subject(wd, "build %s (%d KiB)" % (name, os.path.getsize(binary) // 1024),
                                          binary=binary))
            if name.startswith("static"):
                # The static builds have the shim linked in (bench/build-variants).
                variants += [
                    proxy_subject(wd, "%s, no idle workers" % name, none, binary=binary),
                    proxy_subject(wd, "%s, DONTNEED r-x" % name, env_extra=drop, binary=binary),
                    proxy_subject(wd, "%s, DONTNEED + no idle w." % name, none, env_extra=drop, binary=binary),
                ]
                ok, out = nss_check(wd, binary)
                if not ok:
                    broken.add(binary)
                print("  %s: unix_sock_group lookup through NSS %s" % (name, "works" if ok else "BROKEN"))
                for group, rc, text in out:
                    print("    %s --check-config, unix_sock_group = %s: %s: %s" % (
                        name, group, "killed by signal %d" % -rc if rc < 0 else "exit %d" % rc, text[:100] or "-"))
        if not found:
            print("  (no builds under %s: bench/build-variants makes them)" % args.variants_dir)
        usable = []
        for v in variants:
            try:
                v.run_once(ns, notify_path, 0.0, record=False)
                usable.append(v)
            except RuntimeError as e:
                print("  variant '%s' does not start: %s" % (v.label, e))
                try:
                    with open(v.log) as f:
                        print("    " + f.read().strip().replace("\n", "\n    "))
                except OSError:
                    pass
        for i in range(args.variant_reps):
            order = usable if i % 2 == 0 else list(reversed(usable))
            for v in order:
                v.run_once(ns, notify_path, args.settle)
        report(usable)
        base = usable[0]
        for v in usable[1:]:
            print("  %-42s RSS %+5d KiB, Pss %+5d KiB vs default; RSS < %d KiB: %s" % (
                v.label, B.median(v.rss) - B.median(base.rss), B.median(v.pss) - B.median(base.pss),
                TARGET_RSS_KIB, "MET" if B.median(v.rss) < TARGET_RSS_KIB else "no")
                + (" (but unusable: its NSS lookups crash)" if v.argv[0] in broken else ""))
        if len(usable) > 1:
            print("  (Pss counts shared file pages divided among the processes mapping them; RSS counts them whole)")
            for v in usable:
                pid = v.run_once(ns, notify_path, args.settle, record=False, keep_running=True)
                try:
                    bd = B.smaps_breakdown(pid)
                finally:
                    terminate(pid)
                anon = sum(x[0] for k, x in bd.items() if k.startswith("anon") or k.startswith("[heap") or k.startswith("[stack"))
                files = sum(x[0] for k, x in bd.items() if k.startswith("lib ") or k.startswith("binary"))
                print("  %-42s file-backed %5d KiB, anonymous %5d KiB (thread stacks %d, arenas %d, heap %d)" % (
                    v.label, files, anon, bd.get("anon: thread stacks", [0])[0], bd.get("anon: malloc arenas", [0])[0],
                    bd.get("[heap] (brk, main arena)", [0])[0]))
    finally:
        ns.close()
        wd.cleanup()


if __name__ == "__main__":
    main()
