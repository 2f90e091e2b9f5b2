#!/usr/bin/python3
"""TLS cost in virtproxyd: TLS handshakes per second (with the client-certificate checks and
the check byte), and the rate of a cheap call (getLibVersion, relayed to Debian's libvirtd)
through the proxy over TLS and over its UNIX socket, in one run.

Usage: bench/tls.py [--handshakes N] [--calls N] [--proxy PATH]
Needs: openssl, libvirtd (libvirt-daemon), python3-libvirt. Run as root (libvirtd then runs
as nobody in session mode) or as an ordinary user.
"""

import argparse
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import libvirt


def sh(*args, cwd=None):
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(d):
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("[srv]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "[cli]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=clientAuth\n")
    sh("openssl", "req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "cakey.pem", "-out",
       "cacert.pem", "-days", "30", "-subj", "/CN=bench CA", "-addext", "basicConstraints=critical,CA:TRUE",
       "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    for name, sect in (("server", "srv"), ("client", "cli")):
        sh("openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", name + "key.pem", "-out",
           name + ".csr", "-subj", "/C=GB/O=bench/CN=" + ("localhost" if name == "server" else "client"), cwd=d)
        sh("openssl", "x509", "-req", "-in", name + ".csr", "-CA", "cacert.pem", "-CAkey", "cakey.pem",
           "-CAcreateserial", "-days", "30", "-extfile", ext, "-extensions", sect, "-out", name + "cert.pem", cwd=d)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_for(pred, secs=30):
    end = time.time() + secs
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--handshakes", type=int, default=300)
    ap.add_argument("--calls", type=int, default=5000)
    here = os.path.dirname(os.path.abspath(__file__))
    default_proxy = os.path.join(here, "..", "target", "release", "virtproxyd")
    if not os.path.exists(default_proxy):
        default_proxy = os.path.join(here, "..", "target", "debug", "virtproxyd")
    ap.add_argument("--proxy", default=os.environ.get("VIRTPROXYD", default_proxy))
    a = ap.parse_args()

    root = os.geteuid() == 0
    base = tempfile.mkdtemp(prefix="vl-bench-tls-")
    os.chmod(base, 0o755)
    procs = []
    try:
        pki = os.path.join(base, "pki")
        os.mkdir(pki)
        make_pki(pki)
        # Debian's libvirtd in session mode (as nobody when we are root).
        home, run = os.path.join(base, "home"), os.path.join(base, "run")
        os.makedirs(home)
        os.makedirs(run, mode=0o700)
        pre = []
        if root:
            subprocess.run(["chown", "-R", "nobody:nogroup", home, run], check=True)
            pre = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": home, "XDG_RUNTIME_DIR": run,
               "XDG_CONFIG_HOME": os.path.join(home, ".config"), "XDG_CACHE_HOME": os.path.join(home, ".cache")}
        procs.append(subprocess.Popen(pre + ["libvirtd", "--timeout", "600"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        lsock = os.path.join(run, "libvirt", "libvirt-sock")
        if not wait_for(lambda: os.path.exists(lsock)):
            sys.exit("libvirtd did not start")
        # Our proxy: UNIX socket + TLS listener, per-driver socket names leading to libvirtd.
        xdg = os.path.join(base, "prun")
        os.makedirs(os.path.join(xdg, "libvirt"))
        os.symlink(lsock, os.path.join(xdg, "libvirt", "virtqemud-sock"))
        sockdir = os.path.join(base, "psock")
        os.mkdir(sockdir)
        port = free_port()
        conf = os.path.join(base, "proxy.conf")
        with open(conf, "w") as f:
            f.write('unix_sock_dir = "%s"\nlisten_tls = 1\nlisten_addr = "127.0.0.1"\ntls_port = "%d"\n'
                    'ca_file = "%s/cacert.pem"\ncert_file = "%s/servercert.pem"\nkey_file = "%s/serverkey.pem"\n'
                    'max_client_requests = 20\n' % (sockdir, port, pki, pki, pki))
        penv = dict(os.environ, XDG_RUNTIME_DIR=xdg, HOME=home)
        procs.append(subprocess.Popen([a.proxy, "-f", conf, "-p", os.path.join(base, "proxy.pid")], env=penv,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        usock = os.path.join(sockdir, "libvirt-sock")
        if not wait_for(lambda: os.path.exists(usock)):
            sys.exit("virtproxyd did not start")

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(os.path.join(pki, "cacert.pem"))
        ctx.check_hostname = False
        ctx.load_cert_chain(os.path.join(pki, "clientcert.pem"), os.path.join(pki, "clientkey.pem"))
        t0 = time.perf_counter()
        for _ in range(a.handshakes):
            with socket.create_connection(("127.0.0.1", port)) as s:
                with ctx.wrap_socket(s) as t:
                    if t.recv(1) != b"\x01":
                        sys.exit("no check byte from the server")
        hs = a.handshakes / (time.perf_counter() - t0)

        def rate(uri):
            c = libvirt.open(uri)
            c.getLibVersion()
            t0 = time.perf_counter()
            for _ in range(a.calls):
                c.getLibVersion()
            r = a.calls / (time.perf_counter() - t0)
            c.close()
            return r

        tls_uri = "qemu+tls://127.0.0.1:%d/session?pkipath=%s" % (port, pki)
        unix_uri = "qemu:///session?socket=%s" % usock
        r_tls = rate(tls_uri)
        r_unix = rate(unix_uri)
        print("command: %s %s" % (sys.executable, " ".join(sys.argv)))
        print("proxy: %s" % os.path.realpath(a.proxy))
        print("TLS handshakes (RSA-2048, client cert checked, check byte): %.0f /s over %d" % (hs, a.handshakes))
        print("getLibVersion over TLS:  %.0f calls/s (%d calls)" % (r_tls, a.calls))
        print("getLibVersion over UNIX: %.0f calls/s (%d calls)" % (r_unix, a.calls))
        print("TLS/UNIX call-rate ratio: %.2f" % (r_tls / r_unix))
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
