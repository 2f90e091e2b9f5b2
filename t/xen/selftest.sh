#!/bin/bash
# selftest.sh: proves the xenlab harness itself, inside the xenlab dom0, without virtxend:
# the real hypervisor answers `xl`, a libxl client built on the host runs here, virsh is
# present and looks for virtxend's socket, and the test guest behaves as the suite
# expects under xl (PV and PVH boot, a shutdown request, its own poweroff and crash).
#
#   bash selftest.sh [--quick] [--probe PATH]
#     --quick     only the checks without guests (a few seconds)
#     --probe P   the host-built libxl probe (default: ./libxlprobe in the share)
# Results go to $RESULTS (see lib.sh).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

quick=0
probe=$PWD/libxlprobe
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--probe) probe=$2; shift ;;
	*) echo "selftest.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
TAG=${TAG:-selftest/}

# --- the hypervisor and the host-built libxl client ---------------------------------------
t0=$(uptime_s)
if xl info > "$WORK/xl-info.txt" 2>&1; then
	timing xl-info "$(since "$t0")"
	ver="$(xl_info xen_major).$(xl_info xen_minor)$(xl_info xen_extra)"
	case $ver in
	4.17.*) pass xl-info ;;
	*) fail xl-info "xl info reports Xen '$ver', expected 4.17.x" ;;
	esac
	check hap "virt_caps '$(xl_info virt_caps)' lacks hap: PVH guests cannot run (XENLAB_CPU?)" \
		grep -q '^virt_caps .*\bhap\b' "$WORK/xl-info.txt"
else
	fail xl-info "$(tail -n 3 "$WORK/xl-info.txt" | tr '\n' ' ')"
fi

# probe_matches: the probe's facts agree with xl's, and it lists Domain-0 (and $1 if given)
probe_matches() {
	local out=$WORK/probe.txt want why=""
	"$WORK/libxlprobe" > "$out" 2> "$WORK/probe.err" || {
		echo "the probe failed: $(tr '\n' ' ' < "$WORK/probe.err")"; return 1; }
	pv() { awk -v k="$1" '$1 == k { print $2; exit }' "$out"; }
	want="$(xl_info xen_major).$(xl_info xen_minor)$(xl_info xen_extra)"
	[ "$(pv xen_version)" = "$want" ] || why+="xen_version $(pv xen_version) != $want; "
	[ "$(pv nr_cpus)" = "$(xl_info nr_cpus)" ] || why+="nr_cpus $(pv nr_cpus) != $(xl_info nr_cpus); "
	[ "$(pv xen_caps)" = "$(xl_info xen_caps | awk '{ print $1 }')" ] ||
		why+="xen_caps $(pv xen_caps) != $(xl_info xen_caps | awk '{ print $1 }'); "
	grep -q '^domain 0 Domain-0 ' "$out" || why+="Domain-0 not listed; "
	if [ -n "${1:-}" ]; then
		grep -q "^domain $(xl_domid "$1") $1 " "$out" || why+="domain $1 not listed; "
	fi
	[ -z "$why" ] || { echo "$why"; return 1; }
}

if [ -x "$probe" ]; then
	cp "$probe" "$WORK/libxlprobe"
	if why=$(probe_matches); then
		pass libxl-probe
		sed 's/^/  probe: /' "$WORK/probe.txt"
	else
		fail libxl-probe "$why"
	fi
else
	skip libxl-probe "no probe at $probe (the host needs gcc and libxen-dev)"
fi

# --- virsh in dom0 ------------------------------------------------------------------------
if v=$(virsh --version 2>&1); then
	pass "virsh-present"
	echo "  virsh $v"
	# virsh's "auto" mode dials virtxend's socket when that exists, else libvirtd's: put
	# a dead socket file there and see virsh try it.
	mkdir -p /run/libvirt
	rm -f /run/libvirt/virtxend-sock
	: > /run/libvirt/virtxend-sock
	err=$(timeout 30 virsh -c xen:///system uri 2>&1)
	rm -f /run/libvirt/virtxend-sock
	case $err in
	*"/run/libvirt/virtxend-sock"*) pass virsh-dials-virtxend-sock ;;
	*) fail virsh-dials-virtxend-sock "virsh -c xen:///system said: $(echo "$err" | tr '\n' ' ')" ;;
	esac
