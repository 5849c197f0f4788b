#!/bin/sh
# swinstall-adu.sh: the step script of Azure Device Update's SWUpdate handler
# (update type microsoft/swupdate:2, handlerProperties.scriptFileName), doing
# each step with swinstall-agent. See README.md next to it.
#
# The handler runs it as root once per step, with the step as --action-STEP
# (apiVersion unset or "2.0") or --action STEP ("2.1"), and
#   --swu-file FILE             the image (handlerProperties.swuFileName)
#   --work-folder DIR           where the update's files were downloaded
#   --result-file FILE          where the step's result goes, as JSON
#   --installed-criteria VALUE  handlerProperties.installedCriteria: the
#                               image's version (swinstall manifest sets it)
# plus the pairs of /etc/adu/swupdate-handler-config.json and the words of
# handlerProperties.arguments. This script takes two more:
#   --agent PATH                swinstall-agent (default: found in $PATH)
#   --agent-env FILE            the device's settings as SWINSTALL_* variables
#                               (default /etc/default/swinstall-agent)
#
# step          runs                               result
# download      swinstall-agent verify SWU         500, or 0 (failed)
# install       swinstall-agent install SWU        600; 603 when it runs already
# apply         swinstall-agent apply              705: Device Update reboots now
# cancel        swinstall-agent rollback, when     800; 801 when that failed
#               the version is applied (not running)
# is-installed  swinstall-agent is-installed V     900 running V, 901 not (yet)
# A failure is resultCode 0 with swinstall-agent's exit status as
# extendedResultCode and its last message as resultDetails.
set -u

action='' swu='' result_file='' criteria='' work=''
agent=swinstall-agent
agent_env=/etc/default/swinstall-agent

while [ $# -gt 0 ]; do
	case $1 in
	--action-*) action=${1#--action-}; shift; continue ;;
	esac
	[ $# -ge 2 ] || { echo "swinstall-adu: $1 needs a value" >&2; exit 1; }
	case $1 in
	--action) action=$2 ;;
	--swu-file) swu=$2 ;;
	--result-file) result_file=$2 ;;
	--installed-criteria) criteria=$2 ;;
	--work-folder) work=$2 ;;
	--agent) agent=$2 ;;
	--agent-env) agent_env=$2 ;;
	*) echo "swinstall-adu: ignoring $1 $2" >&2 ;;
	esac
	shift 2
done
[ -n "$result_file" ] || { echo "swinstall-adu: no --result-file" >&2; exit 1; }

if [ -r "$agent_env" ]; then
	set -a
	# shellcheck disable=SC1090 # the device's own file
	. "$agent_env"
	set +a
fi

log=${work:-${TMPDIR:-/tmp}}/swinstall-agent.log

# result CODE [EXTENDED DETAILS]: the result file Device Update reads.
result() {
	details=$(printf '%s' "${3:-}" | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g')
	printf '{"resultCode":%d,"extendedResultCode":%d,"resultDetails":"%s"}\n' \
		"$1" "${2:-0}" "$details" >"$result_file"
	cat "$result_file"
}

# last_message: what swinstall-agent said last.
last_message() {
	grep '^swinstall-agent: ' "$log" | tail -n 1 | cut -c18-
}

# failed STATUS: resultCode 0 (a failure), and why.
failed() {
	result 0 "$1" "$(last_message)"
}

# A stop signal while the agent runs cancels what it does (it undoes it).
agent_pid=''
trap '[ -n "$agent_pid" ] && kill -TERM "$agent_pid"' TERM INT

# run ARGS...: swinstall-agent ARGS; its exit status goes into status, its
# output into the log and onto stdout (Device Update logs that).
run() {
	"$agent" "$@" >"$log" 2>&1 &
	agent_pid=$!
	# wait returns early when a signal is trapped; wait again for the status
	while :; do
		wait "$agent_pid"
		status=$?
		kill -0 "$agent_pid" 2>/dev/null || break
	done
	agent_pid=''
	cat "$log"
}

# is_installed: swinstall-agent's answer for the installed criteria, in status.
is_installed() {
	if [ -z "$criteria" ]; then
		echo "swinstall-agent: no installedCriteria in the step" >"$log"
		status=2
	else
		run is-installed "$criteria"
	fi
}

case $action in
is-installed)
	is_installed
	case $status in
	0) result 900 ;;
	10 | 12 | 13 | 14) result 901 ;;
	*) failed "$status" ;;
	esac
	;;
download)
	run verify "$swu"
	if [ "$status" -eq 0 ]; then result 500; else failed "$status"; fi
	;;
install)
	is_installed
	case $status in
	0) result 603 0 "version $criteria runs already" ;;
	10 | 12 | 13 | 14)
		run install "$swu"
		if [ "$status" -eq 0 ]; then result 600; else failed "$status"; fi
		;;
	*) failed "$status" ;;
	esac
	;;
apply)
	run apply
	if [ "$status" -eq 0 ]; then result 705; else failed "$status"; fi
	;;
cancel)
	is_installed
	case $status in
	12)
		run rollback
		if [ "$status" -eq 0 ]; then result 800; else result 801 "$status" "$(last_message)"; fi
		;;
	13) result 800 0 "staged, never applied: the running slot keeps booting" ;;
	*) result 800 0 "nothing applied to cancel" ;;
	esac
	;;
*)
	echo "swinstall-agent: unknown action '$action'" >"$log"
	failed 2
	;;
esac
exit 0
