#!/bin/bash
# One tree in N parts with GNU parallel (docs/distributed.md): part K of N of INPUT decrypted
# into the one OUTPUT tree, each part's --json report kept as REPORTS/part-K.jsonl, then the
# merged report (`aenv report`), whose exit status this script ends with: 0 when every part is
# there and every file is ok or skipped, 1 when a file failed or a part is missing or was
# interrupted, 2 for a usage error.
#
#   examples/parallel.sh N INPUT OUTPUT PASSWORD_FILE REPORTS
#
# On this machine it runs the N parts at once (-j N; on one machine, one aenv with --jobs already
# uses every core: parts pay off across machines). Many machines over ssh, sharing the file
# system that holds INPUT, OUTPUT, PASSWORD_FILE and REPORTS under the same paths, with aenv on
# each (AENV must name it there too): give GNU parallel a list of machines in $PARALLEL, one
# part at a time each ("1/" before the name):
#
#   printf '1/%s\n' node1 node2 node3 node4 > nodes.txt
#   PARALLEL='--sshloginfile nodes.txt' examples/parallel.sh 16 /shared/in /shared/plain ~/.aenv/pw /shared/reports
#
# Run again with the same arguments, it redoes only what is missing (--skip-existing), and each
# part's new report replaces its old one. A report is written to a hidden file and renamed onto
# REPORTS/part-K.jsonl only once aenv wrote its summary line (at the end, or when Ctrl-C or a
# signal stopped it: "interrupted": true), so a report in place is never cut short.
set -u -o pipefail

usage='usage: parallel.sh N INPUT OUTPUT PASSWORD_FILE REPORTS'
die() {
  echo "parallel.sh: error: $*" >&2
  exit 2
}
[ $# -eq 5 ] || die "5 arguments needed, $# given; $usage"
n=$1
case $n in '' | *[!0-9]* | 0*) die "N must be a whole number from 1, not '$n'; $usage" ;; esac
AENV=${AENV:-aenv}
command -v parallel >/dev/null || die 'GNU parallel is not installed (apt-get install parallel)'
command -v -- "$AENV" >/dev/null || die "aenv not found (AENV=$AENV): put it on PATH or set AENV=/path/to/aenv"
[ -e "$2" ] || die "INPUT $2 does not exist"
[ -r "$4" ] && [ -f "$4" ] || die "cannot read the PASSWORD_FILE $4"
mkdir -p -- "$5" || die "cannot make the REPORTS folder $5"
# absolute paths, so that a part run on another machine (over ssh, in the home folder) finds them
abs() { case $1 in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
input=$(abs "$2") output=$(abs "$3") pwfile=$(abs "$4") reports=$(abs "$5")
case $AENV in /*) ;; */*) AENV=$(abs "$AENV") ;; esac

# One part, run by bash wherever GNU parallel starts it (no function or variable of this shell is
# needed there): aenv's report goes to a hidden file, renamed onto part-K.jsonl once it is whole.
# shellcheck disable=SC2016 # expanded by that bash, from its arguments
part='
  k=$1 n=$2 input=$3 output=$4 pwfile=$5 reports=$6 aenv=$7
  tmp=$reports/.part-$k.jsonl.$(hostname).$$
  trap "echo \"parallel.sh: part $k of $n: stopped by a signal; aenv is finishing its summary\" >&2" TERM INT HUP
  "$aenv" decrypt "$input" -o "$output" --password-file "$pwfile" --shard "$k/$n" --skip-existing --json >"$tmp"
  status=$?
  trap "" TERM INT HUP # what follows is quick, and a late signal must not kill it half-way
  if tail -n 1 -- "$tmp" | grep -q "^{\"summary\":"; then
    mv -f -- "$tmp" "$reports/part-$k.jsonl"
  else
    rm -f -- "$tmp"
    echo "parallel.sh: part $k of $n: aenv exited $status without its summary line (killed?); no report kept" >&2
  fi
  exit "$status"
'
# Ctrl-C (or SIGTERM to GNU parallel) stops the parts with one SIGTERM each and gives them 30 s
# (as Slurm's KillWait) to write their summaries, then merges what there is.
# --line-buffer: what the parts say (a file that failed, a hint) shows as it comes, line by line.
seq "$n" | parallel --jobs "$n" --line-buffer --termseq TERM,30000,KILL,25 --joblog "$reports/parallel.log" \
  -q bash -c "$part" aenv-part {} "$n" "$input" "$output" "$pwfile" "$reports" "$AENV"
echo "parallel.sh: the parts ended (GNU parallel exited $?; its log: $reports/parallel.log); the merged report:" >&2
files=()
for k in $(seq "$n"); do
  [ -e "$reports/part-$k.jsonl" ] && files+=("$reports/part-$k.jsonl")
done
[ ${#files[@]} -gt 0 ] || { echo "parallel.sh: no part left a report" >&2; exit 1; }
"$AENV" report "${files[@]}"
