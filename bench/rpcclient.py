"""A raw libvirt RPC client for the virtlite benchmarks, written with sockets and struct:
4-byte big-endian length that counts itself, 24-byte header, XDR payload (the framing of
libvirt's rpc/virnetmessage.c; t/common/mod.rs has the Rust twin). Also `holder`, the body of
a helper process that keeps many idle clients connected and answers the daemon's PINGs.
Everything here is re-exported by benchlib.
"""

import os
import selectors
import socket
import struct

REMOTE_PROGRAM = 0x20008086
KEEPALIVE_PROGRAM = 0x6B656570
KEEPALIVE_PING = 1
KEEPALIVE_PONG = 2
T_CALL, T_REPLY, T_MESSAGE = 0, 1, 2
PROC_CONNECT_OPEN = 1
PROC_CONNECT_GET_LIB_VERSION = 157
PROC_SUPPORTS_FEATURE = 60
PROC_AUTH_LIST = 66
FEATURE_PROGRAM_KEEPALIVE = 10


def xdr_string(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


def frame(prog, vers, proc, typ, serial, status=0, payload=b""):
    return struct.pack(">IIIiiIi", 28 + len(payload), prog, vers, proc, typ, serial, status) + payload


PING = frame(KEEPALIVE_PROGRAM, 1, KEEPALIVE_PING, T_MESSAGE, 0)
PONG = frame(KEEPALIVE_PROGRAM, 1, KEEPALIVE_PONG, T_MESSAGE, 0)


class RpcError(Exception):
    pass


def decode_error(payload):
    """The message of a remote_error (code, domain, optional message string...)."""
    try:
        code, dom, present = struct.unpack_from(">iiI", payload, 0)
        msg = ""
        if present:
            (n,) = struct.unpack_from(">I", payload, 12)
            msg = payload[16:16 + n].decode(errors="replace")
        return "code %d domain %d: %s" % (code, dom, msg)
    except struct.error:
        return "undecodable error (%d bytes)" % len(payload)


class RawConn:
    """One blocking client connection speaking libvirt's framing."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""
        self.serial = 0
        self.pings_answered = 0

    def fileno(self):
        return self.sock.fileno()

    def close(self):
        self.sock.close()

    def read_packet(self):
        while True:
            if len(self.buf) >= 4:
                (n,) = struct.unpack_from(">I", self.buf, 0)
                if n < 28 or n > 32 << 20:
                    raise RpcError("bad frame length %d" % n)
                if len(self.buf) >= n:
                    pkt, self.buf = self.buf[:n], self.buf[n:]
                    prog, vers, proc, typ, serial, status = struct.unpack_from(">IIIiiI", pkt, 4)
                    return prog, proc, typ, serial, status, pkt[28:]
            b = self.sock.recv(65536)
            if not b:
                raise RpcError("connection closed by the daemon")
            self.buf += b

    def answer_ping(self, prog, proc, typ):
        """True when the packet was a keepalive PING (answered) or PONG."""
        if prog != KEEPALIVE_PROGRAM:
            return False
        if proc == KEEPALIVE_PING:
            self.sock.sendall(PONG)
            self.pings_answered += 1
        return True

    def call(self, proc, payload=b""):
        self.serial += 1
        self.sock.sendall(frame(REMOTE_PROGRAM, 1, proc, T_CALL, self.serial, 0, payload))
        while True:
            prog, rproc, typ, serial, status, body = self.read_packet()
            if self.answer_ping(prog, rproc, typ):
                continue
            if prog == REMOTE_PROGRAM and typ == T_REPLY and serial == self.serial:
                if status != 0:
                    raise RpcError("proc %d: %s" % (proc, decode_error(body)))
                return body

    def handshake(self, open_uri=None):
        """What a libvirt client does first: AUTH_LIST, SUPPORTS_FEATURE(keepalive), and
        CONNECT_OPEN when open_uri is given."""
        self.call(PROC_AUTH_LIST)
        self.call(PROC_SUPPORTS_FEATURE, struct.pack(">i", FEATURE_PROGRAM_KEEPALIVE))
        if open_uri is not None:
            self.call(PROC_CONNECT_OPEN, struct.pack(">I", 1) + xdr_string(open_uri) + struct.pack(">I", 0))

    def ping(self):
        """One PING -> PONG round trip (server PINGs that cross it are answered)."""
        self.sock.sendall(PING)
        while True:
            prog, proc, typ, serial, status, body = self.read_packet()
            if prog == KEEPALIVE_PROGRAM and proc == KEEPALIVE_PONG:
                return
            self.answer_ping(prog, proc, typ)


def holder(r, w, path):
    """Body of a Forked helper holding client connections to `path`. Commands, one a line:
    `open N URI` (URI `-`: AUTH_LIST + SUPPORTS_FEATURE only; else CONNECT_OPEN too),
    `close`, `quit`. Answers `ok COUNT` (`close`: `ok 0 pings N`, the PINGs answered) or
    `err TEXT`. Between commands it answers the
    daemon's keepalive PINGs, as an idle libvirt client would."""
    conns = []
    sel = selectors.DefaultSelector()
    sel.register(r, selectors.EVENT_READ, None)
    pending = b""

    def reply(s):
        os.write(w, (s + "\n").encode())

    while True:
        for key, _ in sel.select(1.0):
            if key.data is None:
                b = os.read(r, 4096)
                if not b:
                    return
                pending += b
                continue
            c = key.data
            try:
                b = c.sock.recv(65536)
            except OSError:
                b = b""
            if not b:
                sel.unregister(c.sock)
                continue
            c.buf += b
            while len(c.buf) >= 28:
                (n,) = struct.unpack_from(">I", c.buf, 0)
                if len(c.buf) < n:
                    break
                prog, vers, proc, typ = struct.unpack_from(">IIIi", c.buf, 4)
                c.buf = c.buf[n:]
                c.answer_ping(prog, proc, typ)
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            cmd = line.decode().split()
            if not cmd:
                continue
            if cmd[0] == "quit":
                return
            if cmd[0] == "close":
                pings = sum(c.pings_answered for c in conns)
                for c in conns:
                    try:
                        sel.unregister(c.sock)
                    except (KeyError, ValueError):
                        pass
                    c.close()
                conns = []
                reply("ok 0 pings %d" % pings)
            elif cmd[0] == "open":
                n, uri = int(cmd[1]), cmd[2]
                try:
                    for _ in range(n):
                        c = RawConn(path if len(cmd) < 4 else cmd[3])
                        c.handshake(None if uri == "-" else uri)
                        conns.append(c)
                        sel.register(c.sock, selectors.EVENT_READ, c)
                    reply("ok %d" % len(conns))
                except (OSError, RpcError) as e:
                    reply("err after %d connections: %s" % (len(conns), e))
