# lib.sh: helpers shared by selftest.sh and suite.sh, which run inside the xenlab dom0
# (sourced by bash). Results go to $RESULTS, one line per check:
#   PASS name | FAIL name: why | SKIP name: why      and, for the log, TIMING name N.Ns
RESULTS=${RESULTS:-/mnt/share/results.txt}
TAG=${TAG:-}                      # prefix of every result name, e.g. "libvirtd/"
GUEST_KERNEL=/opt/xenlab/guest/vmlinuz
GUEST_INITRD=/opt/xenlab/guest/initrd.gz
CONSOLE_LOGS=/var/log/xen/console
WORK=${WORK:-/tmp/xenlab-work}
mkdir -p "$WORK"

result() { echo "$*" >> "$RESULTS"; echo "$*"; }
pass() { result "PASS $TAG$1"; }
fail() { result "FAIL $TAG$1: $2"; }
skip() { result "SKIP $TAG$1: $2"; }
# check NAME WHY-IF-FAILED CMD...: PASS if CMD succeeds, else FAIL with the reason.
# (Its locals have odd names: CMD is often an eval of the caller's variables.)
check() {
	local _check_name=$1 _check_why=$2
	shift 2
	if "$@"; then pass "$_check_name"; else fail "$_check_name" "$_check_why"; fi
}

uptime_s() { local u _; read -r u _ < /proc/uptime; echo "$u"; }
# since T0: seconds since uptime T0, one decimal
since() { awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }'; }
timing() { result "TIMING $TAG$1 $2s"; }

# wait_until SECONDS CMD...: runs CMD every second until it succeeds; 1 on timeout.
wait_until() {
	local _wait_limit=$1 _wait_t0=$SECONDS
	shift
	while :; do
		"$@" && return 0
		[ $((SECONDS - _wait_t0)) -ge "$_wait_limit" ] && return 1
		sleep 1
	done
}

# --- Xen side (xl is the reference) ------------------------------------------------------

# xl_info KEY: a field of `xl info`. Its output is kept in $WORK (each xl call costs about
# a second under emulation); free_memory, the only field that moves, is always fresh.
XL_INFO_CACHE=$WORK/xl-info.cache
xl_info() {
	if [ "$1" = free_memory ] || [ ! -s "$XL_INFO_CACHE" ]; then
		xl info > "$XL_INFO_CACHE.new" 2>/dev/null && mv -f "$XL_INFO_CACHE.new" "$XL_INFO_CACHE"
	fi
	awk -v k="$1" -F' *: *' '$1 == k { print $2; exit }' "$XL_INFO_CACHE"
}
xl_domid() { xl domid "$1" 2>/dev/null; }
xl_exists() { xl domid "$1" > /dev/null 2>&1; }
xl_gone() { ! xl_exists "$1"; }
# xl_state NAME: the six-letter state of `xl list` (r b p s c d), e.g. "-b----"
xl_state() { xl list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }'; }
xl_paused() { case $(xl_state "$1") in ??p*) return 0 ;; *) return 1 ;; esac; }
xl_running() { local s; s=$(xl_state "$1"); [ -n "$s" ] && case $s in ??p*) false ;; *) true ;; esac; }

# --- guest consoles (xenconsoled logs every guest console) --------------------------------

console_log() { echo "$CONSOLE_LOGS/guest-$1.log"; }
# console_lines NAME: how many lines the console log of NAME has now
console_lines() { local f; f=$(console_log "$1"); [ -f "$f" ] && wc -l < "$f" || echo 0; }
# console_has NAME PATTERN [AFTER]: PATTERN (grep -E) in the log after line AFTER
console_has() {
	local f
	f=$(console_log "$1")
	[ -f "$f" ] && tail -n +"$((${3:-0} + 1))" "$f" | tr -d '\r' | grep -qE "$2"
}
wait_console() { wait_until "$3" console_has "$1" "$2" "${4:-0}"; }

# guest_xml NAME pv|pvh idle|poweroff|crash [ON_POWEROFF] [ON_CRASH]: a libvirt domain
# of the test guest (the dom0 kernel + busybox initramfs, 128 MiB, 1 vCPU, no disk, no
# network). PVH guests get tsc_mode native: with the default mode QEMU's emulated SVM
# cannot emulate their RDTSCP and Xen kills them.
guest_xml() {
	local name=$1 type=$2 mode=$3 on_poweroff=${4:-destroy} on_crash=${5:-destroy}
	local os clock=""
	case $type in
	pv) os="<type arch='x86_64' machine='xenpv'>linux</type>" ;;
	pvh)
		os="<type arch='x86_64' machine='xenpvh'>xenpvh</type>"
		clock="<clock offset='utc'><timer name='tsc' mode='native'/></clock>"
		;;
	*) echo "guest_xml: unknown type $type" >&2; return 1 ;;
	esac
	cat <<-EOF
	<domain type='xen'>
	  <name>$name</name>
	  <memory unit='MiB'>128</memory>
	  <currentMemory unit='MiB'>128</currentMemory>
	  <vcpu>1</vcpu>
	  <os>
	    $os
	    <kernel>$GUEST_KERNEL</kernel>
	    <initrd>$GUEST_INITRD</initrd>
	    <cmdline>console=hvc0 quiet xenlab.mode=$mode</cmdline>
	  </os>
	  $clock
	  <on_poweroff>$on_poweroff</on_poweroff>
	  <on_reboot>restart</on_reboot>
	  <on_crash>$on_crash</on_crash>
	  <devices>
	    <console type='pty'><target type='xen' port='0'/></console>
	  </devices>
	</domain>
	EOF
}

# guest_cfg NAME pv|pvh idle|poweroff|crash [ON_POWEROFF] [ON_CRASH]: the same guest as
# an xl configuration
guest_cfg() {
	local name=$1 type=$2 mode=$3 on_poweroff=${4:-destroy} on_crash=${5:-destroy}
	cat <<-EOF
	name = "$name"
	type = "$type"
	kernel = "$GUEST_KERNEL"
	ramdisk = "$GUEST_INITRD"
	extra = "console=hvc0 quiet xenlab.mode=$mode"
	memory = 128
	vcpus = 1
	on_poweroff = "$on_poweroff"
	on_crash = "$on_crash"
	EOF
	[ "$type" = pvh ] && echo 'tsc_mode = "native"'
	return 0
}

# Leaves no guest behind (everything but Domain-0), whoever started it.
destroy_all_guests() {
	local id
	for id in $(xl list | awk 'NR > 1 && $2 != 0 { print $2 }'); do
		xl destroy "$id" > /dev/null 2>&1
	done
}

# Copies what helps to understand a failure into $1 (a folder in the share).
collect_logs() {
	local out=$1
	mkdir -p "$out"
	cp -r /var/log/xen /var/log/libvirt "$out/" 2>/dev/null
	xl dmesg > "$out/xl-dmesg.txt" 2>&1
	xl list > "$out/xl-list.txt" 2>&1
	cp "$WORK"/*.log "$WORK"/*.xml "$out/" 2>/dev/null
	return 0
}
