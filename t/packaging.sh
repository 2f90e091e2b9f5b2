#!/usr/bin/env bash
# t/packaging.sh: checks the packaging: what "make install" puts where (modes,
# substituted paths), the Makefile's other targets, the shell syntax of the
# init scripts, the man pages (groff without warnings, every option and
# setting documented), the systemd units (systemd-analyze verify, if
# present), the OpenRC functions under shims, and a full LSB init script
# cycle (checkconfig/start/status/reload/restart/stop...) against a stub
# daemon that mimics -d, -p and --check-config.
#
# Prints one line per check and "N passed, N failed, N skipped" at the end;
# exits non-zero if any check failed. Never touches the system: everything
# goes to a temporary directory.
#
# PACKAGING_DAEMON=/path/to/virtproxyd runs the LSB cycle against that binary
# instead of the stub (its sockets go to the temporary directory); the
# stub-only checks are then skipped.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/packaging.XXXXXX")
pass=0
fail=0
skip=0

cleanup() {
	local f p
	for f in "$tmp"/run/*.pid "$tmp"/state*/default.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f" 2>/dev/null)
		case $p in '' | *[!0-9]*) continue ;; esac
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); echo "ok   $*"; }
nok() { fail=$((fail + 1)); echo "FAIL $*"; }
skipped() { skip=$((skip + 1)); echo "skip $*"; }
# check DESCRIPTION COMMAND...: one line, ok when COMMAND succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else nok "$desc"; return 1; fi
}
# check_rc DESCRIPTION WANT GOT
check_rc() {
	if [ "$2" = "$3" ]; then ok "$1"; else nok "$1 (exit status $3, want $2)"; return 1; fi
}
have() { command -v "$1" >/dev/null 2>&1; }
mode_of() { stat -c %a "$1" 2>/dev/null; }
has_line() { grep -qxF -- "$2" "$1" 2>/dev/null; }
has_text() { grep -qF -- "$2" "$1" 2>/dev/null; }

version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$top/Cargo.toml" | head -n 1)

# --- stub daemon and fake cargo ----------------------------------------------

mkdir -p "$tmp/bin" "$tmp/run" "$tmp/empty"
cat >"$tmp/bin/virtproxyd" <<'STUB'
#!/bin/sh
# Stub daemon: the command line, -d, the pidfile and --check-config of
# virtproxyd/virtxend; records its arguments and SIGHUPs in $STUB_STATE.
state=${STUB_STATE:?STUB_STATE is not set}
me=${0##*/}
args="$*"
daemon=no check=no child=no pidfile= config=
while [ $# -gt 0 ]; do
	case $1 in
	-d | --daemon) daemon=yes ;;
	-p | --pid-file) pidfile=$2; shift ;;
	-f | --config) config=$2; shift ;;
	-t | --timeout) shift ;;
	-v | --verbose) ;;
	--check-config) check=yes ;;
	--stub-child) child=yes ;;
	*) echo "$me: unexpected argument '$1'" >&2; exit 1 ;;
	esac
	shift
done
[ -n "$pidfile" ] || pidfile=$state/default.pid
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	[ "$(sed -e 's/^.*) //' -e 's/ .*//' "/proc/$1/stat")" != Z ] &&
		[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$me" ]
}
if [ $check = yes ]; then
	echo "$args" >>"$state/check-argv"
	[ -n "$config" ] || exit 0
	[ -r "$config" ] || { echo "$me: cannot read $config" >&2; exit 1; }
	n=0 bad=0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		case $line in *'"unterminated'*) echo "$config:$n: unterminated string" >&2; bad=1 ;; esac
	done <"$config"
	exit $bad
fi
if [ $child = yes ]; then
	printf '%s' $$ >"$pidfile"
	trap 'echo hup >>"$state/hups"' HUP
	if [ -n "${STUB_IGNORE_TERM:-}" ]; then
		trap '' TERM
	else
		trap 'rm -f "$pidfile"; exit 0' TERM INT QUIT
	fi
	while :; do
		sleep 1 &
		wait $!
	done
fi
[ $daemon = yes ] || { echo "$me: the stub needs -d" >&2; exit 1; }
echo "$args" >>"$state/argv"
if [ -n "${STUB_FAIL:-}" ]; then
	echo "$0: error: Unable to initialize network sockets. Check /var/log/messages or run without --daemon for more info." >&2
	exit 1
fi
old=$(cat "$pidfile" 2>/dev/null)
if [ -n "$old" ] && alive "$old"; then
	echo "$0: error: Unable to obtain pidfile. Check /var/log/messages or run without --daemon for more info." >&2
	exit 1
fi
"$0" --stub-child -p "$pidfile" </dev/null >/dev/null 2>&1 &
kid=$!
i=0
while [ $i -lt 100 ]; do
	[ "$(cat "$pidfile" 2>/dev/null)" = "$kid" ] && exit 0
	sleep 0.05
	i=$((i + 1))
done
exit 1
STUB
cp "$tmp/bin/virtproxyd" "$tmp/bin/virtxend"
chmod 0755 "$tmp/bin/virtproxyd" "$tmp/bin/virtxend"

cat >"$tmp/fakecargo" <<'FAKE'
#!/bin/sh
echo "VIRTLITE_SYSCONFDIR=${VIRTLITE_SYSCONFDIR-} VIRTLITE_RUNSTATEDIR=${VIRTLITE_RUNSTATEDIR-} $*" >>"$FAKECARGO_LOG"
FAKE
chmod 0755 "$tmp/fakecargo"

