#!/usr/bin/env bash
# Installs what hvsim needs on Debian 12, or says exactly what is missing.
#
# Debian packages come from the system's own sources. Unicorn >= 2.1 is not in
# Debian 12 (2.0.1 cannot model paging: it maps every virtual address to the
# same physical one), so Debian 13's libunicorn2t64 + libunicorn-dev are
# downloaded through a private apt configuration and unpacked into .deps/unicorn
# inside the tree; the system's apt configuration is never touched.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
prefix="$top/.deps/unicorn"
packages=(cmake make gcc pkg-config nasm clang libclang-rt-14-dev
          libcapstone-dev libzydis-dev libzycore-dev libcmocka-dev
          qemu-system-x86 bochs bochsbios vgabios bochs-term)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "hvsim: missing Debian packages: ${missing[*]}" >&2
    echo "hvsim: install them as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "hvsim: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ -f "$prefix/usr/lib/x86_64-linux-gnu/pkgconfig/unicorn.pc" ]; then
  exit 0
fi

# Unicorn 2.1 from trixie, unpacked into the tree (no root needed for this part).
echo "hvsim: fetching Unicorn 2.1 (Debian 13 packages) into .deps/unicorn"
apt_dir="$top/.deps/apt"
rm -rf "$apt_dir" && mkdir -p "$apt_dir/sources" "$apt_dir/lists/partial" \
  "$apt_dir/cache/archives/partial" "$apt_dir/debs"
cat > "$apt_dir/sources/trixie.sources" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
apt_opts=(-o Dir::Etc::SourceList=/dev/null
          -o Dir::Etc::SourceParts="$apt_dir/sources"
          -o Dir::State::Lists="$apt_dir/lists"
          -o Dir::Cache="$apt_dir/cache"
          -o Dir::Etc::Preferences=/dev/null
          -o Dir::Etc::PreferencesParts=/dev/null
          -o Debug::NoLocking=1
          -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" -qq update
(cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" -qq download libunicorn2t64 libunicorn-dev)
mkdir -p "$prefix"
for deb in "$apt_dir"/debs/*.deb; do dpkg-deb -x "$deb" "$prefix"; done
test -f "$prefix/usr/lib/x86_64-linux-gnu/pkgconfig/unicorn.pc" || {
  echo "hvsim: Unicorn 2.1 could not be unpacked into $prefix" >&2; exit 1; }
rm -rf "$apt_dir"
echo "hvsim: Unicorn $(sed -n 's/^Version: //p' "$prefix/usr/lib/x86_64-linux-gnu/pkgconfig/unicorn.pc") ready"
