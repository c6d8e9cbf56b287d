# aksnap(8) bash completion -*- shell-script -*-
#
# Nothing about aksnap's commands is written down here: the commands, each
# command's subcommands and options, and the values an option lists
# (--format table|json|env|tfvars) are read from `aksnap --help` and
# `aksnap COMMAND --help` when TAB is pressed, so a new command or option
# completes as soon as its usage line says so.  This file only knows what
# a placeholder of a usage line stands for:
#
#   POOL, and NAME after --pool    pool names: [pool:NAME] sections of the
#                                  configuration (-c FILE, $AKSNAP_CONFIG,
#                                  or the default `aksnap --help` names)
#   SNAPSHOT                       snapshot names in the store (`aksnap
#                                  --json list`; nothing when unreadable)
#   FILE                           file names
#
# Installed by `make install` into bash-completion's completions directory
# as "aksnap"; it needs no bash-completion helper, only bash.

# _aksnap_spec CMD: the usage block of `aksnap CMD --help` as lines
#   sub NAME            a subcommand (db migrate, config check)
#   opt SUB NAME        an option without a value (SUB "-" for any)
#   arg SUB NAME VALUE  an option and the placeholder of its value
#   pos SUB VALUE       a positional placeholder
_aksnap_spec() {
	"$_aksnap_bin" "$1" --help 2>/dev/null | awk -v cmd="$1" '
		function clean(t) { gsub(/[][]/, "", t); sub(/\.\.\.$/, "", t); return t }
		/^usage:/ { on = 1; sub(/^usage:/, "") }
		on && /^[[:space:]]*$/ { exit }
		on { text = text " " $0 }
		END {
			n = split(text, w, /[[:space:]]+/)
			# Skip the global part: everything up to the command name.
			for (i = 1; i <= n && w[i] != cmd; i++)
				;
			s = "-"; first = 1
			for (i++; i <= n; i++) {
				t = clean(w[i])
				if (t == "") continue
				if (t == "|" && clean(w[i + 1]) == cmd) {
					i++; first = 1; continue      # "db a | db b"
				}
				if (first && t ~ /^[a-z][a-z0-9-]*$/) {
					print "sub " t; s = t; first = 0; continue
				}
				first = 0
				if (t ~ /^-/) {
					m = split(t, o, "|")
					v = clean(w[i + 1])
					if (v ~ /^[A-Z][A-Z0-9_]*$/ || v ~ /^[a-z0-9_-]+(\|[a-z0-9_-]+)+$/) {
						for (k = 1; k <= m; k++) print "arg " s " " o[k] " " v
						i++
					} else
						for (k = 1; k <= m; k++) print "opt " s " " o[k]
				} else if (t ~ /^[A-Z][A-Z0-9_]*$/)
					print "pos " s " " t
			}
		}'
}

# _aksnap_globals: the "Options:" block of `aksnap --help` as "opt NAME"
# and "arg NAME" (the options of a line that ends in a placeholder).
_aksnap_globals() {
	awk '
		/^Options:/ { on = 1; next }
		on && !/^[[:space:]]/ { exit }
		on {
			line = $0
			sub(/^[[:space:]]+/, "", line)
			sub(/  .*/, "", line)                  # drop the description
			n = split(line, w, /[ ,]+/)
			kind = (w[n] ~ /^[A-Z][A-Z0-9_]*$/) ? "arg " : "opt "
			for (i = 1; i <= n; i++)
				if (w[i] ~ /^-/) print kind w[i]
		}'
}

# The configuration the command line names, else the environment's, else
# the default that `aksnap --help` prints.
_aksnap_config() {
	local i
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-c | --config)
			printf '%s\n' "${COMP_WORDS[i + 1]}"
			return
			;;
		--config=*)
			printf '%s\n' "${COMP_WORDS[i]#--config=}"
			return
			;;
		esac
	done
	if [[ -n ${AKSNAP_CONFIG-} ]]; then
		printf '%s\n' "$AKSNAP_CONFIG"
		return
	fi
	# shellcheck disable=SC2016 # the literal text $AKSNAP_CONFIG
	"$_aksnap_bin" --help 2>/dev/null |
		sed -n 's/.*(default \$AKSNAP_CONFIG or \([^)]*\)).*/\1/p'
}

_aksnap_pools() {
	local cfg
	cfg=$(_aksnap_config)
	[[ -r $cfg ]] || return 0
	sed -n 's/^[[:space:]]*\[pool:\([^]]*\)\].*/\1/p' "$cfg"
}

