#!/bin/bash
# Wireshark's view of virtproxyd: Debian's tshark with libvirt's own dissector
# (libvirt-wireshark) reads a varied virsh run (list, define, dumpxml, an error, events while
# defining and undefining, plain and sparse volume upload/download streams) made through
# virtproxyd's TCP listener (127.0.0.1:16509, auth_tcp = "none") with Debian's libvirtd (root,
# system mode) behind it, all in private namespaces (t/lib-netns.sh). The same run straight to
# libvirtd's TCP listener is the baseline. Checked on the capture through virtproxyd:
#   - libvirt frames of every kind the run made (calls, replies, an error, events, stream data
#     and holes), and the same set of (program, procedure, type, status) as the baseline;
#   - no payload the dissector cannot decode (it shows those as "unknown" bytes, unmarked);
#   - no malformed frame and no expert error, except one known defect of the dissector itself:
#     libvirt's dissect_libvirt_stream() gives stream data the length "payload - 28", so a
#     stream data packet with fewer than 28 bytes of data throws (libvirtd sends such packets
#     in every volume download: 262120 + 24 bytes per 256 KiB read); the baseline shows them too.
set -eu
NS_NAME=wireshark
NS_TOTAL=${WIRESHARK_TIMEOUT:-300}
. "$(dirname "$0")/lib-netns.sh"
ns_enter "$@"

t0=$(date +%s)
PORT=16509
URI=qemu+tcp://127.0.0.1/system
# Every virsh connection is counted, to know when the capture holds them all.
v() {
    echo >>"$WORK/connections"
    ns_virsh -q -c "$URI" "$@"
}

cat >"$WORK/dom.xml" <<'EOF'
<domain type='qemu'>
  <name>wsdemo</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices>
</domain>
EOF
head -c 3145728 /dev/urandom >"$WORK/up.bin"
# Sparse: 1 MiB of data between two 1 MiB holes.
truncate -s 3M "$WORK/sparse.bin"
head -c 1048576 /dev/urandom | dd of="$WORK/sparse.bin" bs=1M seek=1 conv=notrunc status=none

# ts CAPTURE ARGS...: tshark reading a capture, bounded.
ts() { ns_timeout 120 tshark -n -r "$@" 2>>"$WORK/tshark-read.log"; }
count() { ts "$1" -Y "$2" | wc -l; }

