#!/bin/bash
# suite.sh: virtxend against the real Xen 4.17 hypervisor, driven by Debian's virsh, in
# one boot of the xenlab dom0 (check-xen starts it; it runs in the shared folder).
#
#   bash suite.sh [--daemon virtxend|libvirtd] [--bin PATH]
#     --daemon virtxend   (default) start our virtxend (--bin, default ./virtxend)
#     --daemon libvirtd   start Debian's libvirtd with only its Xen driver instead: the
#                         reference the suite itself is checked against
#     --skip-unserved     if the daemon does not come up serving xen:///system, report
#                         "SKIP virtxend-suite" (not yet usable) instead of a failure
#
# virsh -c xen:///system reaches virtxend through /run/libvirt/virtxend-sock (virsh's
# "auto" mode prefers that socket when it exists) and libvirtd through its legacy socket.
# A `virsh event --all --loop --timestamp` runs in the background for the whole suite;
# every step also checks the lifecycle events it must have caused. Results go to
# $RESULTS (lib.sh): PASS/FAIL/SKIP lines, plus TIMING lines.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

daemon=virtxend
bin=$PWD/virtxend
skip_unserved=0
while [ $# -gt 0 ]; do
	case $1 in
	--daemon) daemon=$2; shift ;;
	--bin) bin=$2; shift ;;
	--skip-unserved) skip_unserved=1 ;;
	*) echo "suite.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
LOGS=${LOGS:-$PWD/logs}/$daemon
URI=xen:///system
case $daemon in
virtxend)
	EXE=/usr/local/sbin/virtxend
	SOCK=/run/libvirt/virtxend-sock
	PIDFILE=/run/virtxend.pid
	CONF=/etc/libvirt/virtxend.conf
	;;
libvirtd)
	EXE=/usr/sbin/libvirtd
	SOCK=/run/libvirt/libvirt-sock
	PIDFILE=/run/libvirtd.pid
	CONF=/etc/libvirt/libvirtd-xenlab.conf
	TAG=${TAG:-libvirtd/}
	;;
*) echo "suite.sh: --daemon virtxend or libvirtd" >&2; exit 2 ;;
esac

# V ARGS...: virsh on our URI, quiet, bounded in time
V() { timeout 60 virsh -q -c "$URI" "$@"; }
# V1 ARGS...: the first non-empty line virsh prints
V1() { V "$@" 2>/dev/null | awk 'NF { print; exit }'; }
vstate() { V1 domstate "$1"; }
vexists() { V list --all --name 2>/dev/null | grep -qx "$1"; }
vgone() { ! vexists "$1"; }
# dominfo_field NAME FIELD [FILE]: e.g. dominfo_field pv1 "Max memory"; from FILE (the
# saved output of `virsh dominfo NAME`) if given
dominfo_field() {
	if [ -n "${3:-}" ]; then
		awk -F': *' -v k="$2" '$1 == k { print $2; exit }' "$3"
	else
		V dominfo "$1" 2>/dev/null | awk -F': *' -v k="$2" '$1 == k { print $2; exit }'
	fi
}
xpath() { xmllint --xpath "$1" "$2" 2>/dev/null; }
oneline() { tr '\n' ' ' | cut -c1-300; }

# --- the daemon ----------------------------------------------------------------------------

write_conf() {
	mkdir -p /etc/libvirt /var/log/libvirt
	cat > "$CONF" <<-EOF
	auth_unix_ro = "none"
	auth_unix_rw = "none"
	log_filters = "1:libxl 2:remote 2:daemon"
	log_outputs = "1:file:/var/log/libvirt/$daemon.log"
	EOF
}

