# Sourced by t/golibvirt.sh and t/wireshark.sh (bash): runs the calling script again inside
# private mount, network and PID namespaces, with Debian's libvirtd as root in system mode
# (qemu:///system) and our virtproxyd in front of it, so that nothing on the host is touched:
#   - /run, /tmp, /dev/shm, /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt are fresh tmpfs;
#   - /etc/libvirt is a writable copy of the host's (from libvirt-daemon-system);
#   - the network namespace has only its own loopback, so 127.0.0.1:16509 is ours alone, and
#     its own /sys;
#   - every process started here is in the PID namespace: when its first process (the script)
#     ends, for whatever reason, the kernel kills all the others.
# The whole run is bounded by `timeout` ($NS_TOTAL seconds) and every wait below is bounded.
# The virtproxyd tested is $VIRTPROXYD (default: the release build of this tree).
#
# Usage, at the top of a script:
#   NS_NAME=golibvirt NS_TOTAL=300; . "$(dirname "$0")/lib-netns.sh"; ns_enter "$@"
# After ns_enter, the script runs inside the namespaces with $WORK (a directory removed at the
# end, where every daemon's log is kept: their tails are printed on failure), HOME and TMPDIR
# inside it, and the functions below.

NS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VIRTPROXYD=${VIRTPROXYD:-$NS_REPO/target/release/virtproxyd}
# The sockets of the monolithic libvirtd, and the per-driver names virtproxyd dials for
# system URIs (src/remote/sockets.rs: /run/libvirt/virt<drv>d-sock, -sock-ro for read-only clients).
LIBVIRTD_SOCK=/run/libvirt/libvirt-sock
NS_DRIVERS="qemu network storage secret nodedev interface nwfilter"
NS_PIDS=""

ns_log() { printf '%s: %s\n' "$NS_NAME" "$*"; }
ns_die() {
    printf '%s: FAIL: %s\n' "$NS_NAME" "$*" >&2
    exit 1
}

# On the host: re-run "$0" inside the namespaces, remove $WORK afterwards, exit with its status.
ns_enter() {
    if [ -n "${VIRTLITE_NS_WORK:-}" ]; then
        ns_inside
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || ns_die "needs root (libvirtd in system mode, namespaces)"
    [ -x "$VIRTPROXYD" ] || ns_die "no $VIRTPROXYD: run cargo build --release --features xen --bins"
    local work rc
    work=$(mktemp -d "${TMPDIR:-/tmp}/virtlite-$NS_NAME.XXXXXX")
    chmod 755 "$work"
    # The binary under test goes with $WORK: its own path may be hidden by the private /tmp.
    cp "$VIRTPROXYD" "$work/virtproxyd"
    # This script is the namespace's first process (it reaps orphans, as libvirtd's daemonized
    # QEMU probes become: a non-reaping init left them as zombies that libvirtd waited for). A
    # watchdog in it stops the run at the deadline (see ns_inside); the outer timeout is a
    # safety net that kills unshare, whose child then gets SIGKILL (--kill-child).
    rc=0
    SECONDS=0
    VIRTLITE_NS_WORK=$work timeout -k 5 $((NS_TOTAL + 30)) \
        unshare --mount --net --pid --fork --kill-child --mount-proc --propagation private \
        bash "$0" "$@" || rc=$?
    if [ -e "$work/deadline" ] || [ "$SECONDS" -ge $((NS_TOTAL + 30)) ]; then
        printf '%s: FAIL: stopped at the deadline of %s s\n' "$NS_NAME" "$NS_TOTAL" >&2
        [ "$rc" -ne 0 ] || rc=1
    fi
    # The namespaces are gone with their last process; their tmpfs mounts with them.
    rm -rf "$work"
    exit "$rc"
}

