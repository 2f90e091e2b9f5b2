#!/usr/bin/python3
"""Relay cost of our virtproxyd: cheap-call rate and bulk transfer through it, against the
same calls made directly to Debian's libvirtd (session mode, as nobody) and through a naive
relay (`socat UNIX-LISTEN,fork UNIX-CONNECT`), all in the same run.

Clients (each a forked process running as nobody, started together on a shared
CLOCK_MONOTONIC instant and stopped together):
  libvirt-py  python3-libvirt: libvirt.open(URI) then conn.getLibVersion() in a loop
  raw         a socket client from benchlib (handshake + CONNECT_OPEN, then
              REMOTE_PROC_CONNECT_GET_LIB_VERSION in a loop): no client library in the way
Bulk: one client fetches a domain XML of --xml-kib KiB (a large <description>) in a loop
(virDomainGetXMLDesc), MB/s of XML received.
Domains: 50 defined domains; listAllDomains, lookupByName + XMLDesc and getLibVersion
timed call by call (rate, median and p99 latency, added latency against direct).
Memory: virtproxyd's VmRSS sampled every 50 ms while 8 clients are relayed (peak) and after.

Usage (as root): /usr/bin/python3 bench/proxy.py [--quick] [--seconds S] [--reps N]
                 [--clients 1,8] [--xml-kib K] [--proxy-env K=V]...
                 (VIRTPROXYD=/path/to/virtproxyd selects another build)
"""

import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

TARGET_RATIO = 0.85
DOMAIN = "vlbench-bulk"


def client_home():
    """libvirt's client library reads $HOME/.config: give it nobody's scratch dir."""
    home = os.environ.get("VLBENCH_CLIENT_HOME")
    if home:
        os.environ["HOME"] = home
        os.environ["XDG_CONFIG_HOME"] = os.path.join(home, ".config")
        os.environ["XDG_CACHE_HOME"] = os.path.join(home, ".cache")
        os.environ["XDG_RUNTIME_DIR"] = home


def py_calls(uri, t_start, seconds):
    """python3-libvirt getLibVersion loop; returns (calls, elapsed s)."""
    client_home()
    import libvirt
    libvirt.registerErrorHandler(lambda *a: None, None)
    conn = libvirt.open(uri)
    conn.getLibVersion()
    res = B.call_loop(conn.getLibVersion, t_start, seconds)
    conn.close()
    return res


def raw_calls(path, t_start, seconds):
    """The benchlib socket client's GET_LIB_VERSION loop; returns (calls, elapsed s)."""
    c = B.RawConn(path)
    c.handshake("qemu:///session")
    c.call(B.PROC_CONNECT_GET_LIB_VERSION)
    res = B.call_loop(lambda: c.call(B.PROC_CONNECT_GET_LIB_VERSION), t_start, seconds)
    c.close()
    return res


def bulk_xml(uri, seconds):
    """virDomainGetXMLDesc loop on the big domain; returns (bytes, calls, elapsed s)."""
    client_home()
    import libvirt
    libvirt.registerErrorHandler(lambda *a: None, None)
    conn = libvirt.open(uri)
    dom = conn.lookupByName(DOMAIN)
    dom.XMLDesc(0)
    t0 = time.monotonic()
    end = t0 + seconds
    total = n = 0
    while time.monotonic() < end:
        total += len(dom.XMLDesc(0))
        n += 1
    conn.close()
    return total, n, time.monotonic() - t0