# mk LOGNAME ARGS...: runs make in the source tree, output to $tmp/LOGNAME.log.
mk() {
	local log=$1
	shift
	make -C "$top" --no-print-directory "$@" >"$tmp/$log.log" 2>&1
}

# --- sources -------------------------------------------------------------------

for f in conf/virtproxyd.conf conf/virtxend.conf conf/libxl.conf \
	conf/openrc/virtproxyd.initd conf/openrc/virtproxyd.confd \
	conf/openrc/virtxend.initd conf/openrc/virtxend.confd \
	conf/sysv/virtproxyd conf/sysv/virtxend conf/sysv/virtproxyd.default conf/sysv/virtxend.default \
	man/virtproxyd.8 man/virtxend.8 man/virtproxyd.conf.5 man/virtxend.conf.5 man/libxl.conf.5; do
	check "source $f exists" test -f "$top/$f"
done
if [ "$fail" -ne 0 ]; then
	echo "missing sources: every later check would fail too"
	echo "$pass passed, $fail failed, $skip skipped"
	exit 1
fi

# --- shell syntax --------------------------------------------------------------

for f in conf/sysv/virtproxyd conf/sysv/virtxend conf/sysv/virtproxyd.default conf/sysv/virtxend.default \
	conf/openrc/virtproxyd.initd conf/openrc/virtxend.initd conf/openrc/virtproxyd.confd conf/openrc/virtxend.confd; do
	check "sh -n $f" sh -n "$top/$f"
	if have dash; then
		check "dash -n $f" dash -n "$top/$f"
	fi