# Inside: private /run and /tmp, libvirt's state directories, loopback up. $WORK is seen as
# /run/virtlite-work (the host's directory, bind-mounted: it survives the private /tmp).
ns_inside() {
    trap ns_cleanup EXIT
    trap 'exit 143' TERM INT
    WORK=$VIRTLITE_NS_WORK
    ip link set lo up || ns_die "cannot bring up lo in the network namespace"
    # sysfs of this network namespace: libvirtd's node-device driver sees lo, not the host's NICs.
    mount -t sysfs "sysfs-$NS_NAME" /sys || ns_die "cannot mount sysfs"
    mount -t tmpfs -o mode=0755 "tmpfs-$NS_NAME" /run || ns_die "cannot mount a tmpfs on /run"
    mkdir -p /run/virtlite-work /run/libvirt /run/lock
    mount --bind "$WORK" /run/virtlite-work || ns_die "cannot bind-mount $WORK"
    WORK=/run/virtlite-work
    # The watchdog: at the deadline, TERM to the whole process group (this script, its
    # foreground command, the daemons); the trap then stops what is left and prints the logs.
    (
        sleep "$NS_TOTAL"
        : >"$WORK/deadline"
        kill -TERM 0
    ) &
    NS_WATCHDOG=$!
    VIRTPROXYD=$WORK/virtproxyd
    # Nothing from the caller's environment steers the daemons or the clients.
    unset VIRTLITE_ROOT LIBVIRT_DEFAULT_URI LIBVIRT_DEBUG LIBVIRT_LOG_OUTPUTS LIBVIRT_LOG_FILTERS XDG_RUNTIME_DIR
    local d
    for d in /tmp /dev/shm /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
        mkdir -p "$d"
        mount -t tmpfs -o mode=1777 "tmpfs-$NS_NAME" "$d" || ns_die "cannot mount a tmpfs on $d"
    done
    chmod 755 /var/lib/libvirt /var/cache/libvirt /var/log/libvirt
    export HOME=$WORK/home TMPDIR=$WORK/tmp
    mkdir -p "$HOME" "$TMPDIR"
    [ -f /etc/libvirt/libvirtd.conf ] || ns_die "no /etc/libvirt/libvirtd.conf: install libvirt-daemon-system"
    cp -a /etc/libvirt "$WORK/etc-libvirt"
    mount --bind "$WORK/etc-libvirt" /etc/libvirt || ns_die "cannot bind-mount /etc/libvirt"
    # No autostarted default network (it would want dnsmasq and a bridge).
    rm -f /etc/libvirt/qemu/networks/autostart/*.xml
}

ns_cleanup() {
    local rc=$? p deadline=$((SECONDS + 5))
    trap - TERM INT
    [ -z "${NS_WATCHDOG:-}" ] || kill "$NS_WATCHDOG" 2>/dev/null
    for p in $NS_PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $NS_PIDS; do
        ns_wait_gone "$p" $((deadline - SECONDS)) || kill -KILL "$p" 2>/dev/null
    done
    if [ "$rc" -ne 0 ]; then
        for p in "$WORK"/*.log; do
            [ -s "$p" ] || continue
            echo "--- last lines of $(basename "$p")" >&2
            tail -n 25 "$p" >&2
        done
    fi
    exit "$rc"
}

# ns_wait_gone PID SECONDS: true once PID has exited (reaped if it is our child).
ns_wait_gone() {
    local deadline=$((SECONDS + $2))
    while kill -0 "$1" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
    wait "$1" 2>/dev/null
    return 0
}

# ns_wait SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds; false at the deadline.
ns_wait() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

ns_tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
ns_unix_open() { socat -u OPEN:/dev/null "UNIX-CONNECT:$1" 2>/dev/null; }

# ns_bg NAME COMMAND...: runs COMMAND in the background, output to $WORK/NAME.log; its pid is
# in $NS_LAST_PID and is stopped at the end.
ns_bg() {
    local name=$1
    shift
    : >"$WORK/$name.log"
    "$@" >>"$WORK/$name.log" 2>&1 </dev/null &
    NS_LAST_PID=$!
    NS_PIDS="$NS_PIDS $NS_LAST_PID"
}

# ns_forget PID: a process that has ended need not be stopped at the end.
ns_forget() { NS_PIDS=$(echo "$NS_PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' '); }

# ns_stop PID: TERM, then KILL after 10 s.
ns_stop() {
    kill -TERM "$1" 2>/dev/null
    ns_wait_gone "$1" 10 || { kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
    ns_forget "$1"
}

# libvirtd_start [tcp]: Debian's libvirtd as root, system mode; with "tcp" it also listens on
# 127.0.0.1:16509 without authentication. The per-driver socket names virtproxyd dials lead to
# its socket, as the modular daemons' sockets would.
libvirtd_start() {
    local conf=$WORK/libvirtd.conf listen=""
    {
        echo 'listen_tls = 0'
        echo 'log_outputs = "3:stderr"'
        if [ "${1:-}" = tcp ]; then
            echo 'listen_tcp = 1'
            echo 'listen_addr = "127.0.0.1"'
            echo 'auth_tcp = "none"'
        fi
    } >"$conf"
    [ "${1:-}" = tcp ] && listen=--listen
    ns_bg libvirtd libvirtd $listen -f "$conf" -p "$WORK/libvirtd.pid"
    LIBVIRTD_PID=$NS_LAST_PID
    ns_wait 30 ns_unix_open "$LIBVIRTD_SOCK" || ns_die "libvirtd did not listen on $LIBVIRTD_SOCK"
    if [ "${1:-}" = tcp ]; then
        ns_wait 30 ns_tcp_open 127.0.0.1 16509 || ns_die "libvirtd did not listen on 127.0.0.1:16509"
    fi
    local drv
    for drv in $NS_DRIVERS; do
        ln -sf libvirt-sock "/run/libvirt/virt${drv}d-sock"
        ln -sf libvirt-sock-ro "/run/libvirt/virt${drv}d-sock-ro"
    done
}

# proxy_start [tcp]: our virtproxyd as root, its sockets in $WORK/psock (libvirtd has
# /run/libvirt/libvirt-sock); with "tcp" also on 127.0.0.1:16509, auth_tcp = "none".
PROXY_SOCK_DIR=
proxy_start() {
    PROXY_SOCK_DIR=$WORK/psock
    mkdir -p "$PROXY_SOCK_DIR"
    local conf=$WORK/virtproxyd.conf
    {
        echo "unix_sock_dir = \"$PROXY_SOCK_DIR\""
        echo 'listen_tls = 0'
        echo 'log_outputs = "3:stderr"'
        if [ "${1:-}" = tcp ]; then
            echo 'listen_tcp = 1'
            echo 'listen_addr = "127.0.0.1"'
            echo 'auth_tcp = "none"'
        fi
    } >"$conf"
    "$VIRTPROXYD" --check-config -f "$conf" >"$WORK/check-config.out" 2>&1 ||
        ns_die "virtproxyd --check-config: $(cat "$WORK/check-config.out")"
    ns_bg virtproxyd "$VIRTPROXYD" -f "$conf" -p "$WORK/virtproxyd.pid"
    PROXY_PID=$NS_LAST_PID
    ns_wait 30 ns_unix_open "$PROXY_SOCK_DIR/libvirt-sock" ||
        ns_die "virtproxyd did not listen on $PROXY_SOCK_DIR/libvirt-sock"
    if [ "${1:-}" = tcp ]; then
        ns_wait 30 ns_tcp_open 127.0.0.1 16509 || ns_die "virtproxyd did not listen on 127.0.0.1:16509"
    fi
}

# ns_timeout SECONDS COMMAND...: COMMAND bounded in time, in the script's process group so that
# the deadline of the whole run reaches it too (then the script's trap runs at once).
ns_timeout() { timeout --foreground -k 5 "$@"; }

# ns_virsh ARGS...: virsh, bounded to 60 s.
ns_virsh() {
    local rc=0
    ns_timeout 60 virsh "$@" || rc=$?
    [ "$rc" -ne 124 ] || echo "$NS_NAME: virsh $*: no answer in 60 s" >&2
    return "$rc"
}