# Under QEMU's TCG the emulated AMD CPU has no VME, and Xen hides SEP on AMD CPUs, so no
# CPU model of libvirt's cpu_map fits the host and Debian's libvirtd (9.0) refuses to load
# its Xen driver ("Cannot find suitable CPU model for given data"). For the reference
# daemon only, add a bare model that any x86 CPU fits: it changes nothing but the host
# CPU model name in the capabilities. The root file system is a -snapshot overlay.
CPU_MAP=/usr/share/libvirt/cpu_map
oracle_cpu_map() {
	local w0
	w0=$(xl_info hw_caps | cut -d: -f1)
	case $w0 in
	[0-9a-fA-F]*) ;;
	*) return 0 ;;
	esac
	[ $(( 0x$w0 & 2 )) = 0 ] || return 0
	[ -f "$CPU_MAP/index.xml" ] || return 0
	grep -q x86_xenlab-tcg.xml "$CPU_MAP/index.xml" && return 0
	echo "note: the host CPU has no vme (hw_caps $w0): adding model xenlab-tcg to libvirtd's cpu_map" >&2
	cat > "$CPU_MAP/x86_xenlab-tcg.xml" <<-EOF
	<cpus>
	  <model name='xenlab-tcg'>
	    <decode host='on' guest='off'/>
	    <feature name='fpu'/>
	  </model>
	</cpus>
	EOF
	sed -i "s|<include filename='x86_486.xml'/>|&\n    <include filename='x86_xenlab-tcg.xml'/>|" "$CPU_MAP/index.xml"
}

start_daemon() {
	rm -f "$SOCK"
	local -a env=()
	if [ "$daemon" = libvirtd ]; then
		# only the Xen driver: the other drivers Debian ships would fail without their
		# users and tools, and take libvirtd down with them
		mkdir -p "$WORK/drivers"
		ln -sf /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_libxl.so \
			"$WORK/drivers/"
		env=(LIBVIRT_DRIVER_DIR="$WORK/drivers")
		oracle_cpu_map
	fi
	if ! env "${env[@]}" "$EXE" -d -f "$CONF" -p "$PIDFILE" > "$WORK/$daemon-start.log" 2>&1; then
		echo "$EXE -d exited $?: $(oneline < "$WORK/$daemon-start.log")"
		return 1
	fi
	if ! wait_until 60 test -S "$SOCK"; then
		echo "no socket $SOCK 60 s after start: $(oneline < "$WORK/$daemon-start.log")"
		return 1
	fi
	if ! wait_until 30 V uri > /dev/null 2>&1; then
		echo "$SOCK exists but virsh cannot connect: $(V uri 2>&1 | oneline)"
		return 1
	fi
}

stop_daemon() {
	local pid
	pid=$(cat "$PIDFILE" 2>/dev/null)
	case $pid in
	'' | *[!0-9]*) echo "no pid in $PIDFILE"; return 1 ;;
	esac
	kill -TERM "$pid" 2>/dev/null
	wait_until 30 sh -c "! kill -0 $pid 2>/dev/null" || { echo "pid $pid still runs 30 s after SIGTERM"; return 1; }
}

# --- lifecycle events ------------------------------------------------------------------------
# One `virsh event` monitor per daemon instance: the connection ends with the daemon.