_aksnap_snapshots() {
	local cfg
	cfg=$(_aksnap_config)
	[[ -r $cfg ]] || return 0
	"$_aksnap_bin" -c "$cfg" --json list 2>/dev/null |
		sed -n 's/^[[:space:]]*"snapshot": "\([^"]*\)".*/\1/p'
}

# _aksnap_values OPTION PLACEHOLDER: the words a value may be.
_aksnap_values() {
	case $2 in
	*'|'*) tr '|' '\n' <<<"$2" ;;
	POOL | NEWPOOL) [[ $2 == POOL ]] && _aksnap_pools ;;
	SNAPSHOT) _aksnap_snapshots ;;
	NAME) [[ $1 == --pool ]] && _aksnap_pools ;;
	esac
}

_aksnap() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local _aksnap_bin=${COMP_WORDS[0]}
	local help cmd="" sub="" spec words i w npos=0 placeholder=""
	local -a globals globals_arg

	COMPREPLY=()
	help=$("$_aksnap_bin" --help 2>/dev/null) || return 0
	while read -r w; do
		case $w in
		arg\ *) globals_arg+=("${w#arg }") ;;
		opt\ *) globals+=("${w#opt }") ;;
		esac
	done < <(_aksnap_globals <<<"$help")

	# The command: the first word that is not a global option or its value.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ -z $cmd ]]; then
			if [[ " ${globals_arg[*]} " == *" $w "* ]]; then
				((i++))
			elif [[ $w != -* ]]; then
				cmd=$w
			fi
			continue
		fi
	done

	if [[ -z $cmd ]]; then
		if [[ " ${globals_arg[*]} " == *" $prev "* ]]; then
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		elif [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "${globals[*]} ${globals_arg[*]}" -- "$cur")
		else
			words=$(sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z0-9-]*\).*/\1/p' <<<"$help")
			mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		fi
		return 0
	fi

	spec=$(_aksnap_spec "$cmd")
	# The subcommand, if the command has some, and how many positional
	# words are already there.
	local seen_cmd=0
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((!seen_cmd)); then
			[[ $w == "$cmd" ]] && seen_cmd=1
			[[ " ${globals_arg[*]} " == *" $w "* ]] && ((i++))
			continue
		fi
		if [[ $w == -* ]]; then
			if [[ " ${globals_arg[*]} " == *" $w "* ]] ||
				grep -q "^arg [^ ]* $w " <<<"$spec"; then
				((i++))
			fi
			continue
		fi
		if [[ -z $sub ]] && grep -q "^sub $w\$" <<<"$spec"; then
			sub=$w
			continue
		fi
		((npos++))
	done

	# The value of an option.
	if [[ " ${globals_arg[*]} " == *" $prev "* ]]; then
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0
	fi
	placeholder=$(awk -v o="$prev" -v s="${sub:--}" \
		'$1 == "arg" && $3 == o && ($2 == "-" || $2 == s) { print $4; exit }' <<<"$spec")
	if [[ -n $placeholder ]]; then
		if [[ $placeholder == FILE ]]; then
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$(_aksnap_values "$prev" "$placeholder")" -- "$cur")
		fi
		return 0
	fi

	if [[ $cur == -* ]]; then
		words=$(awk -v s="${sub:--}" \
			'($1 == "opt" || $1 == "arg") && ($2 == "-" || $2 == s) { print $3 }' <<<"$spec")
		mapfile -t COMPREPLY < <(compgen -W "$words ${globals[*]} ${globals_arg[*]}" -- "$cur")
		return 0
	fi

	if [[ -z $sub ]] && grep -q '^sub ' <<<"$spec"; then
		mapfile -t COMPREPLY < <(compgen -W "$(awk '$1 == "sub" { print $2 }' <<<"$spec")" -- "$cur")
		return 0
	fi

	# A positional word: the placeholder at its place, or the last one
	# repeated (POOL...).
	placeholder=$(awk -v s="${sub:--}" -v n="$npos" \
		'$1 == "pos" && $2 == s { p = $3; if (i++ == n) { print p; done = 1; exit } }
		 END { if (!done && p != "") print p }' <<<"$spec")
	case $placeholder in
	FILE) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	"") ;;
	*) mapfile -t COMPREPLY < <(compgen -W "$(_aksnap_values "" "$placeholder")" -- "$cur") ;;
	esac
	return 0
}

complete -F _aksnap aksnap