# virsh_run LABEL: the varied virsh run against $URI, captured into $WORK/LABEL.pcapng.
virsh_run() {
    local label=$1 cap=$WORK/$1.pcapng n events_pid tshark_pid t1
    t1=$(date +%s)
    : >"$WORK/connections"
    # -P -l: a line per packet as soon as it is in the file (see capture_live, capture_holds).
    ns_bg "tshark-$label" tshark -n -B 64 -i lo -f "tcp port $PORT or udp port 9" -w "$cap" -P -l -T fields \
        -e tcp.dstport -e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.fin -e tcp.flags.reset -e udp.dstport
    tshark_pid=$NS_LAST_PID
    ns_wait 30 capture_live "$WORK/tshark-$label.log" || ns_die "$label: tshark did not start capturing"

    v list --all >/dev/null
    v version >/dev/null
    v dominfo no-such-domain >/dev/null 2>&1 && ns_die "$label: dominfo of a missing domain succeeded"
    echo >>"$WORK/connections"
    # stdbuf execs virsh: the SIGINT below reaches virsh alone, once (timeout would send it twice).
    ns_bg "events-$label" stdbuf -oL virsh -c "$URI" event --all --loop
    events_pid=$NS_LAST_PID
    # The event client registers in its own time: define and undefine until it reports events.
    n=0
    until grep -q "wsdemo" "$WORK/events-$label.log"; do
        [ "$n" -lt 50 ] || ns_die "$label: no domain event reached virsh event --all"
        n=$((n + 1))
        v define "$WORK/dom.xml" >/dev/null
        v undefine wsdemo >/dev/null
        sleep 0.2
    done
    v define "$WORK/dom.xml" >/dev/null
    v dumpxml wsdemo | grep -q "<name>wsdemo</name>" || ns_die "$label: dumpxml wsdemo"
    v dumpxml --inactive --security-info wsdemo >/dev/null
    v domstate wsdemo >/dev/null
    v undefine wsdemo >/dev/null
    ns_wait 10 grep -q "Undefined" "$WORK/events-$label.log" || ns_die "$label: no Undefined event"
    kill -INT "$events_pid"
    ns_wait_gone "$events_pid" 10 || ns_die "$label: virsh event did not end on SIGINT"
    ns_forget "$events_pid"

    rm -rf "$WORK/pool" "$WORK"/down*.bin
    mkdir -p "$WORK/pool"
    v pool-create-as wspool dir --target "$WORK/pool" >/dev/null
    v vol-create-as wspool vol1 3M --format raw >/dev/null
    v vol-upload --pool wspool vol1 "$WORK/up.bin"
    v vol-download --pool wspool vol1 "$WORK/down.bin"
    cmp -s "$WORK/up.bin" "$WORK/down.bin" || ns_die "$label: vol-download returned other bytes than vol-upload sent"
    # Into a fresh volume: a hole skips what is under it.
    v vol-create-as wspool vol2 3M --format raw >/dev/null
    v vol-upload --sparse --pool wspool vol2 "$WORK/sparse.bin"
    v vol-download --sparse --pool wspool vol2 "$WORK/down-sparse.bin"
    cmp -s "$WORK/sparse.bin" "$WORK/down-sparse.bin" || ns_die "$label: sparse vol-download differs from the upload"
    v vol-list wspool >/dev/null
    v pool-destroy wspool >/dev/null

    # dumpcap hands packets over in blocks: wait until the file holds the opening and the
    # closing of every connection before stopping it.
    n=$(wc -l <"$WORK/connections")
    ns_wait 20 capture_holds "$WORK/tshark-$label.log" "$n" || ns_die "$label: the capture lacks some of the $n connections"
    kill -INT "$tshark_pid"
    ns_wait_gone "$tshark_pid" 20 || ns_die "$label: tshark did not stop"
    ns_forget "$tshark_pid"
    ns_log "$label: virsh run ($n connections) captured in $(($(date +%s) - t1)) s"
}

# capture_live LOG: a datagram to the discard port shows in tshark's lines ("Capturing on" comes
# before the capture really runs: the first connections were missed).
capture_live() {
    echo probe 2>/dev/null >/dev/udp/127.0.0.1/9
    awk -F'\t' '$6 == 9 { found = 1 } END { exit !found }' "$1"
}

# capture_holds LOG N: tshark's lines show N connections opened and N closed by clients.
capture_holds() {
    awk -v p="$PORT" -v n="$2" -F'\t' '$1 == p && $2 == 1 && $3 == 0 { syn++ }
        $1 == p && ($4 == 1 || $5 == 1) { end++ } END { exit !(syn >= n && end >= n) }' "$1"
}

# messages CAPTURE: one line per libvirt message, "PROGRAM PROCEDURE TYPE STATUS" by the
# dissector's names (from its PDML: the Info column shows only some messages of a frame).
messages() {
    ts "$1" -Y libvirt -T pdml -J libvirt |
        sed -n 's/.*<field name="libvirt\.\(program\|procedure\|type\|status\)" showname="[a-z]*: \([^ "]*\).*/\1 \2/p' |
        awk '{ v[$1] = $2 } $1 == "status" { print v["program"], v["procedure"], v["type"], v["status"]; delete v }'
}

