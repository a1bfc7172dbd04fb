#!/bin/sh
# mkdeb.sh ROOT VERSION OUTDIR: turn ROOT (what 'make install PREFIX=/usr
# DESTDIR=ROOT' made) into OUTDIR/ipcbox_VERSION_ARCH.deb with dpkg-deb alone.
# Called by 'make deb'.  Needs dpkg-dev (dpkg-shlibdeps, dpkg-parsechangelog),
# binutils (strip, objcopy) and python3 (the .note.dlopen's JSON).
#
# The package is Debian-native (version without a Debian revision, so
# /usr/share/doc/ipcbox/changelog.gz): the packaging lives in the project's
# own tree and is released with it; there is no separate upstream tarball.
set -eu
umask 022
[ $# -eq 3 ] || { echo "usage: $0 ROOT VERSION OUTDIR" >&2; exit 2; }
root=$1 version=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "mkdeb.sh: $*" >&2; exit 1; }

[ -x "$root/usr/bin/ipcbox" ] || die "$root/usr/bin/ipcbox: not installed there"
clog=$(dpkg-parsechangelog -l "$here/changelog" -S Version)
[ "$clog" = "$version" ] || die "packaging/changelog is at $clog, main.c at $version"
got=$("$root/usr/bin/ipcbox" --version)
[ "$got" = "ipcbox $version" ] || die "the binary says '$got', not 'ipcbox $version'"

# Reproducible: every mtime clamped to the changelog's date.
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$here/changelog" -S Timestamp)
export SOURCE_DATE_EPOCH

strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/ipcbox"
find "$root" -type d -exec chmod 0755 {} +
arch=$(dpkg --print-architecture)

# Depends from the libraries the binary links (dpkg-shlibdeps reads the
# libc6 symbols file; it insists on a debian/control in its directory).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/debian"
printf 'Source: ipcbox\n\nPackage: ipcbox\nArchitecture: any\n' >"$tmp/debian/control"
bin=$(cd "$root/usr/bin" && pwd)/ipcbox
depends=$(cd "$tmp" && dpkg-shlibdeps -O -e"$bin" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || case $(file -b "$bin") in
	*"statically linked"*) ;;
	*) die "dpkg-shlibdeps found no dependency for a dynamic binary" ;;
	esac

# Recommends and Suggests from the libraries the binary opens at run time
# (libssl.so.3 for TLS): its .note.dlopen, the freedesktop "ELF dlopen
# metadata" (notes of owner FDO, type 0x407c0c0a, each a JSON array of
# {"soname": [...], "priority": ...}).  Each soname becomes the installed
# package that ships it, as dpkg-shlibdeps does for linked libraries.
# Prints "PRIORITY PACKAGE" lines; nothing when the binary has no note
# (the static musl build: no TLS).
dlopen_needs() {
	objcopy -O binary --only-section=.note.dlopen "$bin" "$tmp/note" || die "objcopy could not read $bin"
	/usr/bin/python3 - "$tmp/note" >"$tmp/sonames" <<'PY' || die "the binary's .note.dlopen cannot be read"
import json, struct, sys
data = open(sys.argv[1], "rb").read()
off = 0
while off + 12 <= len(data):
    namesz, descsz, kind = struct.unpack_from("<III", data, off)
    name_at = off + 12
    desc_at = name_at + (namesz + 3) // 4 * 4
    end = desc_at + (descsz + 3) // 4 * 4
    if end > len(data):
        sys.exit("mkdeb.sh: .note.dlopen: a note runs past the section's end")
    if data[name_at:name_at + namesz] == b"FDO\0" and kind == 0x407C0C0A:
        for entry in json.loads(data[desc_at:desc_at + descsz].rstrip(b"\0")):
            for soname in entry["soname"]:
                print(entry.get("priority", "recommended"), soname)
    off = end
PY
	while read -r prio soname; do
		pkg=$(dpkg -S "$soname" 2>/dev/null | awk -v s="/$soname" '
			substr($2, length($2) - length(s) + 1) == s { sub(/:.*/, "", $1); print $1; exit }')
		[ -n "$pkg" ] || die "the binary opens $soname at run time, but no installed package ships it"
		echo "$prio $pkg"
	done <"$tmp/sonames"
}
needs=$(dlopen_needs) || exit 1
recommends=$(echo "$needs" | awk '$1 == "recommended" { print $2 }' | sort -u | paste -sd, - | sed 's/,/, /g')
suggests=$(echo "$needs" | awk '$1 == "suggested" { print $2 }' | sort -u | paste -sd, - | sed 's/,/, /g')

# Installed-Size as dpkg-gencontrol counts it: KiB per file rounded up,
# 1 for each other object.
size=$(find "$root" -mindepth 1 -printf '%y %s\n' | awk '
	$1 == "f" { n += int(($2 + 1023) / 1024); next } { n += 1 } END { print n }')

mkdir -p "$root/DEBIAN"
{
	echo "Package: ipcbox"
	echo "Version: $version"
	echo "Architecture: $arch"
	echo "Maintainer: ipcbox maintainers <maintainers@users.noreply.r-seed-77bfadda.example>"
	echo "Installed-Size: $size"
	[ -z "$depends" ] || echo "Depends: $depends"
	[ -z "$recommends" ] || echo "Recommends: $recommends"
	[ -z "$suggests" ] || echo "Suggests: $suggests"
	echo "Section: net"
	echo "Priority: optional"
	echo "Description: Unix IPC from the shell: sockets, shm, semaphores, D-Bus, channels"
	echo " ipcbox is one small multicall binary, in C against libc alone, whose"
	echo " applets speak each inter-process communication mechanism of a Unix"
	echo " system: TCP (with TLS when libssl3 is installed) and Unix sockets (a"
	echo " netcat with correct EOF handling), POSIX and System V shared memory and"
	echo " semaphores (including the objects Qt's QSharedMemory and QSystemSemaphore"
	echo " and Python make), D-Bus spoken natively without libdbus, and QCOP-style"
	echo " named channels."
	echo " ."
	echo " Run 'ipcbox --install -s DIR' to make links named after each applet."
} >"$root/DEBIAN/control"
(cd "$root" && find usr -type f | LC_ALL=C sort | xargs md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

mkdir -p "$out"
deb=$out/ipcbox_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb"