EVLOG=""
EVPID=""
EVN=0
# ev_mark: a position in the event log; events after it belong to the next step
ev_mark() { [ -f "$EVLOG" ] && wc -l < "$EVLOG" || echo 0; }
# ev_list MARK: the lifecycle events after MARK, one "DOMAIN EVENT DETAIL" per line
ev_list() {
	tail -n +"$(($1 + 1))" "$EVLOG" 2>/dev/null |
		sed -n "s/^.*event 'lifecycle' for domain '\([^']*\)': \(.*\)$/\1 \2/p"
}
# ev_seen MARK DOMAIN EVENT...: these events of DOMAIN came after MARK, in this order
ev_seen() {
	local mark=$1 dom=$2 line i=0
	shift 2
	local -a want=("$@")
	while IFS= read -r line; do
		[ "$line" = "$dom ${want[$i]}" ] && i=$((i + 1))
		[ $i -ge ${#want[@]} ] && return 0
	done < <(ev_list "$mark")
	return 1
}
ev_alive() { [ -n "$EVPID" ] && kill -0 "$EVPID" 2>/dev/null; }
# expect_events TEST MARK DOMAIN EVENT...: result line "TEST-event"
expect_events() {
	local test=$1 mark=$2 dom=$3
	shift 3
	if ! ev_alive; then
		fail "$test-event" "the event monitor is not running"
	elif wait_until 20 ev_seen "$mark" "$dom" "$@"; then
		pass "$test-event"
	else
		fail "$test-event" "expected '$(IFS=,; echo "$*")' for $dom; saw: $(ev_list "$mark" | grep "^$dom " | oneline)"
	fi
}

start_events() {
	local mark
	EVN=$((EVN + 1))
	EVLOG=$WORK/events-$EVN.log
	: > "$EVLOG"
	stdbuf -oL -eL virsh -c "$URI" event --all --loop --timestamp >> "$EVLOG" 2>&1 &
	EVPID=$!
	sleep 2
	if ! ev_alive; then
		fail "events-all-$EVN" "virsh event --all exited: $(oneline < "$EVLOG")"
		echo "  falling back to --event lifecycle"
		: > "$EVLOG"
		stdbuf -oL -eL virsh -c "$URI" event --event lifecycle --loop --timestamp >> "$EVLOG" 2>&1 &
		EVPID=$!
		sleep 2
		ev_alive || { fail "events-lifecycle-$EVN" "virsh event exited: $(oneline < "$EVLOG")"; EVPID=""; return; }
	fi
	# prove the monitor is registered: define and undefine a domain nobody starts
	mark=$(ev_mark)
	guest_xml evprobe pv idle > "$WORK/evprobe.xml"
	V define "$WORK/evprobe.xml" > /dev/null 2>&1
	V undefine evprobe > /dev/null 2>&1
	if wait_until 20 ev_seen "$mark" evprobe "Defined Added" "Undefined Removed"; then
		pass "events-live-$EVN"
	else
		fail "events-live-$EVN" "no Defined/Undefined events for evprobe: $(oneline < "$EVLOG")"
	fi
}

stop_events() {
	[ -n "$EVPID" ] && kill "$EVPID" 2>/dev/null
	wait "$EVPID" 2>/dev/null
	EVPID=""
}

# --- host checks -----------------------------------------------------------------------------

t_connect() {
	local u
	u=$(V1 uri)
	[ "$u" = "$URI" ] && { pass connect; return 0; }
	fail connect "virsh uri said '$u' $(V uri 2>&1 | oneline)"
	return 1
}

t_version() {
	local out want
	out=$(V version 2>&1)
	want="$(xl_info xen_major).$(xl_info xen_minor)"
	if echo "$out" | grep -qE "^Running hypervisor: Xen ${want//./\\.}\.[0-9]+$"; then
		pass version
	else
		fail version "expected 'Running hypervisor: Xen $want.N', got: $(echo "$out" | oneline)"
	fi
	check hostname "virsh hostname '$(V1 hostname)' != '$(hostname)'" \
		test "$(V1 hostname)" = "$(hostname)"
}

t_nodeinfo() {
	local out why="" f
	out=$(V nodeinfo 2>&1) || { fail nodeinfo "$(echo "$out" | oneline)"; return; }
	f() { echo "$out" | awk -F': *' -v k="$1" '$1 == k { print $2; exit }'; }
	[ "$(f 'CPU(s)')" = "$(xl_info nr_cpus)" ] || why+="CPU(s) $(f 'CPU(s)') != nr_cpus $(xl_info nr_cpus); "
	[ "$(f 'Thread(s) per core')" = "$(xl_info threads_per_core)" ] ||
		why+="threads $(f 'Thread(s) per core') != $(xl_info threads_per_core); "
	[ "$(f 'Core(s) per socket')" = "$(xl_info cores_per_socket)" ] ||
		why+="cores $(f 'Core(s) per socket') != $(xl_info cores_per_socket); "
	[ "$(f 'NUMA cell(s)')" = "$(xl_info nr_nodes)" ] || why+="cells $(f 'NUMA cell(s)') != $(xl_info nr_nodes); "
	local mhz=$(f 'CPU frequency') mem=$(f 'Memory size')
	[ "${mhz% MHz}" = "$(xl_info cpu_mhz | cut -d. -f1)" ] || why+="frequency $mhz != $(xl_info cpu_mhz); "
	mem=${mem% KiB}
	[ "$((${mem:-0} / 1024))" = "$(xl_info total_memory)" ] ||
		why+="memory $mem KiB != total_memory $(xl_info total_memory) MiB; "
	[ "$(f 'CPU model')" = x86_64 ] || why+="CPU model $(f 'CPU model') != x86_64; "
	[ -z "$why" ] && pass nodeinfo || fail nodeinfo "$why"
	# free memory (virNodeGetFreeMemory: `virsh freecell` says "Total: N KiB") moves a
	# little: within 64 MiB of xl's
	local free xlfree
	free=$(V1 freecell | awk '$1 == "Total:" && $3 == "KiB" { print $2 }')
	xlfree=$(xl_info free_memory)
	case $free in
	'' | *[!0-9]*) free=-1 ;;
	esac
	if [ "$free" -ge 0 ] && [ $((free / 1024 - xlfree)) -le 64 ] && [ $((xlfree - free / 1024)) -le 64 ]; then
		pass freemem
	else
		fail freemem "virsh freecell '$(V freecell 2>&1 | oneline)' vs xl free_memory $xlfree MiB"
	fi
}

# The guests capabilities must list exactly what Xen's xen_caps allow: a PV guest per
# xen-3.0-ARCH, an HVM guest per hvm-3.0-ARCH (x86_32 and x86_32p are both i686), and a
# PVH guest for each HVM architecture.
t_capabilities() {
	local caps=$WORK/capabilities.xml tok arch want="" got="" i n why=""
	V capabilities > "$caps" 2>&1 || { fail capabilities "$(oneline < "$caps")"; return; }
	for tok in $(xl_info xen_caps); do
		case $tok in
		*-x86_64) arch=x86_64 ;;
		*-x86_32 | *-x86_32p) arch=i686 ;;
		*) continue ;;
		esac
		case $tok in
		xen-*) want+="xen/$arch " ;;
		hvm-*) want+="hvm/$arch xenpvh/$arch " ;;
		esac
	done
	want=$(echo $want | tr ' ' '\n' | sort -u | tr '\n' ' ')
	n=$(xpath 'count(/capabilities/guest)' "$caps")
	for i in $(seq 1 "${n:-0}"); do
		got+="$(xpath "string(/capabilities/guest[$i]/os_type)" "$caps")/$(xpath "string(/capabilities/guest[$i]/arch/@name)" "$caps") "
	done
	got=$(echo $got | tr ' ' '\n' | sort -u | tr '\n' ' ')
	[ "$want" = "$got" ] || why+="guests [$got] != [$want] from xen_caps; "
	[ "$(xpath 'count(/capabilities/guest[not(arch/domain/@type="xen")])' "$caps")" = 0 ] ||
		why+="a guest without <domain type='xen'/>; "
	[ "$(xpath 'string(/capabilities/host/cpu/arch)' "$caps")" = x86_64 ] || why+="host arch is not x86_64; "
	if [ "$(xpath 'count(/capabilities/host/cpu/topology)' "$caps")" = 1 ]; then
		[ "$(xpath 'string(/capabilities/host/cpu/topology/@cores)' "$caps")" = "$(xl_info cores_per_socket)" ] ||
			why+="topology cores != cores_per_socket; "
		[ "$(xpath 'string(/capabilities/host/cpu/topology/@threads)' "$caps")" = "$(xl_info threads_per_core)" ] ||
			why+="topology threads != threads_per_core; "
	fi
	[ -z "$why" ] && pass capabilities || fail capabilities "$why"
}

