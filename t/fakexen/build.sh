#!/bin/sh
# Builds the fake Xen host for the tests: OUTDIR/libfakexen.so (for LD_PRELOAD) and
# OUTDIR/fakexenctl, with cc and pkg-config against the installed libxen-dev.
# Usage: t/fakexen/build.sh OUTDIR
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
out=$1
src=$(cd "$(dirname "$0")" && pwd)
cc=${CC:-cc}
cflags="-std=gnu11 -O2 -g -Wall -Wextra -Werror -fPIC -fvisibility=hidden"

if ! xen_cflags=$(pkg-config --cflags xenlight xentoollog 2>/dev/null) ||
   ! xen_libs=$(pkg-config --libs xenlight xentoollog 2>/dev/null); then
    echo "$0: pkg-config cannot find xenlight (install libxen-dev)" >&2
    exit 1
fi

mkdir -p "$out"
# shellcheck disable=SC2086 # the flag lists are meant to split
$cc $cflags $xen_cflags -shared -o "$out/libfakexen.so" \
    "$src/fakexen.c" "$src/host.c" "$src/domains.c" "$src/console.c" "$src/state.c" "$src/statedom.c" \
    $xen_libs -ldl -pthread
# shellcheck disable=SC2086
$cc $cflags -o "$out/fakexenctl" "$src/fakexenctl.c" "$src/state.c" "$src/statedom.c"
