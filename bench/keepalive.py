#!/usr/bin/python3
"""Cost of many idle clients and of keepalive traffic on our virtproxyd's main socket, with
Debian's libvirtd (session mode, as nobody) measured the same way in the same run.

Idle clients: one helper process (as nobody) opens N raw connections (benchlib.RawConn: the
handshake a libvirt client does, AUTH_LIST + SUPPORTS_FEATURE(keepalive), and in `open` mode
CONNECT_OPEN too, which makes our proxy dial libvirtd for each) and keeps them idle, answering
the daemon's keepalive PINGs. Measured: VmRSS/Pss of the daemon before and after, per client,
and the daemon's CPU while the clients sit idle for --hold seconds (more than the 5 s
keepalive interval, so every client is pinged).
PING rate: keepalive program 0x6b656570, PING (proc 1) answered by PONG (proc 2): one
connection doing round trips back to back, and 100 connections (4 processes x 25, each
process sends a PING on all its connections and then waits for the 25 PONGs).

Usage (as root): /usr/bin/python3 bench/keepalive.py [--quick] [--clients N] [--hold S] [--seconds S]
"""

import argparse
import os
import selectors
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

PROXY_CONF = """max_clients = 5000
max_anonymous_clients = 5000
max_queued_clients = 1000
"""


def ping_one(path, t_start, seconds):
    """PING round trips on one connection; returns (round trips, elapsed s)."""
    c = B.RawConn(path)
    c.handshake(None)
    c.ping()
    res = B.call_loop(c.ping, t_start, seconds)
    c.close()
    return res


def ping_many(path, nconn, t_start, seconds):
    """nconn connections, one PING outstanding on each; returns (PONGs, elapsed s)."""
    conns = []
    for _ in range(nconn):
        c = B.RawConn(path)
        c.handshake(None)
        conns.append(c)
    sel = selectors.DefaultSelector()
    for c in conns:
        sel.register(c.sock, selectors.EVENT_READ, c)
    B.wait_until(t_start)
    t0 = time.monotonic()
    end = t0 + seconds
    pongs = 0
    while time.monotonic() < end:
        for c in conns:
            c.sock.sendall(B.PING)
        waiting = len(conns)
        got = {id(c): 0 for c in conns}
        while waiting:
            for key, _ in sel.select(10):
                c = key.data
                b = c.sock.recv(65536)
                if not b:
                    raise B.RpcError("daemon closed a pinging connection")
                c.buf += b
                while len(c.buf) >= 28:
                    (n,) = struct.unpack_from(">I", c.buf, 0)
                    if len(c.buf) < n:
                        break
                    prog, _, proc, _ = struct.unpack_from(">IIIi", c.buf, 4)
                    c.buf = c.buf[n:]
                    if prog == B.KEEPALIVE_PROGRAM and proc == B.KEEPALIVE_PONG and got[id(c)] == 0:
                        got[id(c)] = 1
                        waiting -= 1
                        pongs += 1
                    else:
                        c.answer_ping(prog, proc, 0)
    el = time.monotonic() - t0
    sel.close()
    for c in conns:
        c.close()
    return pongs, el


def mem(pid):
    return B.rss_kb(pid), B.rollup_kb(pid, "Pss")


def idle_clients(path, uri, n, hold, watch):
    """Opens n idle clients on path, holds them `hold` s; returns (rows, open time s, PINGs the
    clients answered), a row per (name, pid) in watch: (name, mem before, mem after, CPU ms/s,
    fds, threads)."""
    before = {name: mem(pid) for name, pid in watch}
    h = B.Forked(B.holder, path)
    try:
        t0 = time.monotonic()
        h.send_line("open %d %s" % (n, uri))
        ans = h.recv_line(300)
        t_open = time.monotonic() - t0
        if not ans.startswith("ok"):
            raise RuntimeError(ans)
        time.sleep(0.5)
        cpu0 = {name: B.cpu_ns(pid) for name, pid in watch}
        time.sleep(hold)
        cpu1 = {name: B.cpu_ns(pid) for name, pid in watch}
        after = {name: mem(pid) for name, pid in watch}
        fds = {name: B.nfds(pid) for name, pid in watch}
        thr = {name: B.threads(pid) for name, pid in watch}
        h.send_line("close")
        ans = h.recv_line(60)
        pings = int(ans.split()[-1]) if ans.startswith("ok") else -1
    finally:
        h.finish()
    rows = [(name, before[name], after[name], (cpu1[name] - cpu0[name]) / 1e6 / hold, fds[name], thr[name])
            for name, _ in watch]
    return rows, t_open, pings