t_dom0() {
	local line why="" vcpus mem
	line=$(V list --all 2>/dev/null | awk '$2 == "Domain-0" { print $1, $3 }')
	[ "$line" = "0 running" ] || why+="virsh list --all: Domain-0 is '$line', not '0 running'; "
	vcpus=$(xl list Domain-0 | awk 'NR == 2 { print $4 }')
	mem=$(xl list Domain-0 | awk 'NR == 2 { print $3 }')
	[ "$(dominfo_field Domain-0 'CPU(s)')" = "$vcpus" ] ||
		why+="dominfo CPU(s) $(dominfo_field Domain-0 'CPU(s)') != xl $vcpus; "
	local used
	used=$(dominfo_field Domain-0 'Used memory')
	used=${used% KiB}
	[ -n "$used" ] && [ $((used / 1024 - mem)) -le 1 ] && [ $((mem - used / 1024)) -le 1 ] ||
		why+="dominfo used memory '$used' KiB != xl $mem MiB; "
	[ -z "$why" ] && pass domain-0 || fail domain-0 "$why"
}

# --- guests ----------------------------------------------------------------------------------

# start_ok NAME: virsh and xl agree that NAME runs, with the same id
start_ok() {
	local id
	id=$(xl_domid "$1")
	[ -n "$id" ] && [ "$(V1 domid "$1")" = "$id" ] && [ "$(vstate "$1")" = running ]
}

