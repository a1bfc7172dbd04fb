# Shared by the demo/*.sh scripts (sourced).
#   say TEXT...   explain the next step
#   show CMD...   print the command, then run it

say() {
	printf '\n\033[1m# %s\033[0m\n' "$*"
}

show() {
	printf '$ %s\n' "$*"
	"$@"
}
