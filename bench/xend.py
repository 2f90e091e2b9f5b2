#!/usr/bin/python3
"""virtxend with 100 defined domains: calls per second for list-all, lookup + dominfo and
dumpxml, and virtxend's memory idle and with the domains (and with some of them running), on
the simulated Xen host (t/fakexen). Baseline in the same run: Debian's libvirtd (session mode,
unprivileged, QEMU driver) holding 100 defined domains, asked the same calls.

Usage (as root, from the project directory):
    /usr/bin/python3 bench/xend.py [--domains N] [--running N] [--seconds S]
The issue's target: virtxend RSS under 4 MiB with 100 domains.
"""
import argparse, os, pwd, shutil, subprocess, sys, tempfile, time
import libvirt

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)

PV = """<domain type='xen'><name>{n}</name><uuid>{u}</uuid><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type>linux</type><kernel>/boot/vmlinuz</kernel></os>
<devices><disk type='file' device='disk'><source file='/var/lib/xen/{n}.img'/><target dev='xvda' bus='xen'/></disk>
<interface type='bridge'><source bridge='xenbr0'/></interface></devices></domain>"""
QEMU = """<domain type='qemu'><name>{n}</name><uuid>{u}</uuid><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os>
<devices><disk type='file' device='disk'><source file='/var/lib/x/{n}.img'/><target dev='vda' bus='virtio'/></disk>
<interface type='user'/></devices></domain>"""


def mem_kib(pid):
    rss = pss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def wait_sock(path, limit=15):
    t0 = time.time()
    while not os.path.exists(path):
        if time.time() - t0 > limit:
            raise SystemExit(f"no socket {path}")
        time.sleep(0.05)
    time.sleep(0.2)


def rate(fn, seconds):
    n = 0
    t0 = time.perf_counter()
    while True:
        fn()
        n += 1
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return n / dt


def measure(uri, kind, ndom, seconds):
    c = libvirt.open(uri)
    tmpl = PV if kind == "xen" else QEMU
    names = [f"bench{i:03d}" for i in range(ndom)]
    for i, n in enumerate(names):
        c.defineXML(tmpl.format(n=n, u=f"6b0c{i:04x}-1111-4222-8333-444455556666"))
    res = {}
    res["list-all"] = rate(lambda: c.listAllDomains(0), seconds)
    k = [0]

    def lookup_info():
        d = c.lookupByName(names[k[0] % ndom])
        d.info()
        k[0] += 1
    res["lookup+dominfo"] = rate(lookup_info, seconds)

    def dumpxml():
        c.lookupByName(names[k[0] % ndom]).XMLDesc(0)
        k[0] += 1
    res["dumpxml"] = rate(dumpxml, seconds)
    return c, names, res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--domains", type=int, default=100)
    ap.add_argument("--running", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=2.0)
    a = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root (virtxend needs it; libvirtd is run as nobody)")
    xend = os.path.join(TOP, "target/release/virtxend")
    if not os.path.exists(xend):
        subprocess.check_call(["cargo", "build", "--release", "--bins"], cwd=TOP)
    work = tempfile.mkdtemp(prefix="vlt-bench-xend-")
    os.chmod(work, 0o755)
    procs = []
    try:
        fx = os.path.join(work, "fx")
        subprocess.check_call(["sh", os.path.join(TOP, "t/fakexen/build.sh"), fx], stdout=subprocess.DEVNULL)
        root = os.path.join(work, "root")
        sock = os.path.join(root, "run/libvirt")
        os.makedirs(sock)
        os.makedirs(os.path.join(fx, "st"))
        conf = os.path.join(work, "virtxend.conf")
        with open(conf, "w") as f:
            f.write(f'unix_sock_dir = "{sock}"\n')
        env = dict(os.environ, VIRTLITE_ROOT=root, LD_PRELOAD=os.path.join(fx, "libfakexen.so"),
                   FAKEXEN_STATE=os.path.join(fx, "st/state"), FAKEXEN_DELAY_MS="10")
        xp = subprocess.Popen([xend, "-f", conf, "-p", os.path.join(work, "x.pid")], env=env,
                              stderr=subprocess.DEVNULL)
        procs.append(xp)
        wait_sock(os.path.join(sock, "virtxend-sock"))
        xuri = f"xen:///system?socket={sock}/virtxend-sock"
        time.sleep(0.5)
        idle = mem_kib(xp.pid)
        xc, names, xres = measure(xuri, "xen", a.domains, a.seconds)
        defined = mem_kib(xp.pid)
        for n in names[:a.running]:
            xc.lookupByName(n).create()
        running = mem_kib(xp.pid)

        # Baseline: Debian's libvirtd, session mode as nobody, same calls and domain count.
        nobody = pwd.getpwnam("nobody")
        lv = os.path.join(work, "lv")
        os.makedirs(os.path.join(lv, "home"))
        os.makedirs(os.path.join(lv, "run"))
        for d in (lv, os.path.join(lv, "home"), os.path.join(lv, "run")):
            os.chown(d, nobody.pw_uid, nobody.pw_gid)
            os.chmod(d, 0o700)
        lenv = dict(os.environ, HOME=os.path.join(lv, "home"), XDG_RUNTIME_DIR=os.path.join(lv, "run"))
        lp = subprocess.Popen(["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--init-groups",
                               "libvirtd", "--timeout", "600"], env=lenv, stderr=subprocess.DEVNULL)
        procs.append(lp)
        lsock = os.path.join(lv, "run/libvirt/libvirt-sock")
        wait_sock(lsock)
        time.sleep(0.5)
        lpid = int(subprocess.check_output(["pgrep", "-n", "-u", "nobody", "-x", "libvirtd"]).split()[0])
        lidle = mem_kib(lpid)
        _, _, lres = measure(f"qemu:///session?socket={lsock}", "qemu", a.domains, a.seconds)
        ldefined = mem_kib(lpid)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)

    print(f"# bench/xend.py --domains {a.domains} --running {a.running} --seconds {a.seconds}")
    print(f"# virtxend on the simulated Xen host vs Debian libvirtd {libvirt.getVersion()} (session, QEMU driver),"
          f" {a.domains} defined domains, python3-libvirt, one client")
    print(f"{'calls/s':<18}{'virtxend':>12}{'libvirtd':>12}{'ratio':>8}")
    for k in xres:
        print(f"{k:<18}{xres[k]:>12.0f}{lres[k]:>12.0f}{xres[k] / lres[k]:>8.2f}")
    print(f"{'memory KiB':<30}{'VmRSS':>10}{'Pss':>10}")
    print(f"{'virtxend idle':<30}{idle[0]:>10}{idle[1]:>10}")
    print(f"{'virtxend, domains defined':<30}{defined[0]:>10}{defined[1]:>10}")
    print(f"{'virtxend, ' + str(a.running) + ' running':<30}{running[0]:>10}{running[1]:>10}")
    print(f"{'libvirtd idle':<30}{lidle[0]:>10}{lidle[1]:>10}")
    print(f"{'libvirtd, domains defined':<30}{ldefined[0]:>10}{ldefined[1]:>10}")
    print(f"target RSS < 4096 KiB with {a.domains} domains: {'met' if max(defined[0], running[0]) < 4096 else 'NOT met'}"
          f" ({max(defined[0], running[0])} KiB; libvirtd {ldefined[0]} KiB, ratio {max(defined[0], running[0]) / ldefined[0]:.2f})")


if __name__ == "__main__":
    main()