t_console() {  # NAME LIVEXML
	local name=$1 xml=$2 tty out=$WORK/console-$1.out
	tty=$(xpath 'string(/domain/devices/console[1]/@tty)' "$xml")
	[ -n "$tty" ] || tty=$(xpath 'string(/domain/devices/console[1]/source/@path)' "$xml")
	if [ -c "$tty" ]; then
		timeout 8 cat "$tty" > "$WORK/pty-$name.out" 2>&1
		check console-pty "no DOMU-TICK read from $tty in 8 s" grep -q DOMU-TICK "$WORK/pty-$name.out"
	else
		fail console-pty "the live XML has no console pty ('$tty')"
	fi
	# virsh console needs a terminal: script(1) gives it one; type a line, then ^]
	{ sleep 4; printf 'xenlab-ping\r'; sleep 5; printf '\035'; sleep 1; } |
		timeout 40 script -qfec "virsh -c $URI console $name --force" /dev/null > "$out" 2>&1
	if tr -d '\r' < "$out" | grep -q '^DOMU-ECHO:xenlab-ping'; then
		pass console-virsh
	elif grep -q DOMU-TICK "$out"; then
		fail console-virsh "guest output arrived but the typed line was not echoed"
	else
		fail console-virsh "$(tr -d '\r' < "$out" | oneline)"
	fi
}

t_restart() {  # NAME ID: the daemon is restarted while NAME runs and must find it again
	local name=$1 id=$2 t0 why
	stop_events
	t0=$(uptime_s)
	if ! why=$(stop_daemon); then
		fail daemon-restart "$why"
		return 1
	fi
	xl_exists "$name" || fail daemon-stop-keeps-guest "$name is gone after the daemon stopped"
	if ! why=$(start_daemon); then
		fail daemon-restart "$why"
		return 1
	fi
	timing daemon-restart "$(since "$t0")"
	if [ "$(V1 domid "$name")" = "$id" ] && [ "$(vstate "$name")" = running ]; then
		pass daemon-restart
	else
		fail daemon-restart "after restart $name has id '$(V1 domid "$name")' (was $id), state '$(vstate "$name")'"
	fi
	start_events
}