done
if have shellcheck; then
	check "shellcheck (POSIX sh) of the LSB scripts" shellcheck -s sh "$top/conf/sysv/virtproxyd" "$top/conf/sysv/virtxend"
	check "shellcheck of the OpenRC scripts and settings" shellcheck -s sh -e SC2034 \
		"$top"/conf/openrc/*.initd "$top"/conf/openrc/*.confd "$top"/conf/sysv/*.default
else
	skipped "shellcheck not installed"
fi

# --- make install: systemd + LSB, PREFIX=/usr -----------------------------------

d1=$tmp/d1
mk install1 install DESTDIR="$d1" PREFIX=/usr CARGO=false BINDIR_SRC="$tmp/bin" INIT_SYSTEMS="systemd sysv"
check_rc "make install DESTDIR PREFIX=/usr INIT_SYSTEMS='systemd sysv'" 0 $?

expected1="755 usr/sbin/virtproxyd
755 usr/sbin/virtxend
644 etc/libvirt/virtproxyd.conf
644 etc/libvirt/virtxend.conf
644 etc/libvirt/libxl.conf
644 usr/share/man/man8/virtproxyd.8
644 usr/share/man/man8/virtxend.8
644 usr/share/man/man5/virtproxyd.conf.5
644 usr/share/man/man5/virtxend.conf.5
644 usr/share/man/man5/libxl.conf.5
644 usr/lib/systemd/system/virtproxyd.service
644 usr/lib/systemd/system/virtproxyd.socket
644 usr/lib/systemd/system/virtproxyd-ro.socket
644 usr/lib/systemd/system/virtproxyd-admin.socket
644 usr/lib/systemd/system/virtproxyd-tcp.socket
644 usr/lib/systemd/system/virtproxyd-tls.socket
644 usr/lib/systemd/system/virtxend.service
644 usr/lib/systemd/system/virtxend.socket
644 usr/lib/systemd/system/virtxend-ro.socket
644 usr/lib/systemd/system/virtxend-admin.socket
755 etc/init.d/virtproxyd
755 etc/init.d/virtxend
644 etc/default/virtproxyd
644 etc/default/virtxend"

# files_are DIR LIST: every file of LIST is in DIR with its mode, and no other file.
files_are() {
	local dir=$1 list=$2 mode path bad=0
	while read -r mode path; do
		if [ "$(mode_of "$dir/$path")" != "$mode" ]; then
			echo "     $path: mode $(mode_of "$dir/$path" || echo missing), want $mode"
			bad=1
		fi
	done <<<"$list"
	local extra
	extra=$(cd "$dir" 2>/dev/null && find . -type f | sed 's|^\./||' | sort |
		comm -23 - <(cut -d' ' -f2 <<<"$list" | sort))
	if [ -n "$extra" ]; then
		echo "     unexpected: $extra"
		bad=1
	fi
	return $bad
}
check "DESTDIR holds exactly the 24 expected files with their modes" files_are "$d1" "$expected1"

no_placeholders() { ! grep -rlE '@[A-Z_]+@' "$1"; }
check "no @PLACEHOLDER@ left in installed files" no_placeholders "$d1"
check "binary installed is the one from BINDIR_SRC" cmp -s "$tmp/bin/virtproxyd" "$d1/usr/sbin/virtproxyd"

u=$d1/usr/lib/systemd/system
check "virtproxyd.service: ExecStart uses SBINDIR" has_line "$u/virtproxyd.service" 'ExecStart=/usr/sbin/virtproxyd $VIRTPROXYD_ARGS'
check "virtproxyd.service: Type=notify" has_line "$u/virtproxyd.service" 'Type=notify'
check "virtproxyd.service: --timeout 120" has_line "$u/virtproxyd.service" 'Environment=VIRTPROXYD_ARGS="--timeout 120"'
check "virtproxyd.service: EnvironmentFile under INITCONFDIR" has_line "$u/virtproxyd.service" 'EnvironmentFile=-/etc/default/virtproxyd'
check "virtproxyd.service: ExecReload sends SIGHUP" has_line "$u/virtproxyd.service" 'ExecReload=/bin/kill -HUP $MAINPID'
check "virtproxyd.service: conflicts with libvirtd" has_line "$u/virtproxyd.service" 'Conflicts=libvirtd.service'
check "virtproxyd.socket: legacy path under RUNSTATEDIR" has_line "$u/virtproxyd.socket" 'ListenStream=/run/libvirt/libvirt-sock'
check "virtproxyd.socket: mode 0600 (no polkit)" has_line "$u/virtproxyd.socket" 'SocketMode=0600'
check "virtproxyd.socket: conflicts with libvirtd.socket" has_line "$u/virtproxyd.socket" 'Conflicts=libvirtd.socket'
check "virtproxyd-ro.socket: path and mode 0666" \
	eval "has_line '$u/virtproxyd-ro.socket' 'ListenStream=/run/libvirt/libvirt-sock-ro' && has_line '$u/virtproxyd-ro.socket' 'SocketMode=0666'"
check "virtproxyd-admin.socket: path and mode 0600" \
	eval "has_line '$u/virtproxyd-admin.socket' 'ListenStream=/run/libvirt/libvirt-admin-sock' && has_line '$u/virtproxyd-admin.socket' 'SocketMode=0600'"
check "virtproxyd-tcp.socket: port 16509" has_line "$u/virtproxyd-tcp.socket" 'ListenStream=16509'
check "virtproxyd-tls.socket: port 16514" has_line "$u/virtproxyd-tls.socket" 'ListenStream=16514'
check "virtxend.service: ExecStart uses SBINDIR" has_line "$u/virtxend.service" 'ExecStart=/usr/sbin/virtxend $VIRTXEND_ARGS'
check "virtxend.service: only on a Xen dom0" has_line "$u/virtxend.service" 'ConditionPathExists=/proc/xen/capabilities'
check "virtxend.service: after xencommons" has_line "$u/virtxend.service" 'After=xencommons.service'
check "virtxend.service: KillMode=process" has_line "$u/virtxend.service" 'KillMode=process'
check "virtxend sockets: paths and modes 0600/0666/0600" eval "
	has_line '$u/virtxend.socket' 'ListenStream=/run/libvirt/virtxend-sock' &&
	has_line '$u/virtxend.socket' 'SocketMode=0600' &&
	has_line '$u/virtxend-ro.socket' 'ListenStream=/run/libvirt/virtxend-sock-ro' &&
	has_line '$u/virtxend-ro.socket' 'SocketMode=0666' &&
	has_line '$u/virtxend-admin.socket' 'ListenStream=/run/libvirt/virtxend-admin-sock' &&
	has_line '$u/virtxend-admin.socket' 'SocketMode=0600'"
check "LSB virtproxyd: DAEMON and PIDFILE defaults substituted" eval "
	has_line '$d1/etc/init.d/virtproxyd' 'DAEMON=\${DAEMON:-/usr/sbin/virtproxyd}' &&
	has_line '$d1/etc/init.d/virtproxyd' 'PIDFILE=\${PIDFILE:-/run/virtproxyd.pid}' &&
	has_line '$d1/etc/init.d/virtproxyd' 'DEFAULTS=\${DEFAULTS:-/etc/default/virtproxyd}'"
check "LSB scripts carry an LSB header" eval "
	has_line '$d1/etc/init.d/virtproxyd' '### BEGIN INIT INFO' &&
	has_line '$d1/etc/init.d/virtxend' '# Provides:          virtxend'"
check "man page header carries the package version $version" has_text "$d1/usr/share/man/man8/virtproxyd.8" "\"virtlite $version\""
check "man page paths substituted" has_text "$d1/usr/share/man/man8/virtproxyd.8" '/etc/libvirt/virtproxyd.conf'

same_as_source() { sed -e 's|@SYSCONFDIR@|/etc|g' -e 's|@RUNSTATEDIR@|/run|g' -e 's|@SBINDIR@|/usr/sbin|g' \
	-e 's|@INITCONFDIR@|/etc/default|g' -e "s|@VERSION@|$version|g" "$top/$1" | cmp -s - "$2"; }
check "sample virtproxyd.conf installed as shipped" same_as_source conf/virtproxyd.conf "$d1/etc/libvirt/virtproxyd.conf"
check "sample virtxend.conf installed as shipped" same_as_source conf/virtxend.conf "$d1/etc/libvirt/virtxend.conf"
check "sample libxl.conf installed as shipped" same_as_source conf/libxl.conf "$d1/etc/libvirt/libxl.conf"

# --- make install: OpenRC -----------------------------------------------------

d2=$tmp/d2
mk install2 install DESTDIR="$d2" PREFIX=/usr CARGO=false BINDIR_SRC="$tmp/bin" INIT_SYSTEMS=openrc
check_rc "make install INIT_SYSTEMS=openrc" 0 $?
check "OpenRC: scripts 0755 and settings 0644" eval "
	[ \"\$(mode_of '$d2/etc/init.d/virtproxyd')\" = 755 ] && [ \"\$(mode_of '$d2/etc/init.d/virtxend')\" = 755 ] &&
	[ \"\$(mode_of '$d2/etc/conf.d/virtproxyd')\" = 644 ] && [ \"\$(mode_of '$d2/etc/conf.d/virtxend')\" = 644 ]"
check "OpenRC: no systemd units and no LSB files" eval "[ ! -e '$d2/usr/lib/systemd' ] && [ ! -e '$d2/etc/default' ]"
check "OpenRC: openrc-run script with substituted command and pidfile" eval "
	head -n 1 '$d2/etc/init.d/virtproxyd' | grep -qx '#!/sbin/openrc-run' &&
	has_line '$d2/etc/init.d/virtproxyd' 'command=\"/usr/sbin/virtproxyd\"' &&
	has_line '$d2/etc/init.d/virtproxyd' 'pidfile=\"/run/virtproxyd.pid\"' &&
	has_line '$d2/etc/init.d/virtxend' 'command=\"/usr/sbin/virtxend\"'"
check "OpenRC: no @PLACEHOLDER@ left" no_placeholders "$d2"

mk both install DESTDIR="$tmp/d2b" PREFIX=/usr CARGO=false BINDIR_SRC="$tmp/bin" INIT_SYSTEMS="openrc sysv"
rc=$?
check "openrc+sysv into one init.d is refused" eval "[ $rc -ne 0 ] && grep -q 'pick one' '$tmp/both.log'"
mk both2 install DESTDIR="$tmp/d2c" PREFIX=/usr CARGO=false BINDIR_SRC="$tmp/bin" INIT_SYSTEMS="openrc sysv" OPENRCDIR=/etc/openrc.d
check_rc "openrc+sysv with OPENRCDIR apart" 0 $?
check "openrc+sysv: both scripts where asked" eval "
	has_line '$tmp/d2c/etc/init.d/virtproxyd' '### BEGIN INIT INFO' &&
	head -n 1 '$tmp/d2c/etc/openrc.d/virtproxyd' | grep -q openrc-run"
mk badinit install DESTDIR="$tmp/d2d" PREFIX=/usr CARGO=false BINDIR_SRC="$tmp/bin" INIT_SYSTEMS="upstart"
rc=$?
check "unknown INIT_SYSTEMS value is refused" eval "[ $rc -ne 0 ] && [ ! -e '$tmp/d2d' ]"

# --- make install: variants -------------------------------------------------------

d3=$tmp/d3
mk install3 install DESTDIR="$d3" PREFIX=/usr CARGO=false BINDIR_SRC="$tmp/bin" INIT_SYSTEMS="systemd sysv" FEATURES=
check_rc "make install FEATURES= (no Xen)" 0 $?
check "FEATURES=: nothing of virtxend installed" eval "! (cd '$d3' && find . -name '*virtxend*' -o -name 'libxl*' | grep -q .)"
check "FEATURES=: virtproxyd installed" test -x "$d3/usr/sbin/virtproxyd"

d3b=$tmp/d3b
mk install3b install-virtproxyd DESTDIR="$d3b" PREFIX=/usr CARGO=false BINDIR_SRC="$tmp/bin" INIT_SYSTEMS="systemd sysv"
check_rc "make install-virtproxyd" 0 $?
check "install-virtproxyd: only virtproxyd files (12)" eval "
	[ \$(cd '$d3b' && find . -type f | wc -l) -eq 12 ] && ! (cd '$d3b' && find . -name '*virtxend*' | grep -q .)"

d4=$tmp/d4
mk install4 install DESTDIR="$d4" PREFIX=/usr/local CARGO=false BINDIR_SRC="$tmp/bin" INIT_SYSTEMS="systemd sysv"
check_rc "make install PREFIX=/usr/local" 0 $?
check "PREFIX=/usr/local: SYSCONFDIR is /usr/local/etc" test -f "$d4/usr/local/etc/libvirt/virtproxyd.conf"
check "PREFIX=/usr/local: units use /usr/local/sbin" has_line "$d4/usr/local/lib/systemd/system/virtproxyd.service" \
	'ExecStart=/usr/local/sbin/virtproxyd $VIRTPROXYD_ARGS'
check "PREFIX=/usr/local: man pages and LSB script placed" eval "
	[ -f '$d4/usr/local/share/man/man8/virtproxyd.8' ] &&
	has_line '$d4/usr/local/etc/init.d/virtproxyd' 'DEFAULTS=\${DEFAULTS:-/usr/local/etc/default/virtproxyd}'"

d5=$tmp/d5
mk install5 install DESTDIR="$d5" PREFIX=/usr CARGO=false BINDIR_SRC="$tmp/bin" INIT_SYSTEMS=systemd MANCOMPRESS=gzip
check_rc "make install MANCOMPRESS=gzip" 0 $?
check "MANCOMPRESS=gzip: pages are valid .gz, no plain copies" eval "
	gzip -t '$d5/usr/share/man/man8/virtproxyd.8.gz' '$d5/usr/share/man/man5/libxl.conf.5.gz' &&
	[ ! -e '$d5/usr/share/man/man8/virtproxyd.8' ] && [ \"\$(mode_of '$d5/usr/share/man/man8/virtxend.8.gz')\" = 644 ]"

mk nobin install DESTDIR="$tmp/d6" PREFIX=/usr CARGO=false BINDIR_SRC="$tmp/empty" INIT_SYSTEMS=systemd
rc=$?
check "install without built binaries fails and says so" eval "[ $rc -ne 0 ] && grep -q 'not built' '$tmp/nobin.log'"

mkdir -p "$tmp/bin2"
cp -p "$tmp/bin/virtproxyd" "$tmp/bin/virtxend" "$tmp/bin2/"
printf 'SYSCONFDIR=/opt/etc\nRUNSTATEDIR=/run\n' >"$tmp/bin2/virtlite-paths"
mk stamp install DESTDIR="$tmp/d7" PREFIX=/usr CARGO=false BINDIR_SRC="$tmp/bin2" INIT_SYSTEMS=systemd
rc=$?
check "install refuses binaries built for another SYSCONFDIR" eval "[ $rc -ne 0 ] && grep -q 'built for other paths' '$tmp/stamp.log'"
printf 'SYSCONFDIR=/etc\nRUNSTATEDIR=/run\n' >"$tmp/bin2/virtlite-paths"
mk stamp2 install DESTDIR="$tmp/d7" PREFIX=/usr CARGO=false BINDIR_SRC="$tmp/bin2" INIT_SYSTEMS=systemd
check_rc "install accepts binaries built for the same paths" 0 $?

# --- install without DESTDIR: keep configs, uninstall ----------------------------

p=$tmp/p
pargs=(PREFIX="$p" SYSCONFDIR="$p/etc" CARGO=false BINDIR_SRC="$tmp/bin" INIT_SYSTEMS="systemd sysv")
mk live1 install "${pargs[@]}"
check_rc "install into a live PREFIX (no DESTDIR)" 0 $?
echo "# changed by the administrator" >>"$p/etc/libvirt/virtproxyd.conf"
mk live2 install "${pargs[@]}"
check_rc "second install into the live PREFIX" 0 $?
check "existing config kept without DESTDIR" eval "
	grep -q 'changed by the administrator' '$p/etc/libvirt/virtproxyd.conf' && grep -q 'KEEP.*virtproxyd.conf' '$tmp/live2.log'"

if have systemd-analyze; then
	(cd "$p/lib/systemd/system" && systemd-analyze verify --man=no ./*.service ./*.socket) >"$tmp/verify.log" 2>&1
	rc=$?
	check "systemd-analyze verify: all 10 units, no complaint" eval "[ $rc -eq 0 ] && [ ! -s '$tmp/verify.log' ]" ||
		sed 's/^/     /' "$tmp/verify.log"
else
	skipped "systemd-analyze not installed"
fi

mk live3 uninstall "${pargs[@]}"
check_rc "make uninstall" 0 $?
check "uninstall removed binaries, units, man pages and scripts" eval "
	[ ! -e '$p/sbin/virtproxyd' ] && [ ! -e '$p/sbin/virtxend' ] &&
	[ -z \"\$(ls -A '$p/lib/systemd/system')\" ] && [ -z \"\$(ls -A '$p/share/man/man8')\" ] &&
	[ ! -e '$p/etc/init.d/virtproxyd' ] && [ ! -e '$p/etc/init.d/virtxend' ]"
check "uninstall kept the changed config" test -f "$p/etc/libvirt/virtproxyd.conf"
check "uninstall removed the unchanged configs and defaults" eval "
	[ ! -e '$p/etc/libvirt/virtxend.conf' ] && [ ! -e '$p/etc/libvirt/libxl.conf' ] && [ ! -e '$p/etc/default/virtproxyd' ]"

# --- all, clean, check -------------------------------------------------------------

export FAKECARGO_LOG=$tmp/cargo.log
mk all1 all PREFIX=/usr CARGO="$tmp/fakecargo" BINDIR_SRC="$tmp/build"
check_rc "make all" 0 $?
check "all: cargo build --release with paths in the environment" has_line "$FAKECARGO_LOG" \
	"VIRTLITE_SYSCONFDIR=/etc VIRTLITE_RUNSTATEDIR=/run build --release --no-default-features --features xen"
check "all: records the paths next to the binaries" eval "
	printf 'SYSCONFDIR=/etc\nRUNSTATEDIR=/run\n' | cmp -s - '$tmp/build/virtlite-paths'"
: >"$FAKECARGO_LOG"
mk all2 all PREFIX=/usr/local FEATURES= CARGOFLAGS=--locked CARGO="$tmp/fakecargo" BINDIR_SRC="$tmp/build"
check "all FEATURES= PREFIX=/usr/local: no features, /usr/local/etc" has_line "$FAKECARGO_LOG" \
	"VIRTLITE_SYSCONFDIR=/usr/local/etc VIRTLITE_RUNSTATEDIR=/run build --release --no-default-features --locked"
: >"$FAKECARGO_LOG"
mk clean1 clean CARGO="$tmp/fakecargo" BINDIR_SRC="$tmp/build"
check "clean: cargo clean and the path record removed" eval "
	grep -q ' clean\$' '$FAKECARGO_LOG' && [ ! -e '$tmp/build/virtlite-paths' ]"
check "check: runs t/run-tests" eval "make -C '$top' --no-print-directory -n check | grep -qx './t/run-tests'"

# --- man pages ------------------------------------------------------------------

for m in man8/virtproxyd.8 man8/virtxend.8 man5/virtproxyd.conf.5 man5/virtxend.conf.5 man5/libxl.conf.5; do
	f=$d1/usr/share/man/$m
	if have groff; then
		gout=$(groff -man -Tutf8 -ww -z "$f" 2>&1)
		rc=$?
		check "groff -man -ww renders $m without warnings" eval "[ $rc -eq 0 ] && [ -z \"\$gout\" ]" ||
			printf '%s\n' "$gout" | sed 's/^/     /'
	else
		skipped "groff not installed ($m)"
	fi
	if have man; then
		check "man -l $m shows NAME and SEE ALSO" eval "
			MANWIDTH=80 man -l '$f' 2>/dev/null | grep -q '^NAME' && MANWIDTH=80 man -l '$f' 2>/dev/null | grep -q '^SEE ALSO'"
	fi
done

for page in virtproxyd.8 virtxend.8; do
	missing=
	for opt in '\\-h' '\\-\\-help' '\\-V' '\\-\\-version' '\\-v' '\\-\\-verbose' '\\-d' '\\-\\-daemon' \
		'\\-f' '\\-\\-config' '\\-p' '\\-\\-pid\\-file' '\\-t' '\\-\\-timeout' '\\-\\-check\\-config'; do
		grep -qF -- "$(printf '%b' "$opt")" "$top/man/$page" || missing="$missing $opt"
	done
	check "$page documents every option" eval "[ -z '$missing' ]" || echo "     missing:$missing"
done

proxy_keys="listen_tls listen_tcp tls_port tcp_port listen_addr unix_sock_group unix_sock_ro_perms
unix_sock_rw_perms unix_sock_admin_perms unix_sock_dir auth_unix_ro auth_unix_rw auth_tcp auth_tls
tcp_min_ssf access_drivers key_file cert_file ca_file crl_file tls_no_sanity_certificate
tls_no_verify_certificate tls_allowed_dn_list tls_priority sasl_allowed_username_list max_clients
max_queued_clients max_anonymous_clients min_workers max_workers prio_workers max_client_requests
admin_min_workers admin_max_workers admin_max_clients admin_max_queued_clients
admin_max_client_requests log_level log_filters log_outputs audit_level audit_logging host_uuid
host_uuid_source keepalive_interval keepalive_count admin_keepalive_interval admin_keepalive_count
keepalive_required admin_keepalive_required ovs_timeout"
# The network and TLS settings, which virtxend does not have.
xend_net_keys="listen_tls listen_tcp tls_port tcp_port listen_addr auth_tcp auth_tls tcp_min_ssf key_file
cert_file ca_file crl_file tls_no_sanity_certificate tls_no_verify_certificate tls_allowed_dn_list tls_priority"
libxl_keys="autoballoon lock_manager keepalive_interval keepalive_count nested_hvm"

# key_entry KEY PAGE: the page has a .TP/.TQ entry for KEY.
key_entry() { grep -A1 -E '^\.(TP|TQ)$' "$2" | grep -qE "^\.BR? $1( |$)"; }
missing_keys() {
	local page=$1 k miss=
	shift
	for k in "$@"; do key_entry "$k" "$page" || miss="$miss $k"; done
	echo "$miss"
}
# shellcheck disable=SC2086
miss=$(missing_keys "$top/man/virtproxyd.conf.5" $proxy_keys)
check "virtproxyd.conf.5 has an entry for every setting" test -z "$miss" || echo "     missing:$miss"
xend_keys=
for k in $proxy_keys; do
	case " $(echo $xend_net_keys) " in *" $k "*) ;; *) xend_keys="$xend_keys $k" ;; esac
done
# shellcheck disable=SC2086
miss=$(missing_keys "$top/man/virtxend.conf.5" $xend_keys)
check "virtxend.conf.5 has an entry for every setting" test -z "$miss" || echo "     missing:$miss"
# shellcheck disable=SC2086
miss=$(missing_keys "$top/man/libxl.conf.5" $libxl_keys)
# shellcheck disable=SC2086
extra=$(for k in $xend_net_keys; do key_entry "$k" "$top/man/virtxend.conf.5" && echo "$k"; done)
check "virtxend.conf.5 has no entry for network or TLS settings" test -z "$extra" || echo "     present: $extra"
check "libxl.conf.5 has an entry for every setting" test -z "$miss" || echo "     missing:$miss"
check "the conf pages say polkit is not supported" eval "
	grep -q 'polkit is not supported' '$top/man/virtproxyd.conf.5' && grep -q 'polkit is not supported' '$top/man/virtxend.conf.5'"
# Every setting the sample files mention (as "name =" or "#name =") is documented.
for pair in virtproxyd.conf:virtproxyd.conf.5 virtxend.conf:virtxend.conf.5 libxl.conf:libxl.conf.5; do
	sample=$top/conf/${pair%%:*}
	page=$top/man/${pair#*:}
	[ -f "$sample" ] || continue
	# shellcheck disable=SC2046
	miss=$(missing_keys "$page" $(sed -n 's/^#* *\([a-z][a-z0-9_]*\) *=.*/\1/p' "$sample" | sort -u))
	check "every setting in conf/${pair%%:*} is in ${pair#*:}" test -z "$miss" || echo "     missing:$miss"
