# Drives an interactive zsh through a pseudo-terminal (zsh/zpty) to see what Tab completion
# offers, for test/release.test.ts. Usage:
#   zsh -f zsh-complete.zsh COMPLETIONS_DIR CWD CASES_FILE OUT
# Each line of CASES_FILE is typed, then Tab, then the line is cleared; the matches that
# completion adds for case N (1-based) are written one per line to OUT.N (no file: no match).
# Matches are caught by wrapping compadd, so they are exactly what the completer offers.
# Keys are typed only once the line editor is reading (its zle-line-init hook has written
# OUT.line), since keys typed while a command still runs may be lost to it.
zmodload zsh/zpty
compdir=$1 cwd=$2 casefile=$3 out=$4

# wait_for FILE TEXT: reads the terminal (so zsh never blocks on a full pty) until FILE holds TEXT
wait_for() {
  local i
  for i in {1..600}; do
    while zpty -r -t z chunk; do :; done
    [[ -f $1 && $(<$1) == $2 ]] && return 0
    sleep 0.05
  done
  print -u2 "zsh-complete: timed out waiting for $1 to read $2"
  exit 1
}

zpty -b z zsh -f -i
zpty -w z "PS1=''; RPS1=''; unsetopt zle_bracketed_paste 2>/dev/null; setopt no_beep"
zpty -w z "fpath=(${(q)compdir} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "compadd() { if (( \${@[(I)-[OAD]]} )); then builtin compadd \"\$@\"; return; fi; local -a __m; builtin compadd -A __m \"\$@\"; (( \$#__m )) && print -rl -- \$__m >> ${(q)out}.\$__case; builtin compadd \"\$@\"; }"
zpty -w z "zle-line-init() { print -r -- \${__case:-0} >| ${(q)out}.line }; zle -N zle-line-init"
zpty -w z "cd ${(q)cwd}; __case=0"
integer n=0
for line in "${(@f)$(<$casefile)}"; do
  (( n++ ))
  zpty -w z "__case=$n"
  wait_for $out.line $n
  zpty -w -n z "$line"$'\t'
  zpty -w -n z $'\C-u'
  zpty -w z "print -r -- $n >| ${(q)out}.done"
  wait_for $out.done $n
done
zpty -d z