# A persistent PV guest through its whole life, with a daemon restart in the middle.
t_pv_lifecycle() {
	local name=pv1 xml=$WORK/pv1.xml live=$WORK/pv1-live.xml mark t0 id out n why line
	guest_xml $name pv idle > "$xml"

	mark=$(ev_mark)
	t0=$(uptime_s)
	if ! out=$(V define "$xml" 2>&1); then fail pv-define "$(echo "$out" | oneline)"; return; fi
	timing pv-define "$(since "$t0")"
	check pv-define "after define: state '$(vstate $name)', listed: $(vexists $name && echo yes || echo no)" \
		eval 'vexists $name && [ "$(vstate $name)" = "shut off" ]'
	expect_events pv-define "$mark" $name "Defined Added"

	mark=$(ev_mark)
	t0=$(uptime_s)
	if ! out=$(V start $name 2>&1); then
		fail pv-start "$(echo "$out" | oneline)"
		V undefine $name > /dev/null 2>&1
		return
	fi
	timing pv-start "$(since "$t0")"
	id=$(xl_domid $name)
	check pv-start "virsh says id '$(V1 domid $name)' state '$(vstate $name)', xl says id '$id'" start_ok $name
	expect_events pv-start "$mark" $name "Started Booted"
	t0=$(uptime_s)
	if wait_console $name DOMU-HELLO 150; then
		pass pv-guest-boots
		timing pv-guest-init "$(since "$t0")"
	else
		fail pv-guest-boots "no DOMU-HELLO on the console in 150 s"
	fi

	line=$(V list 2>/dev/null | awk -v n=$name '$2 == n { print $1, $3 }')
	check pv-list "virsh list shows '$line', expected '$id running'" test "$line" = "$id running"

	why=""
	local di=$WORK/$name-dominfo.txt
	V dominfo $name > "$di" 2>&1 || why+="dominfo failed: $(oneline < "$di"); "
	[ "$(dominfo_field $name Id "$di")" = "$id" ] || why+="Id $(dominfo_field $name Id "$di"); "
	[ "$(dominfo_field $name State "$di")" = running ] || why+="State $(dominfo_field $name State "$di"); "
	[ "$(dominfo_field $name 'CPU(s)' "$di")" = 1 ] || why+="CPU(s) $(dominfo_field $name 'CPU(s)' "$di"); "
	[ "$(dominfo_field $name 'Max memory' "$di")" = "131072 KiB" ] ||
		why+="Max memory $(dominfo_field $name 'Max memory' "$di"); "
	[ "$(dominfo_field $name Persistent "$di")" = yes ] || why+="Persistent $(dominfo_field $name Persistent "$di"); "
	[ "$(dominfo_field $name UUID "$di")" = "$(V1 domuuid $name)" ] || why+="UUID; "
	[ -z "$why" ] && pass pv-dominfo || fail pv-dominfo "$why"

	why=""
	V dumpxml $name > "$live" 2>&1 || why+="dumpxml failed: $(oneline < "$live"); "
	[ "$(xpath 'string(/domain/@id)' "$live")" = "$id" ] || why+="id='$(xpath 'string(/domain/@id)' "$live")'; "
	[ "$(xpath 'string(/domain/name)' "$live")" = $name ] || why+="name; "
	[ "$(xpath 'string(/domain/os/kernel)' "$live")" = "$GUEST_KERNEL" ] || why+="kernel; "
	[ "$(xpath 'string(/domain/on_poweroff)' "$live")" = destroy ] || why+="on_poweroff; "
	[ "$(xpath 'count(/domain/devices/console)' "$live")" -ge 1 ] 2>/dev/null || why+="no console; "
	[ -z "$why" ] && pass pv-dumpxml-live || fail pv-dumpxml-live "$why"

	t_console $name "$live"

	t_restart $name "$id" || return

	mark=$(ev_mark)
	if out=$(V suspend $name 2>&1) && [ "$(vstate $name)" = paused ] && xl_paused $name; then
		pass pv-suspend
	else
		fail pv-suspend "$(echo "$out" | oneline) virsh state '$(vstate $name)', xl state '$(xl_state $name)'"
	fi
	expect_events pv-suspend "$mark" $name "Suspended Paused"

	mark=$(ev_mark)
	n=$(console_lines $name)
	if out=$(V resume $name 2>&1) && [ "$(vstate $name)" = running ] && ! xl_paused $name &&
		wait_console $name DOMU-TICK 20 "$n"; then
		pass pv-resume
	else
		fail pv-resume "$(echo "$out" | oneline) virsh state '$(vstate $name)', xl state '$(xl_state $name)'"
	fi
	expect_events pv-resume "$mark" $name "Resumed Unpaused"

	mark=$(ev_mark)
	n=$(console_lines $name)
	t0=$(uptime_s)
	if ! out=$(V shutdown $name 2>&1); then
		fail pv-shutdown "$(echo "$out" | oneline)"
	elif wait_until 90 eval '[ "$(vstate $name)" = "shut off" ] && xl_gone $name'; then
		timing pv-shutdown "$(since "$t0")"
		check pv-shutdown "the guest did not run its poweroff (no DOMU-SHUTDOWN-REQUEST)" \
			console_has $name DOMU-SHUTDOWN-REQUEST "$n"
		check pv-stays-defined "not listed after shutdown" vexists $name
	else
		fail pv-shutdown "90 s after shutdown: virsh state '$(vstate $name)', xl state '$(xl_state $name)'"
		V destroy $name > /dev/null 2>&1
	fi
	expect_events pv-shutdown "$mark" $name "Stopped Shutdown"

	mark=$(ev_mark)
	if out=$(V undefine $name 2>&1) && vgone $name; then
		pass pv-undefine
	else
		fail pv-undefine "$(echo "$out" | oneline)"
	fi
	expect_events pv-undefine "$mark" $name "Undefined Removed"
}