def define_big_domain(uri, kib):
    client_home()
    import libvirt
    conn = libvirt.open(uri)
    desc = ("virtlite bulk transfer filler " * (kib * 1024 // 30 + 1))[:kib * 1024]
    xml = ("<domain type='qemu'><name>%s</name><description>%s</description>"
           "<memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>" % (DOMAIN, desc))
    dom = conn.defineXML(xml)
    n = len(dom.XMLDesc(0))
    conn.close()
    return n


def define_small_domains(uri, n):
    client_home()
    import libvirt
    conn = libvirt.open(uri)
    for i in range(n):
        conn.defineXML("<domain type='qemu'><name>vlbench-d%02d</name><memory unit='MiB'>64</memory>"
                       "<os><type arch='x86_64'>hvm</type></os></domain>" % i)
    conn.close()


def timed_calls(uri, what, seconds):
    """One client timing each call: 'list' = listAllDomains, 'lookup' = lookupByName +
    XMLDesc, 'cheap' = getLibVersion. Returns the per-call latencies in microseconds."""
    client_home()
    import libvirt
    libvirt.registerErrorHandler(lambda *a: None, None)
    conn = libvirt.open(uri)
    names = ["vlbench-d%02d" % i for i in range(50)]
    k = [0]

    def one():
        if what == "list":
            conn.listAllDomains(0)
        elif what == "lookup":
            conn.lookupByName(names[k[0] % len(names)]).XMLDesc(0)
            k[0] += 1
        else:
            conn.getLibVersion()
    for _ in range(20):
        one()
    lat = []
    end = time.perf_counter() + seconds
    while True:
        t0 = time.perf_counter_ns()
        one()
        t1 = time.perf_counter_ns()
        lat.append((t1 - t0) / 1000.0)
        if t1 / 1e9 >= end:
            break
    conn.close()
    return lat


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


class RssSampler(threading.Thread):
    """Samples VmRSS of a pid every `every` seconds until stopped; keeps the peak."""

    def __init__(self, pid, every=0.05):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak = 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                self.peak = max(self.peak, B.rss_kb(self.pid))
            except OSError:
                return
            self.halt.wait(self.every)

    def stop(self):
        self.halt.set()
        self.join()
        return self.peak


def tree_cpu(pid):
    """CPU seconds of a process, its live children and the children it has reaped (socat forks
    one child per connection)."""
    t = 0.0
    for p in B.process_tree(pid):
        try:
            t += B.cpu_seconds(p, children=(p == pid))
        except (OSError, ValueError, IndexError):
            pass
    return t


def run_point(kind, target, nclients, seconds, proxy_pid):
    """One measurement: nclients clients of `kind` against target (label, uri, path, daemon pid
    whose CPU is charged); returns (calls/s, daemon CPU us per call, proxy peak RSS KiB)."""
    label, uri, path, cpu_pid = target
    t_start = time.monotonic() + 0.3 + 0.05 * nclients
    if kind == "libvirt-py":
        args = [(uri, t_start, seconds)] * nclients
        fn = py_calls
    else:
        args = [(path, t_start, seconds)] * nclients
        fn = raw_calls
    sampler = RssSampler(proxy_pid)
    sampler.start()
    cpu0 = tree_cpu(cpu_pid)
    res = B.run_parallel_as_nobody(fn, args)
    cpu1 = tree_cpu(cpu_pid)
    peak = sampler.stop()
    calls = sum(n for n, _ in res)
    rate = sum(n / e for n, e in res)
    return rate, (cpu1 - cpu0) / max(calls, 1) * 1e6, peak


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 rep of 1 s per point, smaller XML")
    ap.add_argument("--seconds", type=float, default=1.5, help="length of one measurement (default 1.5)")
    ap.add_argument("--reps", type=int, default=3, help="interleaved repetitions; the median is shown (default 3)")
    ap.add_argument("--clients", default="1,8", help="client counts (default 1,8)")
    ap.add_argument("--xml-kib", type=int, default=1024, help="size of the bulk domain XML (default 1024 KiB)")
    ap.add_argument("--proxy-env", action="append", default=[], metavar="K=V",
                    help="extra environment for virtproxyd, e.g. GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.reps, args.xml_kib = 1.0, 1, 256
    counts = [int(x) for x in args.clients.split(",")]

    B.print_header("proxy: cheap-call rate and bulk transfer, direct vs virtproxyd (ours) vs socat relay")
    B.raise_nofile(4096)
    wd = B.Workdir("proxy")
    chome = wd.mkdir("clienthome")
    os.environ["VLBENCH_CLIENT_HOME"] = chome
    lvd = proxy = socat = None
    try:
        lvd = B.Libvirtd(wd).start()
        proxy = B.Proxy(wd, lvd.sock)
        proxy.env_extra = dict(kv.split("=", 1) for kv in args.proxy_env)
        if proxy.env_extra:
            print("virtproxyd environment: %s" % " ".join(args.proxy_env))
        proxy.start()
        socat = B.Socat(wd, lvd.sock).start()
        targets = [
            ("direct", "qemu:///session?socket=" + lvd.sock, lvd.sock, lvd.pid),
            ("virtproxyd", "qemu:///session?socket=" + proxy.sock, proxy.sock, proxy.pid),
            ("socat", "qemu:///session?socket=" + socat.sock, socat.sock, socat.pid),
        ]
        rss_idle = B.rss_kb(proxy.pid)
        print("libvirtd pid %d, virtproxyd pid %d (idle RSS %d KiB), socat pid %d" % (
            lvd.pid, proxy.pid, rss_idle, socat.pid))

        B.section("cheap calls (getLibVersion), %.1f s per point, %d rep(s) interleaved, median"
                  % (args.seconds, args.reps))
        results = {}
        peak8 = 0
        for kind in ("libvirt-py", "raw"):
            for n in counts:
                # Warm-up: one short pass through each target.
                for t in targets:
                    run_point(kind, t, n, 0.2, proxy.pid)
                for r in range(args.reps):
                    order = targets if r % 2 == 0 else list(reversed(targets))
                    for t in order:
                        rate, us, peak = run_point(kind, t, n, args.seconds, proxy.pid)
                        results.setdefault((kind, n, t[0]), []).append((rate, us))
                        if t[0] == "virtproxyd" and n == max(counts):
                            peak8 = max(peak8, peak)
        print("%-11s %7s %11s %11s %11s %9s %9s %18s" % ("client", "clients", "direct/s", "ours/s", "socat/s",
                                                        "ours/dir", "socat/dir", "relay CPU us/call"))
        verdicts = []
        for kind in ("libvirt-py", "raw"):
            for n in counts:
                med = {t[0]: B.median([x[0] for x in results[(kind, n, t[0])]]) for t in targets}
                cpu = {t[0]: B.median([x[1] for x in results[(kind, n, t[0])]]) for t in targets}
                ro, rs = med["virtproxyd"] / med["direct"], med["socat"] / med["direct"]
                print("%-11s %7d %11.0f %11.0f %11.0f %8.2fx %8.2fx %8.1f ours %5.1f socat" % (
                    kind, n, med["direct"], med["virtproxyd"], med["socat"], ro, rs, cpu["virtproxyd"], cpu["socat"]))
                verdicts.append((kind, n, ro))
        print("  spread of ours/s per point: " + "; ".join(
            "%s x%d %s" % (k, n, B.spread([x[0] for x in results[(k, n, "virtproxyd")]]))
            for k in ("libvirt-py", "raw") for n in counts))
        for kind, n, ro in verdicts:
            print("  target ours/direct >= %.2fx (%s, %d client%s): %s (%.2fx)" % (
                TARGET_RATIO, kind, n, "" if n == 1 else "s", "MET" if ro >= TARGET_RATIO else "MISSED", ro))
        print("  (2 cores: with 8 clients the clients, libvirtd and the relay share 2 CPUs, so the")
        print("   rate is bound by total CPU; relay CPU us/call is the relay's own cost per call)")

        rss_calls = B.rss_kb(proxy.pid), B.rollup_kb(proxy.pid)

        B.section("bulk: domain XML of ~%d KiB fetched in a loop by 1 client, %.1f s, %d rep(s)"
                  % (args.xml_kib, args.seconds, args.reps))
        size = B.run_as_nobody(define_big_domain, targets[0][1], args.xml_kib)
        bulk = {}
        for r in range(args.reps):
            order = targets if r % 2 == 0 else list(reversed(targets))
            for t in order:
                nbytes, ncalls, el = B.run_as_nobody(bulk_xml, t[1], args.seconds)
                bulk.setdefault(t[0], []).append((nbytes / el / 1e6, ncalls / el))
        print("%-11s %10s %10s %9s" % ("path", "MB/s", "XML/s", "vs direct"))
        d = B.median([x[0] for x in bulk["direct"]])
        for t in targets:
            mb = B.median([x[0] for x in bulk[t[0]]])
            print("%-11s %10.1f %10.1f %8.2fx" % (t[0], mb, B.median([x[1] for x in bulk[t[0]]]), mb / d))
        print("  (XML of %d bytes; MB = 10^6 bytes of XML text received by the client)" % size)

        B.section("domains: 50 defined; listAllDomains, lookupByName + XMLDesc, and getLibVersion;"
                  " 1 client timing every call, %.1f s, %d rep(s) interleaved" % (args.seconds, args.reps))
        B.run_as_nobody(define_small_domains, targets[0][1], 50)
        lat = {}
        for r in range(args.reps):
            order = targets if r % 2 == 0 else list(reversed(targets))
            for what in ("list", "lookup", "cheap"):
                for t in order:
                    lat.setdefault((what, t[0]), []).extend(B.run_as_nobody(timed_calls, t[1], what, args.seconds))
        print("%-8s %-11s %9s %9s %10s %9s %14s" % ("call", "path", "calls/s", "median us", "p99 us", "vs direct",
                                                 "added median us"))
        for what in ("list", "lookup", "cheap"):
            dmed = pct(lat[(what, "direct")], 0.5)
            drate = 1e6 / (sum(lat[(what, "direct")]) / len(lat[(what, "direct")]))
            for t in targets:
                xs = lat[(what, t[0])]
                rate = 1e6 / (sum(xs) / len(xs))
                print("%-8s %-11s %9.0f %9.1f %10.1f %8.2fx %14.1f" % (
                    what, t[0], rate, pct(xs, 0.5), pct(xs, 0.99), rate / drate, pct(xs, 0.5) - dmed))
        added = pct(lat[("cheap", "virtproxyd")], 0.5) - pct(lat[("cheap", "direct")], 0.5)
        print("  target: added median latency < 10 us (cheap call): %s (%.1f us)" % ("MET" if added < 10 else "MISSED", added))

        B.section("virtproxyd memory")
        print("  idle at start            %6d KiB VmRSS" % rss_idle)
        print("  peak, %d client(s) relayed %5d KiB VmRSS (sampled every 50 ms)" % (max(counts), peak8))
        print("  after the cheap calls    %6d KiB VmRSS, %d KiB Pss (every client gone)" % rss_calls)
        print("  after the bulk transfer  %6d KiB VmRSS, %d KiB Pss, %d threads, %d fds (every client gone)" % (
            B.rss_kb(proxy.pid), B.rollup_kb(proxy.pid), B.threads(proxy.pid), B.nfds(proxy.pid)))
    finally:
        for p in (socat, proxy, lvd):
            if p is not None:
                p.stop()
        wd.cleanup()


if __name__ == "__main__":
    main()
