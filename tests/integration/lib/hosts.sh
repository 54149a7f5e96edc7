# shellcheck shell=bash
# tests/integration/lib/hosts.sh - isolated test hosts for end-to-end tests
# (sourced, not run; see README.md next to this file).
#
# A lab is one network namespace, mc-lab-<pid>, holding a bridge br0: the
# switch. A host is a network namespace mc-<name>-<pid> plugged into that
# bridge with a veth pair (both ends created inside namespaces, so nothing
# appears in the machine's own namespace), plus a holder process that owns
# the host's mount, UTS, IPC and PID namespaces. In the host's mount
# namespace /etc, /var and /usr/local are overlays whose writes land in a
# private tmpfs, and the directories a mail server writes (/etc/postfix,
# /var/spool/postfix, /var/mail, /run, ...) are bind mounts of per-host
# directories under $LAB_DIR/<name>, readable from the test.
#
# Addresses are restricted to the documentation ranges 192.0.2.0/24 and
# 2001:db8::/32; hosts have no default route, so lab traffic cannot leave.
#
# Sourcing only defines functions and variables. The first host_create
# creates the lab and installs an EXIT/INT/TERM trap (chained to an EXIT
# trap already set, such as tests/lib.sh's) that runs lab_destroy. Call
# host_create from the main shell, not from $(...) or a pipeline: the
# lab's state lives in shell variables and every holder is tied to the
# shell that started it (killed with it, even by SIGKILL).

# Tunables (set before the first host_create).
: "${HOST_TIMEOUT:=60}"                     # seconds per host_exec / host_sh
: "${LAB_DOMAIN:=test}"                     # host NAME is NAME.$LAB_DOMAIN
: "${LAB_TMP:=/tmp}"                        # where $LAB_DIR is made
: "${HOST_OVERLAYS:=/etc /var /usr/local}"  # copy-on-write, writes stay private
: "${HOST_OVERLAY_SIZE:=512m}"              # tmpfs holding the overlays' writes
: "${HOST_RESOLVER:=127.0.0.1}"             # nameserver in each host's resolv.conf
: "${LAB_KEEP:=}"                           # non-empty: keep $LAB_DIR for post-mortem

# Private per-host directories (bind mounts of $LAB_DIR/<name><path>) and
# files. /etc/postfix and /etc/dovecot start as copies of the machine's.
HOST_PRIVATE_DIRS=(/etc/postfix /etc/dovecot /etc/nginx /etc/mailctl
	/var/spool/postfix /var/lib/mailctl /var/lib/postfix /var/lib/dovecot
	/var/mail /var/log /run)
HOST_PRIVATE_FILES=(/etc/hosts /etc/resolv.conf /etc/hostname /etc/mailname)
HOST_COPIED_DIRS=(/etc/postfix /etc/dovecot)

LAB_ID=
LAB_DIR=
LAB_NETNS=
LAB_HOSTS=() # names, in creation order
declare -gA _HOST_V4=() _HOST_V6=() _HOST_FQDN=() _HOST_ALIASES=()
declare -gA _HOST_HOLDER=() _HOST_INIT=() _HOST_NS=()
_LAB_OWNER=
_LAB_PREV_EXIT=

_lab_err() { echo "hosts.sh: $*" >&2; }