# A transient PV guest: create, then destroy.
t_pv_transient() {
	local name=pv2 mark out t0
	guest_xml $name pv idle > "$WORK/$name.xml"
	mark=$(ev_mark)
	t0=$(uptime_s)
	if ! out=$(V create "$WORK/$name.xml" 2>&1); then fail pv-create "$(echo "$out" | oneline)"; return; fi
	timing pv-create "$(since "$t0")"
	check pv-create "virsh says id '$(V1 domid $name)' state '$(vstate $name)', xl id '$(xl_domid $name)'; persistent '$(dominfo_field $name Persistent)'" \
		eval 'start_ok $name && [ "$(dominfo_field $name Persistent)" = no ]'
	expect_events pv-create "$mark" $name "Started Booted"
	wait_console $name DOMU-HELLO 150 || fail pv-create-boots "no DOMU-HELLO on the console in 150 s"

	mark=$(ev_mark)
	t0=$(uptime_s)
	if out=$(V destroy $name 2>&1) && wait_until 30 xl_gone $name && vgone $name; then
		pass pv-destroy
		timing pv-destroy "$(since "$t0")"
	else
		fail pv-destroy "$(echo "$out" | oneline) xl state '$(xl_state $name)', listed: $(vexists $name && echo yes || echo no)"
	fi
	expect_events pv-destroy "$mark" $name "Stopped Destroyed"
}

# The guest powers itself off: on_poweroff destroy.
t_on_poweroff() {
	local name=pvoff mark out
	guest_xml $name pv poweroff destroy destroy > "$WORK/$name.xml"
	V define "$WORK/$name.xml" > /dev/null 2>&1 || { fail on-poweroff-destroy "define failed"; return; }
	mark=$(ev_mark)
	if ! out=$(V start $name 2>&1); then
		fail on-poweroff-destroy "start: $(echo "$out" | oneline)"
	elif wait_until 150 eval '[ "$(vstate $name)" = "shut off" ] && xl_gone $name'; then
		check on-poweroff-destroy "shut off, but the guest never printed DOMU-POWEROFF" \
			console_has $name DOMU-POWEROFF
		out=$(V domstate --reason $name 2>&1 | awk 'NF { print; exit }')
		check on-poweroff-reason "domstate --reason says '$out'" test "$out" = "shut off (shutdown)"
	else
		fail on-poweroff-destroy "after 150 s: virsh state '$(vstate $name)', xl state '$(xl_state $name)'"
		V destroy $name > /dev/null 2>&1
	fi
	expect_events on-poweroff "$mark" $name "Started Booted" "Stopped Shutdown"
	V undefine $name > /dev/null 2>&1
}

# The guest crashes: on_crash restart gives a new domain (new id) that boots again.
t_on_crash() {
	local name=pvcrash mark out id1 i
	guest_xml $name pv crash destroy restart > "$WORK/$name.xml"
	mark=$(ev_mark)
	if ! out=$(V create "$WORK/$name.xml" 2>&1); then fail on-crash-restart "create: $(echo "$out" | oneline)"; return; fi
	id1=$(xl_domid $name)
	restarted() {
		local id
		id=$(xl_domid $name)
		[ -n "$id" ] && [ "$id" != "$id1" ] && [ "$(V1 domid $name)" = "$id" ] && [ "$(vstate $name)" = running ]
	}
	if wait_until 180 restarted; then
		check on-crash-restart "restarted, but the guest never printed DOMU-CRASH" console_has $name DOMU-CRASH
	else
		fail on-crash-restart "first id $id1; now xl id '$(xl_domid $name)', virsh id '$(V1 domid $name)' state '$(vstate $name)'"
	fi
	expect_events on-crash "$mark" $name "Started Booted" "Stopped Crashed" "Started Booted"
	# it crashes again at every boot: destroy it (a try may meet a restart in progress)
	for i in 1 2 3 4 5; do
		V destroy $name > /dev/null 2>&1
		wait_until 10 eval 'vgone $name && xl_gone $name' && break
	done
	check on-crash-cleanup "$name survives destroy" eval 'vgone $name && xl_gone $name'
}