def fresh_daemons(wd, tag):
    """A new libvirtd and a new virtproxyd in front of it, warmed up with 4 opened clients each
    so that one-off allocations are not charged to the clients measured."""
    lvd = B.Libvirtd(wd.sub(tag + "lv")).start()
    proxy = B.Proxy(wd.sub(tag + "px"), lvd.sock, conf_extra=PROXY_CONF).start()
    for path in (proxy.sock, lvd.sock):
        h = B.Forked(B.holder, path)
        try:
            h.send_line("open 4 qemu:///session")
            h.recv_line(60)
        finally:
            h.finish()
    time.sleep(0.3)
    return lvd, proxy


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="200 clients, 1 s of pings, 5.5 s hold")
    ap.add_argument("--clients", type=int, default=1000, help="idle clients (default 1000)")
    ap.add_argument("--hold", type=float, default=6.0, help="seconds the idle clients are held (default 6)")
    ap.add_argument("--seconds", type=float, default=2.0, help="length of a PING rate measurement (default 2)")
    ap.add_argument("--reps", type=int, default=3, help="interleaved PING rate repetitions, median (default 3)")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.seconds, args.reps, args.hold = 200, 1.0, 1, 5.5

    B.print_header("keepalive: %d idle clients and PING/PONG rate, virtproxyd (ours) vs Debian's libvirtd"
                   % args.clients)
    nofile = B.raise_nofile(4 * args.clients + 1024)
    print("RLIMIT_NOFILE for the daemons and clients: %d" % nofile)
    wd = B.Workdir("keepalive")
    lvd = proxy = None
    try:
        B.section("%d idle clients, held %.1f s (keepalive interval 5 s: every client gets PINGed);"
                  " fresh daemons for each line" % (args.clients, args.hold))
        print("%-15s %-11s %-10s %8s %8s %8s %8s %7s %5s %4s %6s %6s" % (
            "clients do", "socket of", "measured", "RSS KiB", "RSS KiB", "per cl.", "Pss KiB", "CPU", "fds", "thr",
            "open", "PINGs"))
        print("%-15s %-11s %-10s %8s %8s %8s %8s %7s %5s %4s %6s %6s" % (
            "", "", "", "before", "after", "KiB", "after", "ms/s", "", "", "cl./s", "answ."))
        per = {}
        for label, via, uri in (("handshake only", "virtproxyd", "-"), ("handshake only", "libvirtd", "-"),
                                ("CONNECT_OPEN", "virtproxyd", "qemu:///session"),
                                ("CONNECT_OPEN", "libvirtd", "qemu:///session")):
            lv, px = fresh_daemons(wd, "i%d" % len(per))
            try:
                if via == "virtproxyd":
                    path, watch = px.sock, [("virtproxyd", px.pid), ("libvirtd", lv.pid)]
                else:
                    path, watch = lv.sock, [("libvirtd", lv.pid)]
                rows, t_open, pings = idle_clients(path, uri, args.clients, args.hold, watch)
            finally:
                px.stop()
                lv.stop()
            for name, (r0, p0), (r1, p1), cpu, fds, thr in rows:
                per[(label, via, name)] = (r1 - r0) / float(args.clients)
                print("%-15s %-11s %-10s %8d %8d %8.2f %8d %7.2f %5d %4d %6.0f %6d" % (
                    label, via, name, r0, r1, (r1 - r0) / float(args.clients), p1, cpu, fds, thr,
                    args.clients / t_open, pings))
        a, b = per[("handshake only", "virtproxyd", "virtproxyd")], per[("handshake only", "libvirtd", "libvirtd")]
        print("  RSS per idle client, handshake only: ours %.2f KiB vs libvirtd %.2f KiB (%s)" % (
            a, b, "libvirtd/ours %.1fx" % (b / a) if a > 0 else "ours did not grow"))
        a = per[("CONNECT_OPEN", "virtproxyd", "virtproxyd")]
        t = a + per[("CONNECT_OPEN", "virtproxyd", "libvirtd")]
        b = per[("CONNECT_OPEN", "libvirtd", "libvirtd")]
        print("  RSS per opened client: ours %.2f KiB; ours + libvirtd's upstream leg %.2f KiB vs direct to"
              " libvirtd %.2f KiB" % (a, t, b))
        print("  (CPU ms/s: the daemon's CPU per second of the hold, from /proc/PID/task/*/schedstat)")

        lvd, proxy = fresh_daemons(wd, "ping")
        B.section("PING/PONG round trips, %.1f s per point, %d rep(s) interleaved, median" % (args.seconds, args.reps))
        res = {}
        for r in range(args.reps):
            order = [("virtproxyd", proxy.sock), ("libvirtd", lvd.sock)]
            if r % 2:
                order.reverse()
            for name, path in order:
                t = time.monotonic() + 0.3
                one = B.run_as_nobody(ping_one, path, t, args.seconds)
                res.setdefault((name, 1), []).append(one[0] / one[1])
                t = time.monotonic() + 1.0
                many = B.run_parallel_as_nobody(ping_many, [(path, 25, t, args.seconds)] * 4)
                res.setdefault((name, 100), []).append(sum(p / e for p, e in many))
        print("%-12s %14s %14s %9s" % ("connections", "ours PONG/s", "libvirtd PONG/s", "ours/lvd"))
        for n in (1, 100):
            o, l = B.median(res[("virtproxyd", n)]), B.median(res[("libvirtd", n)])
            print("%-12d %14.0f %14.0f %8.2fx" % (n, o, l, o / l))
        print("  (100 connections: 4 client processes x 25 connections, one PING outstanding per connection)")
        print("  virtproxyd at the end: %d KiB VmRSS, %d KiB Pss, %d threads, %d fds" % (
            B.rss_kb(proxy.pid), B.rollup_kb(proxy.pid), B.threads(proxy.pid), B.nfds(proxy.pid)))
    finally:
        for p in (proxy, lvd):
            if p is not None:
                p.stop()
        wd.cleanup()


if __name__ == "__main__":
    main()