# check LABEL: counts and checks of $WORK/LABEL.pcapng; sets BAD (unexplained problems).
check() {
    local label=$1 cap=$WORK/$1.pcapng frames lv mal dissector_bug other_err undecoded procs
    frames=$(ts "$cap" | wc -l)
    lv=$(count "$cap" libvirt)
    mal=$(count "$cap" _ws.malformed)
    # Malformed frames explained by the dissector's short-stream defect: one malformed mark
    # per stream data packet (type 3, status CONTINUE) shorter than 28 + 28 bytes.
    ts "$cap" -Y _ws.malformed -T fields -E occurrence=a -e frame.number -e libvirt.type \
        -e libvirt.status -e libvirt.length -e _ws.expert.severity >"$WORK/$label-malformed.txt"
    dissector_bug=$(awk -F'\t' '{
            nt = split($2, t, ","); split($3, s, ","); split($4, l, ",")
            short = 0
            for (i = 1; i <= nt; i++) if (t[i] == 3 && s[i] == 2 && l[i] > 28 && l[i] < 56) short++
            nm = gsub(/8388608/, "", $5)
            if (nm <= short) n++
        } END { print n + 0 }' "$WORK/$label-malformed.txt")
    other_err=$(count "$cap" "_ws.expert.severity == error && !_ws.malformed")
    # A payload the dissector cannot decode by libvirt's XDR types is shown as "unknown" bytes,
    # without any expert mark.
    undecoded=$(count "$cap" libvirt.unknown)
    messages "$cap" | grep -v '^KEEPALIVE ' | sort -u >"$WORK/$label-messages.txt"
    procs=$(cut -d' ' -f1,2 "$WORK/$label-messages.txt" | sort -u | wc -l)
    ns_log "$label: frames=$frames libvirt=$lv procedures=$procs malformed=$((mal - dissector_bug)) (+$dissector_bug from the dissector's short-stream defect) expert_errors=$other_err undecoded=$undecoded"
    BAD=0
    [ "$lv" -gt 0 ] || { echo "$label: no libvirt frame decoded" >&2; BAD=1; }
    if [ "$undecoded" -ne 0 ]; then
        echo "$label: payloads the dissector could not decode:" >&2
        ts "$cap" -Y libvirt.unknown | head -n 20 >&2
        BAD=1
    fi
    if [ "$mal" -ne "$dissector_bug" ] || [ "$other_err" -ne 0 ]; then
        echo "$label: malformed frames or expert errors not explained by the dissector defect:" >&2
        ts "$cap" -Y "_ws.expert.severity == error" | head -n 20 >&2
        BAD=1
    fi
}

# The run straight to libvirtd (baseline), then through virtproxyd.
libvirtd_start tcp
virsh_run direct
check direct
[ "$BAD" -eq 0 ] || ns_log "direct: (baseline) problems above are libvirtd's or the dissector's"
ns_stop "$LIBVIRTD_PID"
libvirtd_start
proxy_start tcp
virsh_run proxy
check proxy
fail=$BAD

# Every kind of message the run makes, decoded by name.
for want in "REMOTE CONNECT_OPEN CALL OK" "REMOTE CONNECT_LIST_ALL_DOMAINS REPLY OK" \
    "REMOTE DOMAIN_DEFINE_XML REPLY OK" "REMOTE DOMAIN_GET_XML_DESC REPLY OK" \
    "REMOTE DOMAIN_LOOKUP_BY_NAME REPLY ERROR" "REMOTE CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY REPLY OK" \
    "REMOTE DOMAIN_EVENT_CALLBACK_LIFECYCLE MESSAGE OK" "REMOTE STORAGE_VOL_UPLOAD STREAM CONTINUE" \
    "REMOTE STORAGE_VOL_UPLOAD STREAM_HOLE CONTINUE" "REMOTE STORAGE_VOL_DOWNLOAD STREAM CONTINUE" \
    "REMOTE STORAGE_VOL_DOWNLOAD STREAM_HOLE CONTINUE" "REMOTE STORAGE_VOL_DOWNLOAD STREAM OK" \
    "REMOTE STORAGE_POOL_DESTROY REPLY OK"; do
    grep -qx "$want" "$WORK/proxy-messages.txt" || { echo "proxy: no '$want' message decoded" >&2; fail=1; }
done
# The same kinds of message as libvirtd's own.
if ! diff -u "$WORK/direct-messages.txt" "$WORK/proxy-messages.txt" >"$WORK/messages.diff"; then
    echo "proxy: the messages differ from the baseline (- libvirtd, + virtproxyd):" >&2
    grep '^[-+][A-Z]' "$WORK/messages.diff" >&2
    fail=1
fi
if [ -n "${WIRESHARK_KEEP:-}" ]; then
    mkdir -p "$WIRESHARK_KEEP" && cp "$WORK"/*.pcapng "$WORK"/*.txt "$WIRESHARK_KEEP"/
fi
ns_log "total $(($(date +%s) - t0)) s"
[ "$fail" -eq 0 ] || ns_die "the capture through virtproxyd does not decode cleanly"
ns_log "ok: $(wc -l <"$WORK/proxy-messages.txt") kinds of message decoded through virtproxyd, as through libvirtd"
