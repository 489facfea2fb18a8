# Drives an interactive zsh through a pseudo-terminal (zsh/zpty) to see what Tab completion
# offers, for test/release.test.ts. Usage:
#   zsh -f zsh-complete.zsh COMPLETIONS_DIR CWD CASES_FILE OUT
# Each line of CASES_FILE is typed, then Tab, then the line is cleared; the matches that
# completion adds for case N (1-based) are written one per line to OUT.N (no file: no match).
# Matches are caught by wrapping compadd, so they are exactly what the completer offers.
zmodload zsh/zpty
compdir=$1 cwd=$2 casefile=$3 out=$4
zpty -b z zsh -f -i
zpty -w z "PS1=''; RPS1=''; unsetopt zle_bracketed_paste 2>/dev/null; setopt no_beep"
zpty -w z "fpath=(${(q)compdir} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "compadd() { if (( \${@[(I)-[OAD]]} )); then builtin compadd \"\$@\"; return; fi; local -a __m; builtin compadd -A __m \"\$@\"; (( \$#__m )) && print -rl -- \$__m >> ${(q)out}.\$__case; builtin compadd \"\$@\"; }"
zpty -w z "cd ${(q)cwd}"
# wait until the shell has run all that: keys typed earlier would be lost to the first Tab
zpty -w z "print -r -- ready > ${(q)out}.ready"
for i in {1..600}; do
  while zpty -r -t z chunk; do :; done
  [[ -f $out.ready ]] && break
  sleep 0.05
done
integer n=0
for line in "${(@f)$(<$casefile)}"; do
  (( n++ ))
  zpty -w z "__case=$n"
  zpty -w -n z "$line"$'\t'
  zpty -w -n z $'\C-u'
  zpty -w z "print -r -- $n >> ${(q)out}.done"
  # keep reading the terminal so that zsh never blocks on a full pty
  for i in {1..600}; do
    while zpty -r -t z chunk; do :; done
    [[ -f $out.done ]] && (( $(wc -l < $out.done) >= n )) && break
    sleep 0.05
  done
done
zpty -d z
