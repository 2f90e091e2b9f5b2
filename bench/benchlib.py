"""Shared helpers of the virtlite benchmarks.

Machine facts, statistics, /proc readers, starting Debian's libvirtd, our virtproxyd and
socat as the unprivileged user `nobody`, and a raw libvirt RPC client written with sockets
and struct (4-byte big-endian length that counts itself, 24-byte header, XDR payload).

Run with Debian's /usr/bin/python3 (the one python3-libvirt is installed for), as root:
the drivers start every daemon and every client as nobody and keep root only to read
/proc of every process and to run strace.
"""

import grp
import os
import platform
import pwd
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from rpcclient import *  # noqa: E402,F401,F403  (RawConn, holder, the protocol numbers)

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
PROXY_BIN = os.environ.get("VIRTPROXYD", os.path.join(REPO, "target/release/virtproxyd"))

NOBODY = pwd.getpwnam("nobody").pw_uid
NOGROUP = grp.getgrnam("nogroup").gr_gid

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- facts and output

def sh(cmd):
    """Output of a shell command, stripped; '?' when it fails."""
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine_facts():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    return [
        ("nproc", str(os.cpu_count())),
        ("kernel", platform.release() + " " + platform.version()),
        ("cpu", cpu),
        ("memory", mem),
        ("debian", sh("cat /etc/debian_version")),
        ("libvirt (Debian)", sh("dpkg-query -W -f='${Version}' libvirt-daemon")),
        ("python", sys.executable + " " + platform.python_version()),
        ("virtproxyd", "%s (%s bytes, git %s)" % (PROXY_BIN, os.path.getsize(PROXY_BIN) if os.path.exists(PROXY_BIN) else "?",
                                               sh("git -C %s rev-parse --short HEAD" % REPO))),
        ("date", time.strftime("%Y-%m-%d %H:%M:%S %Z")),
        ("load average", "%.2f %.2f %.2f (other work on the machine skews every figure)" % os.getloadavg()),
    ]


def print_header(title):
    print("=" * 78)
    print(title)
    print("command: %s" % os.environ.get("BENCH_COMMAND", " ".join([sys.executable] + sys.argv)))
    for k, v in machine_facts():
        print("  %-17s %s" % (k + ":", v))
    print("=" * 78)
    sys.stdout.flush()


def section(title):
    print()
    print("-- " + title)
    sys.stdout.flush()


# ---------------------------------------------------------------- statistics

def median(xs):
    s = sorted(xs)
    n = len(s)
    if n == 0:
        return float("nan")
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0


def pct(xs, p):
    """Nearest-rank percentile, p in 0..100."""
    s = sorted(xs)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def spread(xs):
    return "min %s max %s n=%d" % (fmt(min(xs)), fmt(max(xs)), len(xs)) if xs else "n=0"


def fmt(x):
    if isinstance(x, int):
        return str(x)
    if x != x:
        return "nan"
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.2f" % x


# ---------------------------------------------------------------- /proc readers

def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rss_kb(pid):
    return status_kb(pid, "VmRSS")


def threads(pid):
    return status_kb(pid, "Threads")