# Runs as PID 1 of a new host (environment MC_*): builds the private file
# system view, names the host, then stays as a reaper for orphans.
# shellcheck disable=SC2016
_HOST_SETUP='
set -eu
hd=$MC_HD
done_ovl=" "
under_overlay() {
	local o
	for o in $done_ovl; do case "$1" in "$o"/*) return 0 ;; esac; done
	echo "mount point $1 is missing and not under an overlay: refusing to create it on the real file system" >&2
	return 1
}
mount -t sysfs -o nosuid,nodev,noexec mc-sys /sys || echo "warning: no private /sys" >&2
mount -t tmpfs -o "mode=0700,size=$MC_OVL_SIZE" mc-ovl "$hd/.ovl"
for d in $MC_OVERLAYS; do
	[ -d "$d" ] || continue
	k=${d//\//_}
	mkdir -p "$hd/.ovl/$k/u" "$hd/.ovl/$k/w"
	chown --reference="$d" "$hd/.ovl/$k/u"
	chmod --reference="$d" "$hd/.ovl/$k/u"
	mount -t overlay -o "lowerdir=$d,upperdir=$hd/.ovl/$k/u,workdir=$hd/.ovl/$k/w" mc-ovl "$d"
	done_ovl="$done_ovl$d "
done
for d in $MC_DIRS; do
	[ -d "$d" ] || { under_overlay "$d"; mkdir -p "$d"; }
	mount --bind "$hd$d" "$d"
done
for f in $MC_FILES; do
	if [ -L "$f" ] || [ ! -f "$f" ]; then under_overlay "$f"; rm -f "$f"; : >"$f"; fi
	mount --bind "$hd$f" "$f"
done
echo "$MC_FQDN" >/proc/sys/kernel/hostname
: >"$hd/.ready"
exec bash -c "while :; do sleep 3600 & wait \$!; done"
'

_lab_need_tools() {
	local t missing=()
	for t in ip unshare nsenter setpriv timeout mount find awk cp; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		_lab_err "missing tools: ${missing[*]} (apt-get install iproute2 util-linux mount coreutils findutils)"
		return 1
	fi
	if [ "$(id -u)" != 0 ]; then
		_lab_err "must run as root (namespaces, mounts)"
		return 1
	fi
}

# lab_gc: remove what an earlier lab left when its shell was SIGKILLed (no
# trap ran): namespaces mc-*-<pid> and dirs $LAB_TMP/mc-lab-<pid>.* whose
# <pid> is not a live process (dirs kept by LAB_KEEP aside). The holders
# already died with that shell. The mc- prefix is reserved for this library.
lab_gc() {
	local ns pid d
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns =~ ^mc-[a-z0-9-]+-([0-9]+)$ ]] || continue
		pid=${BASH_REMATCH[1]}
		[ -d "/proc/$pid" ] && continue
		_lab_kill_ns "$(_lab_netns_id "$ns")" || true
		ip netns del "$ns" 2>/dev/null || true
	done
	for d in "$LAB_TMP"/mc-lab-*.*; do
		[ -d "$d" ] || continue
		[[ ${d##*/} =~ ^mc-lab-([0-9]+)\. ]] || continue
		[ -d "/proc/${BASH_REMATCH[1]}" ] || [ -e "$d/.kept" ] || rm -rf "$d"
	done
}

# _lab_netns_id NETNS: 'net:[N]' of a named network namespace.
_lab_netns_id() {
	local i
	i=$(stat -c %i "/run/netns/$1" 2>/dev/null) && echo "net:[$i]"
}

# _lab_drop_stale_netns NETNS: a namespace named after this shell's PID that
# this shell did not make was left by a SIGKILLed shell that had the same PID.
_lab_drop_stale_netns() {
	[ -e "/run/netns/$1" ] || return 0
	_lab_err "removing stale network namespace '$1'"
	_lab_kill_ns "$(_lab_netns_id "$1")" || true
	ip netns del "$1" 2>/dev/null || true
}