done

# --- OpenRC functions, run under shims ---------------------------------------------

# openrc_run NAME OPTS CALL...: sources the installed OpenRC script with shims
# for OpenRC's helpers, points command at the stub, runs CALL; the shims log
# to $tmp/openrc.log.
openrc_run() {
	local name=$1 opts=$2
	shift 2
	: >"$tmp/openrc.log"
	(
		ebegin() { echo "ebegin $*" >>"$tmp/openrc.log"; }
		eend() { echo "eend $*" >>"$tmp/openrc.log"; return "$1"; }
		eerror() { echo "eerror $*" >>"$tmp/openrc.log"; }
		start-stop-daemon() { echo "start-stop-daemon $*" >>"$tmp/openrc.log"; }
		use() { echo "use $*" >>"$tmp/openrc.log"; }
		need() { echo "need $*" >>"$tmp/openrc.log"; }
		after() { echo "after $*" >>"$tmp/openrc.log"; }
		RC_SVCNAME=$name
		var=$(echo "$name" | tr '[:lower:]' '[:upper:]')_OPTS
		eval "$var=\$opts"
		# shellcheck disable=SC1090
		. "$d2/etc/init.d/$name"
		command=$tmp/bin/$name
		echo "command_args=$command_args" >>"$tmp/openrc.log"
		echo "retry=$retry" >>"$tmp/openrc.log"
		"$@"
	) >>"$tmp/openrc.out" 2>&1
}
export STUB_STATE=$tmp/state-openrc
mkdir -p "$STUB_STATE"
printf 'max_clients = 10\n' >"$tmp/good.conf"
printf 'max_clients = 10\nmax_workers = "unterminated\n' >"$tmp/bad.conf"
for name in virtproxyd virtxend; do
	openrc_run "$name" "--verbose -f $tmp/good.conf" checkconfig
	check "OpenRC $name: checkconfig passes a good file" test $? -eq 0
	check "OpenRC $name: command_args is -d plus OPTS" grep -qx -- "command_args=-d --verbose -f $tmp/good.conf" "$tmp/openrc.log"
	check "OpenRC $name: retry defaults to TERM/25/KILL/5" grep -qx 'retry=TERM/25/KILL/5' "$tmp/openrc.log"
	openrc_run "$name" "-f $tmp/bad.conf" checkconfig
	check "OpenRC $name: checkconfig fails on a bad file" eval "[ $? -ne 0 ] && grep -q '^eerror' '$tmp/openrc.log'"
	openrc_run "$name" "-f $tmp/good.conf" reload
	check "OpenRC $name: reload sends SIGHUP through start-stop-daemon" \
		grep -qx -- "start-stop-daemon --signal HUP --pidfile /run/$name.pid --exec $tmp/bin/$name" "$tmp/openrc.log"
	openrc_run "$name" "-f $tmp/bad.conf" reload
	check "OpenRC $name: reload refused on a bad file" eval "[ $? -ne 0 ] && ! grep -q '^start-stop-daemon' '$tmp/openrc.log'"
	openrc_run "$name" "-f $tmp/bad.conf" start_pre
	check "OpenRC $name: start_pre refuses a bad file" test $? -ne 0
	RC_CMD=restart openrc_run "$name" "-f $tmp/bad.conf" stop_pre
	check "OpenRC $name: restart keeps the daemon when the file is bad" test $? -ne 0
	RC_CMD=stop openrc_run "$name" "-f $tmp/bad.conf" stop_pre
	check "OpenRC $name: plain stop works with a bad file" test $? -eq 0
	VIRTPROXYD_TERMTIMEOUT=TERM/3/KILL/1 VIRTXEND_TERMTIMEOUT=TERM/3/KILL/1 openrc_run "$name" "" true
	check "OpenRC $name: retry follows the _TERMTIMEOUT setting" grep -qx 'retry=TERM/3/KILL/1' "$tmp/openrc.log"
	openrc_run "$name" "" depend
	check "OpenRC $name: depend uses dbus" grep -qx 'use dbus logger' "$tmp/openrc.log"
