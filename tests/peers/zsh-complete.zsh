#!/usr/bin/zsh -f
# zsh-complete.zsh COMPDIR OUT LINE...: for each LINE, what zsh's completion
# system offers when Tab is pressed at its end, from a real interactive zsh
# (compinit, COMPDIR first in $fpath) driven through zpty.  compadd is
# wrapped to record every candidate it is given (then does its work).
# Prints "== LINE" and then the candidates, one a line.  OUT is a scratch
# file (the interactive zsh writes the candidates there).  Exit 1 if a
# completion did not finish within 60 s.
zmodload zsh/zpty zsh/zselect || exit 3
compdir=$1 out=$2
shift 2
zpty z zsh -f -i || exit 3
zpty -w z "PS1='' PS2='' RPS1=''; setopt no_beep; unsetopt zle_bracketed_paste 2>/dev/null"
zpty -w z "fpath=(${(q)compdir} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "zstyle ':completion:*' menu no; __zc_out=${(q)out}"
zpty -w z 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a __h; builtin compadd -A __h "$@"; local r=$?
  local x; for x in $__h; do print -r -- "<<CAND>>$x" >>$__zc_out; done
  builtin compadd "$@"
  return r
}'
zpty -w z '__zc_done() { print -r -- "<<DONE>>" >>$__zc_out; }'
rc=0
for line in "$@"; do
  : >$out
  # comppostfuncs is emptied after each completion: set it for this one
  zpty -w z 'comppostfuncs=(__zc_done)'
  zpty -w -n z "$line"$'\t'
  # poll with builtins ($(<file) reads without a fork, zselect -t 1 waits
  # 10 ms): a grep and a sleep each 50 ms cost more than the completion
  # and read what the interactive zsh echoes as it goes: a pty nobody
  # reads fills up (about 40 lines of completion did it) and blocks zsh
  for i in {1..6000}; do
    [[ $(<$out) == *'<<DONE>>'* ]] && break
    while zpty -r -t z __echo; do :; done
    zselect -t 1
  done
  while zpty -r -t z __echo; do :; done
  print -r -- "== $line"
  sed -n 's/^<<CAND>>//p' $out
  [[ $(<$out) == *'<<DONE>>'* ]] || { print -u2 "zsh-complete: no completion for '$line'"; rc=1; break }
  zpty -w -n z $'\C-u'
done
zpty -d z
exit $rc