def rollup_kb(pid, key="Pss"):
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def cpu_ticks(pid, children=False):
    """utime+stime (and cutime+cstime of waited-for children) in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    # rest[0] is field 3 (state); utime is field 14.
    t = int(rest[11]) + int(rest[12])
    if children:
        t += int(rest[13]) + int(rest[14])
    return t


def cpu_seconds(pid, children=False):
    return cpu_ticks(pid, children) / float(CLK_TCK)


def cpu_ns(pid):
    """CPU time of the live threads of pid in ns (schedstat: finer than clock ticks)."""
    return task_schedstat(pid)[0]


def task_schedstat(pid):
    """(cpu ns, runqueue-wait ns, timeslices) summed over the threads of pid."""
    run = wait = slices = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                a, b, c = f.read().split()
        except OSError:
            continue
        run += int(a)
        wait += int(b)
        slices += int(c)
    return run, wait, slices


def process_tree(pid):
    """pid and all its descendants (by walking /proc/*/stat parent links)."""
    parent = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parent.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(parent.get(p, []))
    return out


def smaps_breakdown(pid):
    """Rss/Pss in KiB per kind of mapping: the binary, each shared library, heap, main stack,
    thread stacks (anon rw right after a PROT_NONE guard), malloc arenas (anon rw at a 64 MiB
    boundary, glibc's HEAP_MAX_SIZE), other anonymous memory."""
    vmas = []
    cur = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                lo, hi = (int(x, 16) for x in head[0].split("-"))
                cur = {"lo": lo, "hi": hi, "perm": head[1], "name": head[5] if len(head) > 5 else "", "Rss": 0, "Pss": 0}
                vmas.append(cur)
            elif cur is not None and head[0] in ("Rss:", "Pss:"):
                cur[head[0][:-1]] = int(head[1])
    out = {}
    exe = os.path.realpath("/proc/%d/exe" % pid)
    for i, v in enumerate(vmas):
        name = v["name"]
        if name == exe or name.endswith(os.path.basename(exe)):
            kind = "binary (text+data)"
        elif name.startswith("/"):
            kind = "lib " + os.path.basename(name)
        elif name == "[heap]":
            kind = "[heap] (brk, main arena)"
        elif name == "[stack]":
            kind = "[stack] (main thread)"
        elif name.startswith("["):
            kind = name
        elif v["perm"].startswith("rw"):
            prev = vmas[i - 1] if i > 0 else None
            if v["lo"] % (64 << 20) == 0:
                kind = "anon: malloc arenas"
            elif prev and prev["hi"] == v["lo"] and prev["perm"].startswith("---") and not prev["name"]:
                kind = "anon: thread stacks"
            else:
                kind = "anon: other"
        else:
            kind = "anon: other"
        e = out.setdefault(kind, [0, 0, 0])
        e[0] += v["Rss"]
        e[1] += v["Pss"]
        e[2] += 1
    return out


def print_breakdown(pid, indent="  "):
    bd = smaps_breakdown(pid)
    print("%s%-30s %8s %8s %5s" % (indent, "mapping kind", "Rss KiB", "Pss KiB", "vmas"))
    for k, (r, p, n) in sorted(bd.items(), key=lambda kv: -kv[1][0]):
        if r == 0 and p == 0:
            continue
        print("%s%-30s %8d %8d %5d" % (indent, k, r, p, n))
    tr = sum(v[0] for v in bd.values())
    tp = sum(v[1] for v in bd.values())
    print("%s%-30s %8d %8d" % (indent, "total", tr, tp))


# ---------------------------------------------------------------- processes

class Workdir:
    """A temporary directory owned by nobody, removed at the end unless BENCH_KEEP is set."""

    def __init__(self, tag):
        self.path = tempfile.mkdtemp(prefix="vlbench-%s-" % tag)
        os.chmod(self.path, 0o755)
        os.chown(self.path, NOBODY, NOGROUP)

    def mkdir(self, *parts, mode=0o700):
        p = os.path.join(self.path, *parts)
        os.makedirs(p, exist_ok=True)
        os.chmod(p, mode)
        os.chown(p, NOBODY, NOGROUP)
        return p

    def write(self, name, text):
        p = os.path.join(self.path, name)
        with open(p, "w") as f:
            f.write(text)
        os.chown(p, NOBODY, NOGROUP)
        return p

    def sub(self, tag):
        """A Workdir-like view of a fresh subdirectory (one per daemon pair)."""
        d = Workdir.__new__(Workdir)
        d.path = self.mkdir(tag, mode=0o755)
        return d

    def join(self, *parts):
        return os.path.join(self.path, *parts)

    def cleanup(self):
        if os.environ.get("BENCH_KEEP"):
            print("(kept %s)" % self.path)
            return
        shutil.rmtree(self.path, ignore_errors=True)


def demote():
    """In a child: become nobody:nogroup with no supplementary groups."""
    os.setgroups([])
    os.setgid(NOGROUP)
    os.setuid(NOBODY)


def spawn_nobody(argv, env, log_path, cwd="/"):
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                user=NOBODY, group=NOGROUP, extra_groups=[])
    finally:
        log.close()


def stop(proc, timeout=10.0):
    """SIGTERM, then SIGKILL if it has not exited after `timeout` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_connectable(path, timeout=30.0, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s before %s was ready" % (proc.returncode, path))
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return
        except OSError:
            time.sleep(0.01)
        finally:
            s.close()
    raise RuntimeError("nothing listens on %s after %.0f s" % (path, timeout))


def base_env(home, run):
    return {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": home,
        "XDG_RUNTIME_DIR": run,
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "LANG": "C",
    }


LIBVIRTD_CONF = """# written by virtlite's bench/benchlib.py
max_clients = 5000
max_anonymous_clients = 5000
max_queued_clients = 1000
"""


class Libvirtd:
    """Debian's libvirtd in session mode as nobody, with its own HOME and XDG_RUNTIME_DIR."""

    def __init__(self, wd, conf=LIBVIRTD_CONF):
        self.wd = wd
        self.home = wd.mkdir("lvhome")
        self.run = wd.mkdir("lvrun")
        cfgdir = os.path.join(self.home, ".config/libvirt")
        os.makedirs(cfgdir, exist_ok=True)
        self.conf = os.path.join(cfgdir, "libvirtd.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        subprocess.run(["chown", "-R", "nobody:nogroup", self.home], check=True)
        self.proc = None

    @property
    def sock(self):
        return os.path.join(self.run, "libvirt/libvirt-sock")

    @property
    def pid(self):
        return self.proc.pid

    def argv(self):
        return ["/usr/sbin/libvirtd", "-f", self.conf, "-p", os.path.join(self.run, "libvirtd.pid"), "-t", "900"]

    def env(self):
        return base_env(self.home, self.run)

    def start(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.proc = spawn_nobody(self.argv(), self.env(), os.path.join(self.home, "libvirtd.log"))
        wait_connectable(self.sock, 60, self.proc)
        return self

    def stop(self):
        stop(self.proc)


PROXY_DRIVERS = ["qemu", "network", "storage", "secret", "nodedev", "interface", "nwfilter"]


class Proxy:
    """Our virtproxyd as nobody; its XDG_RUNTIME_DIR holds virt<drv>d-sock symlinks to
    libvirtd's one socket, so every URI it resolves leads to that libvirtd."""

    def __init__(self, wd, upstream_sock, conf_extra="", binary=PROXY_BIN, tag="proxy"):
        self.wd = wd
        self.binary = binary
        self.home = wd.mkdir(tag + "home")
        self.run = wd.mkdir(tag + "run")
        self.sockdir = wd.mkdir(tag + "sock", mode=0o755)
        os.makedirs(os.path.join(self.run, "libvirt"), exist_ok=True)
        for d in PROXY_DRIVERS:
            link = os.path.join(self.run, "libvirt/virt%sd-sock" % d)
            if not os.path.lexists(link):
                os.symlink(upstream_sock, link)
        subprocess.run(["chown", "-R", "nobody:nogroup", self.run], check=True)
        self.conf = wd.write(tag + ".conf", 'unix_sock_dir = "%s"\n%s\n' % (self.sockdir, conf_extra))
        self.pidfile = wd.join(tag + ".pid")
        self.proc = None
        self.env_extra = {}

    @property
    def sock(self):
        return os.path.join(self.sockdir, "libvirt-sock")

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        env = base_env(self.home, self.run)
        env.update(self.env_extra)
        self.proc = spawn_nobody([self.binary, "-f", self.conf, "-p", self.pidfile, "-t", "900"], env,
                                 self.wd.join("proxy.log"))
        wait_connectable(self.sock, 10, self.proc)
        return self

    def stop(self):
        stop(self.proc)


class Socat:
    """The naive relay: socat forking one child per connection."""

    def __init__(self, wd, upstream_sock, tag="socat"):
        self.wd = wd
        d = wd.mkdir(tag + "sock", mode=0o755)
        self.sock = os.path.join(d, "relay-sock")
        self.upstream = upstream_sock
        self.proc = None

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        argv = ["/usr/bin/socat", "UNIX-LISTEN:%s,fork,backlog=1024" % self.sock, "UNIX-CONNECT:%s" % self.upstream]
        self.proc = spawn_nobody(argv, {"PATH": "/usr/bin:/bin"}, self.wd.join("socat.log"))
        wait_connectable(self.sock, 10, self.proc)
        return self

    def stop(self):
        # SIGTERM to the listener; its children relay connections that are closed by then.
        for p in process_tree(self.proc.pid)[1:]:
            try:
                os.kill(p, signal.SIGTERM)
            except OSError:
                pass
        stop(self.proc)


def raise_nofile(n):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, n)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def run_as_nobody(fn, *args):
    """Runs fn(*args) in a forked child that became nobody; returns what it returned
    (plain data passed back through a pipe with repr)."""
    return run_parallel_as_nobody(fn, [args])[0]


class Forked:
    """A long-lived child (as nobody) that runs fn(conn_r, conn_w, *args): a helper holds
    client connections open while the parent measures the daemon."""

    def __init__(self, fn, *args):
        self.r_parent, self.w_child = os.pipe()
        self.r_child, self.w_parent = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            code = 0
            try:
                os.close(self.r_parent)
                os.close(self.w_parent)
                demote()
                fn(self.r_child, self.w_child, *args)
            except BaseException:
                import traceback
                traceback.print_exc()
                code = 1
            os._exit(code)
        os.close(self.r_child)
        os.close(self.w_child)

    def recv_line(self, timeout=300):
        buf = b""
        end = time.monotonic() + timeout
        while not buf.endswith(b"\n"):
            left = end - time.monotonic()
            if left <= 0:
                raise RuntimeError("helper did not answer in %d s" % timeout)
            sel = selectors.DefaultSelector()
            sel.register(self.r_parent, selectors.EVENT_READ)
            if not sel.select(left):
                sel.close()
                continue
            sel.close()
            b = os.read(self.r_parent, 4096)
            if not b:
                raise RuntimeError("helper exited")
            buf += b
        return buf.decode().strip()

    def send_line(self, s):
        os.write(self.w_parent, (s + "\n").encode())

    def finish(self):
        try:
            self.send_line("quit")
        except OSError:
            pass
        _, st = os.waitpid(self.pid, 0)
        os.close(self.r_parent)
        os.close(self.w_parent)
        return st


def run_parallel_as_nobody(fn, arglist):
    """Runs fn(*args) for each args in arglist, each in its own forked child as nobody, all
    at once; returns their results in order."""
    kids = []
    for args in arglist:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.close(r)
                demote()
                data = repr(fn(*args)).encode()
            except BaseException as e:
                import traceback
                data = repr({"error": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc()}).encode()
                code = 1
            try:
                with os.fdopen(w, "wb") as f:
                    f.write(data)
            finally:
                os._exit(code)
        os.close(w)
        kids.append((pid, r))
    out = []
    for pid, r in kids:
        with os.fdopen(r, "rb") as f:
            data = f.read()
        os.waitpid(pid, 0)
        res = eval(data.decode()) if data else {"error": "child wrote nothing", "trace": ""}
        if isinstance(res, dict) and "trace" in res:
            raise RuntimeError("child failed: %s\n%s" % (res["error"], res["trace"]))
        out.append(res)
    return out


def wait_until(t):
    """Sleeps until CLOCK_MONOTONIC reaches t (the shared start of parallel clients)."""
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)


def call_loop(call, t_start, seconds, batch=50):
    """Waits for t_start, then calls call() in batches for `seconds`; (calls, elapsed s)."""
    wait_until(t_start)
    t0 = time.monotonic()
    end = t0 + seconds
    n = 0
    while True:
        for _ in range(batch):
            call()
        n += batch
        t = time.monotonic()
        if t >= end:
            return n, t - t0