# A PVH guest with <timer name='tsc' mode='native'/>: libvirt maps it to tsc_mode native.
t_pvh() {
	local name=pvh1 mark out live=$WORK/pvh1-live.xml t0
	guest_xml $name pvh idle > "$WORK/$name.xml"
	mark=$(ev_mark)
	t0=$(uptime_s)
	if ! out=$(V create "$WORK/$name.xml" 2>&1); then fail pvh-create "$(echo "$out" | oneline)"; return; fi
	timing pvh-create "$(since "$t0")"
	check pvh-create "virsh says id '$(V1 domid $name)' state '$(vstate $name)', xl id '$(xl_domid $name)'" start_ok $name
	expect_events pvh-create "$mark" $name "Started Booted"
	t0=$(uptime_s)
	if wait_console $name DOMU-HELLO 150; then
		pass pvh-guest-boots
		timing pvh-guest-init "$(since "$t0")"
	else
		fail pvh-guest-boots "no DOMU-HELLO in 150 s; xl state '$(xl_state $name)'"
	fi
	xl list -l $name > "$WORK/$name-libxl.json" 2>&1
	check pvh-tsc-native "libxl's config of $name has no tsc_mode native" \
		grep -qE '"tsc_mode": *"native"' "$WORK/$name-libxl.json"
	check pvh-libxl-type "libxl's config of $name is not type pvh" \
		grep -qE '"type": *"pvh"' "$WORK/$name-libxl.json"
	V dumpxml $name > "$live" 2>&1
	check pvh-dumpxml-live "os type '$(xpath 'string(/domain/os/type)' "$live")', tsc timer '$(xpath "string(/domain/clock/timer[@name='tsc']/@mode)" "$live")'" \
		eval '[ "$(xpath "string(/domain/os/type)" "$live")" = xenpvh ] && [ "$(xpath "string(/domain/clock/timer[@name='"'"'tsc'"'"']/@mode)" "$live")" = native ]'
	mark=$(ev_mark)
	if out=$(V destroy $name 2>&1) && wait_until 30 xl_gone $name && vgone $name; then
		pass pvh-destroy
	else
		fail pvh-destroy "$(echo "$out" | oneline)"
	fi
	expect_events pvh-destroy "$mark" $name "Stopped Destroyed"
}

# --- main --------------------------------------------------------------------------------------

suite_t0=$(uptime_s)
echo "suite: daemon $daemon, results in $RESULTS"
if [ "$daemon" = virtxend ]; then
	if [ ! -x "$bin" ]; then
		fail daemon-start "no virtxend binary at $bin"
		exit 1
	fi
	install -m 0755 "$bin" "$EXE"
	# a library the image lacks is the harness's problem, never "not usable yet"
	missing=$(ldd "$EXE" 2>&1 | awk '/not found/ { printf "%s ", $1 }')
	if [ -n "$missing" ]; then
		fail daemon-libraries "the image lacks libraries virtxend needs: $missing(add their packages to DOM0_PKGS in t/xen/xenlab)"
		exit 1
	fi
fi
write_conf
t0=$(uptime_s)
if ! why=$(start_daemon); then
	collect_logs "$LOGS"
	if [ $skip_unserved = 1 ]; then
		TAG="" skip virtxend-suite "$daemon is not usable yet: it does not serve $URI ($why)"
		[ -f "$PIDFILE" ] && kill -TERM "$(cat "$PIDFILE")" 2>/dev/null
		exit 0
	fi
	fail daemon-start "$why"
	exit 1
fi
timing daemon-start "$(since "$t0")"
pass daemon-start

if t_connect; then
	start_events
	t_version
	t_nodeinfo
	t_capabilities
	t_dom0
	t_pv_lifecycle
	t_pv_transient
	t_on_poweroff
	t_on_crash
	if grep -q '^virt_caps .*\bhap\b' < <(xl info); then t_pvh; else skip pvh "Xen has no hap"; fi
	if ev_alive; then pass events-monitor-survives; else fail events-monitor-survives "virsh event exited: $(tail -n 3 "$EVLOG" | oneline)"; fi
	stop_events
fi
# leave nothing defined behind for the next daemon (the state directories are shared)
for dom in $(V list --all --name 2>/dev/null); do
	[ "$dom" = Domain-0 ] && continue
	fail leftover "$dom is still defined at the end of the suite"
	V destroy "$dom" > /dev/null 2>&1
	V undefine "$dom" > /dev/null 2>&1
done
why=$(stop_daemon) && pass daemon-stop || fail daemon-stop "$why"
collect_logs "$LOGS"
destroy_all_guests
timing suite "$(since "$suite_t0")"
exit 0
