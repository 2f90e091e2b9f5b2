#!/bin/bash
# go-libvirt's own integration suite (Debian's golang-github-digitalocean-go-libvirt-dev, its
# sources untouched, built offline with Debian's go) run three ways, with Debian's libvirtd as
# root in system mode (qemu:///system) inside private namespaces (t/lib-netns.sh):
#   1. straight to libvirtd's TCP listener: the baseline, every test must pass;
#   2. through our virtproxyd's TCP listener (127.0.0.1:16509, auth_tcp = "none");
#   3. through virtproxyd's UNIX socket: the suite dials only 127.0.0.1:16509, so socat joins
#      that port to the socket (every frame still goes through virtproxyd's UNIX listener).
# Through virtproxyd every test must pass too, except those needing a driver that runs inside
# the daemon process (IN_PROCESS below, listed in the README), which must fail with our error.
# Prints one line per test and transport; exit status 0 only if all is as expected.
set -eu
NS_NAME=golibvirt
NS_TOTAL=${GOLIBVIRT_TIMEOUT:-420}
. "$(dirname "$0")/lib-netns.sh"
ns_enter "$@"

GOSRC=/usr/share/gocode/src/github.com/digitalocean/go-libvirt
# test:///default: libvirt's test driver lives in the client library or the monolithic libvirtd;
# no daemon socket serves it, so virtproxyd answers with this error (src/remote/sockets.rs).
IN_PROCESS="TestConnectToURIIntegration"
IN_PROCESS_ERROR="served by a driver that runs inside libvirt's own processes"

[ -f "$GOSRC/libvirt_integration_test.go" ] || ns_die "no $GOSRC: install golang-github-digitalocean-go-libvirt-dev"
TESTS=$(sed -n 's/^func \(Test[A-Za-z0-9_]*\)(t \*testing\.T).*/\1/p' "$GOSRC/libvirt_integration_test.go")
[ -n "$TESTS" ] || ns_die "no test found in $GOSRC/libvirt_integration_test.go"

t0=$(date +%s)
# Offline: GOPATH mode, no module proxy, and no network in this namespace anyway.
ns_timeout 240 env GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= GOENV=off \
    GOCACHE="$WORK/gocache" go test -c -tags integration -o "$WORK/golibvirt.test" \
    github.com/digitalocean/go-libvirt >"$WORK/go-build.log" 2>&1 ||
    ns_die "building go-libvirt's tests: $(tail -n 5 "$WORK/go-build.log")"
ns_log "go-libvirt's integration tests built in $(($(date +%s) - t0)) s ($(echo "$TESTS" | wc -l) tests)"

# What go-libvirt's tests expect on the daemon (its CI's set-up, from its testdata): domain
# "test" defined (never started), secret 19fdc2f2-... defined, dir pool "test" (/tmp, here a
# private tmpfs) active and not autostarted.
fixtures() {
    # The domain and the secret are persistent (they survive libvirtd's restarts); the pool is not.
    ns_virsh -q -c qemu:///system domuuid test >/dev/null 2>&1 ||
        ns_virsh -q -c qemu:///system define "$GOSRC/testdata/test-domain.xml" >/dev/null
    ns_virsh -q -c qemu:///system secret-dumpxml 19fdc2f2-fa64-46f3-bacf-42a8aafca6dd >/dev/null 2>&1 ||
        ns_virsh -q -c qemu:///system secret-define "$GOSRC/testdata/test-secret.xml" >/dev/null
    rm -f /tmp/testvol
    ns_virsh -q -c qemu:///system pool-info test >/dev/null 2>&1 ||
        ns_virsh -q -c qemu:///system pool-create "$GOSRC/testdata/test-pool.xml" >/dev/null
}

failures=0
# run_suite LABEL EXPECT: EXPECT "all" (every test passes) or "proxy" (IN_PROCESS tests fail
# with our error).
run_suite() {
    local label=$1 expect=$2 out=$WORK/go-$1.out t1 name status secs msg verdict pass=0 bad=0
    local pattern
    pattern="^($(echo "$TESTS" | paste -sd '|'))\$"
    t1=$(date +%s)
    (cd "$GOSRC" && ns_timeout 180 "$WORK/golibvirt.test" -test.v -test.count=1 -test.timeout=150s \
        -test.run "$pattern") >"$out" 2>&1 || true
    for name in $TESTS; do
        status=$(sed -n "s/^ *--- \(PASS\|FAIL\|SKIP\): $name (\(.*\))\$/\1 \2/p" "$out" | head -n 1)
        [ -n "$status" ] || status="NORESULT -"
        secs=${status#* }
        status=${status%% *}
        # The first message the test logged (file.go:LINE: text).
        msg=$(awk -v n="$name" '$0 ~ "^=== (RUN|CONT) +"n"$" {on=1; next}
                                 /^(=== |--- )/ {on=0}
                                 on && /^ +[A-Za-z0-9_]+\.go:[0-9]+: / {sub(/^ +/, ""); print; exit}' "$out")
        verdict=ok
        if [ "$expect" = proxy ] && echo " $IN_PROCESS " | grep -q " $name "; then
            if [ "$status" = FAIL ] && echo "$msg" | grep -qF "$IN_PROCESS_ERROR"; then
                verdict="ok, expected: in-process driver"
            else
                verdict="UNEXPECTED: wanted virtproxyd's in-process-driver error"
            fi
        elif [ "$status" != PASS ]; then
            verdict=UNEXPECTED
        fi
        case $verdict in
        ok*) pass=$((pass + 1)) ;;
        *) bad=$((bad + 1)) ;;
        esac
        printf 'golibvirt %-10s %-8s %-42s %6s %s%s\n' "$label" "$status" "$name" "$secs" "[$verdict]" "${msg:+ $msg}"
    done
    ns_log "$label: $pass as expected, $bad not, in $(($(date +%s) - t1)) s"
    if [ "$bad" -ne 0 ]; then
        failures=$((failures + bad))
        grep -E -A 3 '^panic:|test timed out' "$out" | head -n 20 || true
    fi
}

# 1. Straight to libvirtd (TCP, auth none).
t1=$(date +%s)
libvirtd_start tcp
fixtures
ns_log "libvirtd (system mode, root) up with go-libvirt's fixtures in $(($(date +%s) - t1)) s"
run_suite direct all

# 2. Through virtproxyd's TCP listener; libvirtd now on its UNIX sockets only.
ns_stop "$LIBVIRTD_PID"
libvirtd_start
fixtures
proxy_start tcp
run_suite proxy-tcp proxy

# 3. Through virtproxyd's UNIX socket.
ns_stop "$PROXY_PID"
proxy_start
ns_bg socat socat TCP-LISTEN:16509,bind=127.0.0.1,reuseaddr,fork "UNIX-CONNECT:$PROXY_SOCK_DIR/libvirt-sock"
ns_wait 10 ns_tcp_open 127.0.0.1 16509 || ns_die "socat did not listen on 127.0.0.1:16509"
fixtures
run_suite proxy-unix proxy

ns_log "total $(($(date +%s) - t0)) s"
if [ "$failures" -ne 0 ]; then
    ns_die "$failures unexpected result(s), each with the first message go test logged for it"
fi
ns_log "all as expected"