else
	fail virsh-present "virsh --version: $v"
fi

[ $quick = 1 ] && exit 0

# --- the test guest under xl ----------------------------------------------------------------
# xl_guest NAME TYPE: create an idle guest, see it boot, see the probe list it, ask it to
# shut down (PV) or destroy it (PVH)
xl_guest() {
	local name=$1 type=$2 t0 n
	guest_cfg "$name" "$type" idle > "$WORK/$name.cfg"
	t0=$(uptime_s)
	if ! xl create "$WORK/$name.cfg" > "$WORK/$name.create.log" 2>&1; then
		fail "xl-$type" "xl create: $(tail -n 3 "$WORK/$name.create.log" | tr '\n' ' ')"
		return
	fi
	timing "xl-$type-create" "$(since "$t0")"
	t0=$(uptime_s)
	if ! wait_console "$name" DOMU-HELLO 150; then
		fail "xl-$type" "no DOMU-HELLO on the console in 150 s; state '$(xl_state "$name")'"
		xl destroy "$name" > /dev/null 2>&1
		return
	fi
	timing "xl-$type-guest-init" "$(since "$t0")"
	wait_console "$name" DOMU-TICK 20 || { fail "xl-$type" "the guest prints no ticks"; return; }
	if [ -x "$WORK/libxlprobe" ]; then
		if why=$(probe_matches "$name"); then pass "libxl-probe-sees-$type"; else
			fail "libxl-probe-sees-$type" "$why"; fi
	fi
	t0=$(uptime_s)
	if [ "$type" = pv ]; then
		n=$(console_lines "$name")
		xl shutdown "$name" > /dev/null 2>&1
		if wait_until 60 xl_gone "$name"; then
			timing "xl-$type-shutdown" "$(since "$t0")"
			check xl-pv-shutdown-request "the guest went away without running /sbin/poweroff" \
				console_has "$name" DOMU-SHUTDOWN-REQUEST "$n"
		else
			fail xl-pv-shutdown-request "still there 60 s after xl shutdown"
			xl destroy "$name" > /dev/null 2>&1
		fi
	else
		xl destroy "$name" > /dev/null 2>&1
		timing "xl-$type-destroy" "$(since "$t0")"
	fi
	check "xl-$type" "$name still exists" wait_until 10 xl_gone "$name"
}

xl_guest tinypv pv
if grep -q '^virt_caps .*\bhap\b' "$WORK/xl-info.txt"; then
	xl_guest tinypvh pvh
else
	skip xl-pvh "no hap"
fi

# The guest's own poweroff and crash, with xl's on_poweroff/on_crash handling: destroy
# after poweroff, preserve after a crash (the domain stays, marked crashed).
guest_cfg offpv pv poweroff destroy destroy > "$WORK/offpv.cfg"
guest_cfg crashpv pv crash destroy preserve > "$WORK/crashpv.cfg"
t0=$(uptime_s)
xl create "$WORK/offpv.cfg" > "$WORK/offpv.create.log" 2>&1 &&
	xl create "$WORK/crashpv.cfg" > "$WORK/crashpv.create.log" 2>&1
timing xl-create-two "$(since "$t0")"
crashed() { case $(xl_state crashpv) in ????c*) return 0 ;; *) return 1 ;; esac; }
if wait_until 150 xl_gone offpv; then
	check guest-poweroff "gone, but DOMU-POWEROFF is not on its console" console_has offpv DOMU-POWEROFF
else
	fail guest-poweroff "offpv still exists (state '$(xl_state offpv)')"
fi
if wait_until 150 crashed; then
	check guest-crash "crashed, but DOMU-CRASH is not on its console" console_has crashpv DOMU-CRASH
else
	fail guest-crash "crashpv is not crashed (state '$(xl_state crashpv)')"
fi
timing xl-poweroff-and-crash "$(since "$t0")"
collect_logs "${LOGS:-$PWD/logs}/selftest"
destroy_all_guests
check no-guest-left "$(xl list | awk 'NR > 2' | tr '\n' ' ')" \
	wait_until 20 sh -c '[ "$(xl list | wc -l)" = 2 ]'
exit 0
