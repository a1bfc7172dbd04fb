# bash completion for ipcbox and its applet links.
# The options come from the binary itself ('ipcbox --options APPLET'), and
# operands from 'ipcbox --complete APPLET' (existing object names, bus names),
# so the completion always matches the installed binary.

_ipcbox_applet_words() {
	# $1: applet; prints option words, or the operand candidates
	local applet=$1 cur=$2 prev=$3 line short long arg kind
	while read -r short long arg kind; do
		if [[ -n $prev && ( $prev == "$short" || $prev == "$long" ) && $arg != - ]]; then
			case $kind in
			file) compgen -f -- "$cur" ;;
			dir) compgen -d -- "$cur" ;;
			host) compgen -A hostname -- "$cur" ;;
			esac
			return 1
		fi
	done < <("${_ipcbox_bin:-ipcbox}" --options "$applet" 2>/dev/null)
	if [[ $cur == -* ]]; then
		"${_ipcbox_bin:-ipcbox}" --options "$applet" 2>/dev/null |
			while read -r short long arg kind; do
				[[ $short != - ]] && printf '%s\n' "$short"
				[[ $long != - ]] && if [[ $arg != - ]]; then echo "$long="; else echo "$long"; fi
			done
	else
		"${_ipcbox_bin:-ipcbox}" --complete "$applet" 2>/dev/null
	fi
	return 0
}

_ipcbox() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev= applet=${COMP_WORDS[0]##*/} first=1 words
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	_ipcbox_bin=${COMP_WORDS[0]}
	if [[ $applet == ipcbox* ]]; then
		if ((COMP_CWORD == 1)); then
			words="$("$_ipcbox_bin" --list 2>/dev/null) tcp unix shm sem mq bus channel --list --install --help --version"
			mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
			return
		fi
		applet=${COMP_WORDS[1]}
		first=2
		if ! "$_ipcbox_bin" --options "$applet" >/dev/null 2>&1; then
			if ((COMP_CWORD == 2)); then
				words=$("$_ipcbox_bin" --list 2>/dev/null | sed -n "s/^$applet-//p")
				mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
				return
			fi
			applet=$applet-${COMP_WORDS[2]}
			first=3
		fi
	else
		_ipcbox_bin=ipcbox
	fi
	((COMP_CWORD >= first)) || return
	if words=$(_ipcbox_applet_words "$applet" "$cur" "$prev"); then
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		[[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
	else
		mapfile -t COMPREPLY <<<"$words"
		[[ -z ${COMPREPLY[0]} ]] && COMPREPLY=()
	fi
}

complete -F _ipcbox ipcbox $(ipcbox --list 2>/dev/null)