# _lab_procs_in NSID...: outer PIDs of processes in any of the namespaces
# (as readlink /proc/PID/ns/* prints them, e.g. 'net:[4026532182]').
_lab_procs_in() {
	local args=() id kind
	for id in "$@"; do
		[[ $id =~ ^([a-z]+):\[([0-9]+)\]$ ]] || continue
		kind=${BASH_REMATCH[1]}
		[ ${#args[@]} -gt 0 ] && args+=(-o)
		args+=(-path "*/ns/$kind" -lname "$kind:?${BASH_REMATCH[2]}?")
	done
	[ ${#args[@]} -gt 0 ] || return 0
	# zombies are dead already and hold nothing; their parent reaps them
	find /proc/[0-9]*/ns -maxdepth 1 \( "${args[@]}" \) 2>/dev/null |
		cut -d/ -f3 | sort -un | grep -vx "$$" |
		while read -r id; do
			grep -qs '^State:[[:space:]]*Z' "/proc/$id/status" || echo "$id"
		done || true
}

# _lab_kill_ns NSID...: SIGKILL every process in those namespaces and wait
# (at most 5 s) until none is left.
_lab_kill_ns() {
	local pids i
	for i in $(seq 50); do
		pids=$(_lab_procs_in "$@")
		[ -z "$pids" ] && return 0
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null || true
		sleep 0.1
	done
	_lab_err "processes still alive in namespaces $*: $(_lab_procs_in "$@" | tr '\n' ' ')"
	return 1
}

_lab_on_exit() {
	local rc=$?
	[ "${BASHPID:-$$}" = "$_LAB_OWNER" ] || return "$rc"
	set +e # exiting anyway; the chained trap must run
	disown -a 2>/dev/null # exiting: no "Killed" reports for host_exec jobs
	lab_destroy || true
	if [ -n "$_LAB_PREV_EXIT" ]; then
		(exit "$rc")
		eval "$_LAB_PREV_EXIT"
	fi
	exit "$rc"
}

_lab_install_traps() {
	local t words
	t=$(trap -p EXIT)
	[ "$t" = "trap -- '_lab_on_exit' EXIT" ] && return 0 # a second lab
	_LAB_PREV_EXIT=
	if [ -n "$t" ]; then
		# "trap -- 'CMD' EXIT", shell-quoted: let the shell split it
		eval "words=($t)"
		_LAB_PREV_EXIT=${words[2]}
	fi
	trap _lab_on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# lab_create: the bridge namespace and $LAB_DIR. host_create calls it.
lab_create() {
	[ -n "$LAB_ID" ] && return 0
	_lab_need_tools || return 1
	case "$LAB_TMP/" in /etc/* | /var/* | /usr/local/* | /run/*)
		_lab_err "LAB_TMP '$LAB_TMP' is under an overlaid or private directory"
		return 1 ;;
	esac
	lab_gc
	LAB_ID=$$
	LAB_NETNS=mc-lab-$LAB_ID
	_LAB_OWNER=$$
	_lab_install_traps
	LAB_DIR=$(mktemp -d "$LAB_TMP/mc-lab-$LAB_ID.XXXXXX") || { LAB_ID=; return 1; }
	_lab_drop_stale_netns "$LAB_NETNS"
	if ! ip netns add "$LAB_NETNS"; then
		_lab_err "cannot create network namespace '$LAB_NETNS'"
		return 1
	fi
	ip -n "$LAB_NETNS" link set lo up &&
		ip -n "$LAB_NETNS" link add name br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0 &&
		ip -n "$LAB_NETNS" link set br0 addrgenmode none &&
		ip -n "$LAB_NETNS" link set br0 alias "$LAB_NETNS" &&
		ip -n "$LAB_NETNS" link set br0 up || {
		_lab_err "cannot set up bridge br0 in '$LAB_NETNS'"
		return 1
	}
}

_host_check_addr() {
	local name=$1 v4=$2 v6=$3 h
	if ! [[ $v4 =~ ^192\.0\.2\.([1-9][0-9]{0,2})$ ]] || ((BASH_REMATCH[1] > 254)); then
		_lab_err "host '$name': IPv4 '$v4' is not a host address in 192.0.2.0/24"
		return 1
	fi
	if [ -n "$v6" ] && ! [[ ${v6,,} =~ ^2001:0?db8:[0-9a-f:]*$ ]]; then
		_lab_err "host '$name': IPv6 '$v6' is not in 2001:db8::/32"
		return 1
	fi
	for h in "${LAB_HOSTS[@]}"; do
		if [ "${_HOST_V4[$h]}" = "$v4" ] || { [ -n "$v6" ] && [ "${_HOST_V6[$h]}" = "$v6" ]; }; then
			_lab_err "host '$name': address already used by '$h'"
			return 1
		fi
	done
}

# _lab_write_hosts: every host's /etc/hosts lists every lab host. Written
# in place (never renamed over): the file is a bind mount.
_lab_write_hosts() {
	local h g
	for h in "${LAB_HOSTS[@]}"; do
		{
			printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
			printf '# lab %s\n' "$LAB_NETNS"
			for g in "${LAB_HOSTS[@]}"; do
				printf '%s\t%s %s%s\n' "${_HOST_V4[$g]}" "${_HOST_FQDN[$g]}" "$g" "${_HOST_ALIASES[$g]:+ ${_HOST_ALIASES[$g]}}"
				[ -z "${_HOST_V6[$g]}" ] ||
					printf '%s\t%s %s%s\n' "${_HOST_V6[$g]}" "${_HOST_FQDN[$g]}" "$g" "${_HOST_ALIASES[$g]:+ ${_HOST_ALIASES[$g]}}"
			done
		} >"$LAB_DIR/$h/etc/hosts"
	done
}

# _host_make_dirs NAME: the per-host tree, owners and modes as on the machine.
_host_make_dirs() {
	local hd=$LAB_DIR/$1 p
	mkdir -p "$hd/.ovl" || return 1
	for p in "${HOST_PRIVATE_DIRS[@]}"; do
		mkdir -p "$hd$p" || return 1
		if [ -e "$p" ]; then
			chown --reference="$p" "$hd$p" && chmod --reference="$p" "$hd$p" || return 1
		fi
	done
	for p in "${HOST_COPIED_DIRS[@]}"; do
		[ -d "$p" ] && { cp -a "$p/." "$hd$p/" || return 1; }
	done
	mkdir -p "$hd/run/lock" && chmod 1777 "$hd/run/lock"
	for p in "${HOST_PRIVATE_FILES[@]}"; do
		mkdir -p "$hd${p%/*}" && : >"$hd$p" && chmod 0644 "$hd$p" || return 1
	done
	echo "${_HOST_FQDN[$1]}" >"$hd/etc/hostname"
	echo "${_HOST_FQDN[$1]}" >"$hd/etc/mailname"
	host_set_resolver "$1" "$HOST_RESOLVER"
}

# _host_net NAME: netns with lo up, veth eth0 <-> p-NAME on the bridge.
_host_net() {
	local name=$1 ns=mc-$1-$LAB_ID
	_lab_drop_stale_netns "$ns"
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up &&
		ip -n "$LAB_NETNS" link add name "p-$name" type veth peer name eth0 netns "$ns" &&
		ip -n "$LAB_NETNS" link set "p-$name" alias "$LAB_NETNS/$name" &&
		ip -n "$LAB_NETNS" link set "p-$name" addrgenmode none &&
		ip -n "$LAB_NETNS" link set "p-$name" master br0 up &&
		ip -n "$ns" link set eth0 alias "$LAB_NETNS/$name" &&
		ip -n "$ns" addr add "${_HOST_V4[$name]}/24" dev eth0 &&
		{ [ -z "${_HOST_V6[$name]}" ] || ip -n "$ns" addr add "${_HOST_V6[$name]}/64" dev eth0 nodad; } &&
		ip -n "$ns" link set eth0 up
}

# _host_start_holder NAME: the process owning the host's other namespaces.
# setpriv ties it to this shell (SIGKILL when the shell dies); unshare's
# --kill-child ties PID 1 of the host to it, and all the host to PID 1.
_host_start_holder() {
	local name=$1 hd=$LAB_DIR/$1 i pid child
	(
		export MC_HD=$hd MC_FQDN=${_HOST_FQDN[$name]} MC_OVERLAYS=$HOST_OVERLAYS \
			MC_OVL_SIZE=$HOST_OVERLAY_SIZE MC_DIRS="${HOST_PRIVATE_DIRS[*]}" \
			MC_FILES="${HOST_PRIVATE_FILES[*]}"
		exec setpriv --pdeathsig KILL -- nsenter --net="/run/netns/mc-$name-$LAB_ID" -- \
			unshare --mount --uts --ipc --pid --fork --kill-child --mount-proc \
			--propagation private -- bash -c "$_HOST_SETUP" </dev/null >"$hd/holder.log" 2>&1
	) &
	pid=$!
	_HOST_HOLDER[$name]=$pid
	for i in $(seq 100); do
		[ -e "$hd/.ready" ] && break
		if ! kill -0 "$pid" 2>/dev/null; then
			_lab_err "host '$name' did not start: $(cat "$hd/holder.log")"
			return 1
		fi
		sleep 0.05
	done
	[ -e "$hd/.ready" ] || { _lab_err "host '$name' not ready after 5 s: $(cat "$hd/holder.log")"; return 1; }
	# $! may be a subshell that has not exec'ed yet on some bashes: walk down
	# to the first process in another PID namespace.
	child=$pid
	for i in 1 2 3 4; do
		if [ "$(readlink "/proc/$child/ns/pid")" != "$(readlink /proc/$$/ns/pid)" ]; then
			_HOST_INIT[$name]=$child
			_HOST_NS[$name]="$(readlink "/proc/$child/ns/net") $(readlink "/proc/$child/ns/mnt") $(readlink "/proc/$child/ns/pid") $(readlink "/proc/$child/ns/uts") $(readlink "/proc/$child/ns/ipc")"
			return 0
		fi
		child=$(cat "/proc/$child/task/$child/children" 2>/dev/null)
		child=${child%% *}
		[ -n "$child" ] || break
	done
	_lab_err "host '$name': cannot find its PID 1 below holder $pid"
	return 1
}

# host_create NAME IPV4 [IPV6]: a new host NAME.$LAB_DOMAIN (HOST_FQDN=...
# overrides the name, HOST_ALIASES="a b" adds /etc/hosts names).
host_create() {
	local name=${1:-} v4=${2:-} v6=${3:-}
	if ! [[ $name =~ ^[a-z][a-z0-9-]{0,12}$ ]] || [ "$name" = lab ]; then
		_lab_err "host name '$name': want [a-z][a-z0-9-]{0,12}, not 'lab'"
		return 2
	fi
	[ -n "$LAB_ID" ] && [ -n "${_HOST_V4[$name]:-}" ] && { _lab_err "host '$name' exists"; return 2; }
	lab_create || return 1
	_host_check_addr "$name" "$v4" "$v6" || return 2
	_HOST_V4[$name]=$v4
	_HOST_V6[$name]=$v6
	_HOST_FQDN[$name]=${HOST_FQDN:-$name.$LAB_DOMAIN}
	_HOST_ALIASES[$name]=${HOST_ALIASES:-}
	LAB_HOSTS+=("$name")
	if ! mkdir "$LAB_DIR/$name" || ! _host_make_dirs "$name"; then
		_lab_err "host '$name': cannot make its directories under '$LAB_DIR'"
		host_destroy "$name"
		return 1
	fi
	_lab_write_hosts
	if ! _host_net "$name"; then
		_lab_err "host '$name': cannot set up its network"
		host_destroy "$name"
		return 1
	fi
	if ! _host_start_holder "$name"; then
		host_destroy "$name"
		return 1
	fi
	# Postfix refuses to start without its queue directories.
	if command -v postfix >/dev/null 2>&1; then
		host_exec "$name" postfix post-install create-missing >/dev/null 2>&1 ||
			_lab_err "host '$name': warning: postfix post-install create-missing failed"
	fi
}

_host_known() {
	if [ -z "${1:-}" ] || [ -z "${_HOST_INIT[$1]:-}" ]; then
		_lab_err "no running host '${1:-}'"
		return 2
	fi
}

# host_exec NAME CMD...: run CMD in all of NAME's namespaces (cwd /), with
# stdin passed through, killed after $HOST_TIMEOUT s (status 124).
host_exec() {
	local name=${1:-} pid rc=0
	_host_known "$name" || return 2
	shift
	# In the background so that this shell's INT/TERM traps run at once.
	timeout -k 5 "$HOST_TIMEOUT" nsenter --target "${_HOST_INIT[$name]}" \
		--mount --net --uts --ipc --pid -- "$@" <&0 &
	pid=$!
	wait "$pid" || rc=$?
	[ "$rc" = 124 ] && _lab_err "host '$name': timed out after ${HOST_TIMEOUT}s: $*"
	return "$rc"
}

# host_sh NAME 'SCRIPT' [ARGS...]: bash -c SCRIPT inside NAME.
host_sh() {
	local name=${1:-}
	shift
	host_exec "$name" bash -c "$@"
}

# host_spawn NAME CMD...: start CMD detached inside NAME (own session, stdin
# /dev/null, output appended to NAME's /var/log/spawn.log); prints its PID as
# seen from the test (usable with kill). It dies with the host.
host_spawn() {
	local name=${1:-} inner outer
	_host_known "$name" || return 2
	shift
	inner=$(host_sh "$name" 'setsid "$@" </dev/null >>/var/log/spawn.log 2>&1 & echo $!' spawn "$@") ||
		return 1
	outer=$(host_outer_pid "$name" "$inner") || {
		_lab_err "host '$name': '$*' exited at once: $(tail -n 5 "$LAB_DIR/$name/var/log/spawn.log")"
		return 1
	}
	echo "$outer"
}

# host_pids NAME: PIDs (as seen from the test) of every process in NAME.
host_pids() {
	_host_known "${1:-}" || return 2
	_lab_procs_in "$(echo "${_HOST_NS[$1]}" | awk '{print $3}')"
}

# host_outer_pid NAME INNER_PID: the test's PID for NAME's process INNER_PID.
host_outer_pid() {
	local p
	for p in $(host_pids "$1"); do
		if awk -v want="$2" '/^NSpid:/ { exit !($NF == want) }' "/proc/$p/status" 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# host_ns_ids NAME: NAME's namespaces ('net:[N] mnt:[N] pid:[N] uts:[N] ipc:[N]').
host_ns_ids() {
	_host_known "${1:-}" || return 2
	echo "${_HOST_NS[$1]}"
}

# host_path NAME PATH: where NAME's private PATH (a bind-mounted directory
# or file, e.g. /var/mail) lives on the test's side.
host_path() {
	if [ -z "${LAB_DIR:-}" ] || [ ! -d "$LAB_DIR/${1:-}" ]; then
		_lab_err "no host '${1:-}'"
		return 2
	fi
	echo "$LAB_DIR/$1${2:-}"
}

# host_ip NAME [4|6]: NAME's address.
host_ip() {
	if [ "${2:-4}" = 6 ]; then echo "${_HOST_V6[${1:-}]:-}"; else echo "${_HOST_V4[${1:-}]:-}"; fi
}

# host_set_resolver NAME ADDR...: NAME's /etc/resolv.conf (in place).
host_set_resolver() {
	local name=$1 a
	shift
	{
		for a in "$@"; do echo "nameserver $a"; done
		echo "options timeout:1 attempts:1"
	} >"$LAB_DIR/$name/etc/resolv.conf"
}

# host_wait_port NAME ADDR PORT [SECONDS]: wait until a TCP connect from
# inside NAME to ADDR:PORT succeeds (default 10 s).
host_wait_port() {
	local name=$1 addr=$2 port=$3 secs=${4:-10}
	# shellcheck disable=SC2016
	host_sh "$name" 'for i in $(seq $(($3 * 10))); do
		(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && exit 0
		sleep 0.1
	done
	echo "nothing listens on $1 port $2 after $3 s" >&2
	exit 1' wait "$addr" "$port" "$secs"
}

# host_postfix NAME ARGS...: 'postfix ARGS' inside NAME; before start it
# syncs the chroot (hosts, resolv.conf, ... into the private spool) as
# Debian's service unit does.
host_postfix() {
	local name=$1
	shift
	case "${1:-}" in start | restart | reload)
		host_exec "$name" /usr/lib/postfix/configure-instance.sh - || return 1 ;;
	esac
	host_exec "$name" postfix "$@"
}

# host_destroy NAME: kill every process of NAME, remove its network
# namespace, veth pair and directory.
host_destroy() {
	local name=${1:-} h keep=()
	[ -n "$name" ] || return 2
	# PID 1 first: the kernel then kills the rest of the host. The holder is
	# reaped at once, in braces, so bash prints no "Killed" job report.
	if [ -n "${_HOST_INIT[$name]:-}" ]; then kill -KILL "${_HOST_INIT[$name]}" 2>/dev/null || true; fi
	if [ -n "${_HOST_HOLDER[$name]:-}" ]; then
		kill -KILL "${_HOST_HOLDER[$name]}" 2>/dev/null || true
		{ wait "${_HOST_HOLDER[$name]}"; } 2>/dev/null || true
	fi
	# Stragglers are found through the named network namespace only: it
	# lives until 'ip netns del', so its id cannot have been reused. The
	# ids of the host's other namespaces die with the holder and may by now
	# belong to another test's namespaces, whose processes must not be hit.
	if [ -n "$LAB_NETNS" ]; then
		ip -n "$LAB_NETNS" link del "p-$name" 2>/dev/null || true
		if [ -e "/run/netns/mc-$name-$LAB_ID" ]; then
			_lab_kill_ns "$(_lab_netns_id "mc-$name-$LAB_ID")" || true
			ip netns del "mc-$name-$LAB_ID" || true
		fi
	fi
	if [ -n "$LAB_DIR" ] && [ -z "$LAB_KEEP" ]; then rm -rf "${LAB_DIR:?}/$name"; fi
	for h in "${LAB_HOSTS[@]}"; do [ "$h" = "$name" ] || keep+=("$h"); done
	LAB_HOSTS=("${keep[@]}")
	unset "_HOST_V4[$name]" "_HOST_V6[$name]" "_HOST_FQDN[$name]" "_HOST_ALIASES[$name]" \
		"_HOST_HOLDER[$name]" "_HOST_INIT[$name]" "_HOST_NS[$name]"
	if [ -n "$LAB_DIR" ]; then _lab_write_hosts || true; fi
	return 0
}

# lab_destroy: every host, the bridge namespace and $LAB_DIR. Idempotent.
lab_destroy() {
	local h
	[ -n "$LAB_ID" ] || return 0
	for h in "${LAB_HOSTS[@]}"; do host_destroy "$h"; done
	if [ -e "/run/netns/$LAB_NETNS" ]; then
		_lab_kill_ns "$(_lab_netns_id "$LAB_NETNS")" || true
		ip netns del "$LAB_NETNS" || true
	fi
	if [ -n "$LAB_KEEP" ]; then
		: >"$LAB_DIR/.kept" # lab_gc leaves it alone
		_lab_err "LAB_KEEP: kept $LAB_DIR"
	else
		rm -rf "$LAB_DIR"
	fi
	LAB_ID='' LAB_DIR='' LAB_NETNS=''
	LAB_HOSTS=()
}

# host_mailctl NAME ARGS...: the mailctl under test inside host NAME, with
# the host's own /etc/mailctl/mailctl.yaml (not the test's MAILCTL_CONFIG).
host_mailctl() {
	local name=$1
	shift
	host_exec "$name" env -u MAILCTL_CONFIG "$MAILCTL" "$@"
}

# host_install_mailctl NAME: in host NAME, what provision/install.sh does
# before 'mailctl setup': the mailctl and vmail users, the state
# directories with install.sh's modes, the templates, the blocklist table
# and the mailctld under test where 'mailctl service' finds them
# (/usr/local, the host's private overlay). $MAILCTLD names the daemon
# binary. (install.sh also makes the database group-writable before
# setup: host_db_writable does that after it.)
host_install_mailctl() {
	local name=$1
	if [ -z "${MAILCTLD:-}" ] || [ ! -x "$MAILCTLD" ]; then
		_lab_err "MAILCTLD ('${MAILCTLD:-}') is not the built mailctld"
		return 2
	fi
	# shellcheck disable=SC2016
	host_sh "$name" 'set -e
		getent group mailctl >/dev/null || groupadd --system mailctl
		getent passwd mailctl >/dev/null || useradd --system --gid mailctl \
			--home-dir /var/lib/mailctl --no-create-home --shell /usr/sbin/nologin mailctl
		getent group vmail >/dev/null || groupadd --system vmail
		getent passwd vmail >/dev/null ||
			useradd --system --gid vmail --no-create-home --shell /usr/sbin/nologin vmail
		install -d -m 0750 -o root -g mailctl /etc/mailctl
		install -d -m 2770 -o root -g mailctl /var/lib/mailctl
		install -d -m 2770 -o mailctl -g mailctl /var/lib/mailctl/keys
		install -d -m 0750 -o root -g mailctl /var/log/mailctl
		install -d -m 0770 -o vmail -g vmail /var/mail/vhosts
		install -d -m 0700 -o vmail -g vmail /var/mail/archive
		rm -rf /usr/local/share/mailctl/templates
		mkdir -p /usr/local/share/mailctl /usr/local/sbin
		cp -r "$1/templates" /usr/local/share/mailctl/
		cp "$1/data/dnsbl.yaml" /usr/local/share/mailctl/
		install -m 0755 "$2" /usr/local/sbin/mailctld' _ "$MAILCTL_SRC" "$MAILCTLD"
}

# host_db_writable NAME: the database writable by group mailctl, as
# install.sh leaves it (mailctld's jobs write to it as the mailctl user).
# setup has added ACL entries by then, so the owning group's entry is set
# with setfacl: chmod would only change the ACL mask.
host_db_writable() {
	host_exec "$1" sh -c 'chgrp mailctl /var/lib/mailctl/mailctl.db &&
		setfacl -m g::rw /var/lib/mailctl/mailctl.db'
}