done
check "OpenRC virtproxyd: depend needs net" grep -qx 'need net' <(openrc_run virtproxyd "" depend; cat "$tmp/openrc.log")
check "OpenRC virtxend: ordered after xencommons" grep -q '^after .*xencommons' <(openrc_run virtxend "" depend; cat "$tmp/openrc.log")

# --- LSB init script cycle ------------------------------------------------------------

# wait_for COMMAND...: polls COMMAND for up to 5 seconds.
wait_for() {
	local i=0
	while [ $i -lt 100 ]; do
		"$@" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}
pid_gone() { [ ! -r "/proc/$1/stat" ] || [ "$(sed -e 's/^.*) //' -e 's/ .*//' "/proc/$1/stat")" = Z ]; }
pid_running() { ! pid_gone "$1"; }
hups() { cat "$STUB_STATE/hups" 2>/dev/null | wc -l; }

# lsb_cycle NAME VARIANT: VARIANT is "plain" (no start-stop-daemon, no
# lsb-base) or "ssd" (start-stop-daemon and /lib/lsb/init-functions if present).
lsb_cycle() {
	local name=$1 variant=$2 script=$d1/etc/init.d/$1 tag="LSB $1 ($2)"
	local stub=yes daemon=$tmp/bin/$1
	if [ -n "${PACKAGING_DAEMON:-}" ] && [ "$name" = virtproxyd ]; then
		stub=
		daemon=$PACKAGING_DAEMON
	fi
	export STUB_STATE=$tmp/state-$name-$variant
	mkdir -p "$STUB_STATE" "$tmp/sock-$name-$variant"
	local conf=$tmp/$name-$variant.conf bad=$tmp/$name-$variant-bad.conf
	printf 'unix_sock_dir = "%s"\nlog_outputs = "3:file:%s"\n' "$tmp/sock-$name-$variant" "$tmp/$name-$variant.log" >"$conf"
	{ cat "$conf"; printf 'max_workers = "unterminated\n'; } >"$bad"
	local defaults=$tmp/default-$name-$variant
	local up
	up=$(echo "$name" | tr '[:lower:]' '[:upper:]')
	printf '%s_OPTS="--verbose"\n%s_TERMTIMEOUT="TERM/2/KILL/3"\n' "$up" "$up" >"$defaults"
	local -a env=(DAEMON="$daemon" PIDFILE="$tmp/run/$name-$variant.pid" CONFIG="$conf" DEFAULTS="$defaults")
	if [ "$variant" = plain ]; then
		env+=(START_STOP_DAEMON= INIT_FUNCTIONS=)
	fi
	local pidfile=$tmp/run/$name-$variant.pid out=$tmp/lsb.out rc pid1 pid2

	run() { action=$1; shift; env "${env[@]}" "$@" "$script" "$action" >"$out" 2>&1; }

	run checkconfig; check_rc "$tag: checkconfig, good file" 0 $?
	run checkconfig CONFIG="$bad"; rc=$?
	check_rc "$tag: checkconfig, bad file" 6 $rc
	if [ -n "$stub" ]; then
		check "$tag: checkconfig shows FILE:LINE" grep -qF "$bad:3:" "$out"
	fi
	run status; check_rc "$tag: status while stopped" 3 $?
	run reload; check_rc "$tag: reload while stopped" 7 $?
	run stop; check_rc "$tag: stop while stopped" 0 $?
	run start CONFIG="$bad"; check_rc "$tag: start refused with a bad file" 6 $?
	check "$tag: nothing started after the refusal" test ! -e "$pidfile"

	run start; check_rc "$tag: start" 0 $?
	pid1=$(cat "$pidfile" 2>/dev/null)
	check "$tag: pidfile names a live $name" eval "[ -n '$pid1' ] && [ \"\$(cat /proc/$pid1/comm 2>/dev/null)\" = '$name' ]"
	run status; check_rc "$tag: status while running" 0 $?
	check "$tag: status names the pid" grep -q "running (pid $pid1)" "$out"
	if [ -n "$stub" ]; then
		check "$tag: daemon got -d -p PIDFILE -f CONFIG and the OPTS" \
			grep -qxF -- "-d -p $pidfile -f $conf --verbose" "$STUB_STATE/argv"
	fi
	run start; check_rc "$tag: start while running" 0 $?
	check "$tag: second start kept the same daemon" eval "[ \"\$(cat '$pidfile')\" = '$pid1' ]"

	run reload; check_rc "$tag: reload" 0 $?
	if [ -n "$stub" ]; then
		check "$tag: reload delivered one SIGHUP" wait_for eval "[ \$(hups) -eq 1 ]"
	fi
	run reload CONFIG="$bad"; check_rc "$tag: reload refused with a bad file" 6 $?
	if [ -n "$stub" ]; then
		sleep 0.2
		check "$tag: no SIGHUP after the refused reload" eval "[ \$(hups) -eq 1 ]"
	fi
	run restart CONFIG="$bad"; check_rc "$tag: restart refused with a bad file" 6 $?
	check "$tag: daemon still running after the refused restart" eval "pid_running $pid1 && [ \"\$(cat '$pidfile')\" = '$pid1' ]"

	run restart; check_rc "$tag: restart" 0 $?
	pid2=$(cat "$pidfile" 2>/dev/null)
	check "$tag: restart replaced the daemon" eval "[ -n '$pid2' ] && [ '$pid2' != '$pid1' ] && pid_gone $pid1 && pid_running $pid2"
	run force-reload; check_rc "$tag: force-reload while running" 0 $?
	pid1=$(cat "$pidfile" 2>/dev/null)
	check "$tag: force-reload restarted the daemon" eval "[ -n '$pid1' ] && [ '$pid1' != '$pid2' ] && pid_running $pid1"
	run try-restart; check_rc "$tag: try-restart while running" 0 $?
	pid2=$(cat "$pidfile" 2>/dev/null)

	run stop; check_rc "$tag: stop" 0 $?
	check "$tag: daemon gone and pidfile removed after stop" eval "pid_gone $pid2 && [ ! -e '$pidfile' ]"
	run status; check_rc "$tag: status after stop" 3 $?
	run force-reload; check_rc "$tag: force-reload while stopped" 7 $?
	run try-restart; check_rc "$tag: try-restart while stopped" 0 $?
	check "$tag: try-restart while stopped started nothing" test ! -e "$pidfile"

	# A dead daemon's pidfile.
	sh -c 'exit 0' &
	wait $!
	printf '%s' $! >"$pidfile"
	run status; check_rc "$tag: status with a stale pidfile" 1 $?
	run start; check_rc "$tag: start over a stale pidfile" 0 $?
	run stop; check_rc "$tag: stop after starting over a stale pidfile" 0 $?
	printf 'garbage' >"$pidfile"
	run status; check_rc "$tag: status with a garbage pidfile" 4 $?
	rm -f "$pidfile"

	run frobnicate; check_rc "$tag: unknown action" 2 $?
	run start DAEMON="$tmp/empty/$name"; check_rc "$tag: start without the daemon installed" 5 $?

	if [ -n "$stub" ]; then
		run start STUB_FAIL=1; rc=$?
		check_rc "$tag: start when the daemon fails to start" 1 $rc
		check "$tag: the daemon's error is shown" grep -q "error: Unable to initialize network sockets" "$out"
		run status; check_rc "$tag: status after the failed start" 3 $?

		run start STUB_IGNORE_TERM=1; check_rc "$tag: start a daemon that ignores SIGTERM" 0 $?
		pid1=$(cat "$pidfile" 2>/dev/null)
		run stop; check_rc "$tag: stop escalates to SIGKILL" 0 $?
		check "$tag: stubborn daemon killed, pidfile removed" eval "pid_gone $pid1 && [ ! -e '$pidfile' ]"
	else
		skipped "$tag: stub-only checks (real daemon under test)"
	fi
}

lsb_cycle virtproxyd plain
if have start-stop-daemon; then
	lsb_cycle virtproxyd ssd
	lsb_cycle virtxend ssd
else
	skipped "start-stop-daemon not installed: LSB cycle with it"
	lsb_cycle virtxend plain
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
