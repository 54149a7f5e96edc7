# tests/integration/lib/dns.sh - pieces of the lab's DNS server (sourced).
#
# nsd_server_conf DIR: the 'server:' part of an nsd.conf for an nsd that
# runs unprivileged-style inside a lab host, answering on 127.0.0.1:5353
# (unbound in the same host forwards to it), with every file under DIR.
# Append 'zone:' blocks after it.
nsd_server_conf() {
	cat <<EOC
server:
	ip-address: 127.0.0.1@5353
	username: ""
	chroot: ""
	zonesdir: "$1"
	database: ""
	zonelistfile: "$1/zone.list"
	xfrdfile: "$1/xfrd.state"
	xfrdir: "$1"
	pidfile: "$1/nsd.pid"
	logfile: "$1/nsd.log"
	server-count: 1
	verbosity: 1
remote-control:
	control-enable: no
EOC
}

# unbound_server_conf DIR: the common start of the lab resolver's 'server:'
# block: it answers lab clients on 192.0.2.53 and 2001:db8::53, keeps every
# file under DIR, and refuses every name but those the caller adds as
# transparent local zones (with stub zones to nsd), so nothing leaves the
# lab. Append further server options, then the zones.
unbound_server_conf() {
	cat <<EOC
server:
	interface: 192.0.2.53
	interface: 2001:db8::53
	port: 53
	access-control: 192.0.2.0/24 allow
	access-control: 2001:db8::/32 allow
	username: ""
	chroot: ""
	directory: "$1"
	pidfile: "$1/unbound.pid"
	logfile: "$1/unbound.log"
	use-syslog: no
	verbosity: 1
	do-not-query-localhost: no
	qname-minimisation: no
	local-zone: "." refuse
EOC
}

# lab_dns_conf DIR [-u 'OPTION: VALUE']... ZONE...: DIR/nsd.conf and
# DIR/unbound.conf of a lab DNS host (the two above), and DIR/zones, the
# list lab_dns_start reads. nsd serves each ZONE from DIR/ZONE.zone, or
# from DIR/FILE when written ZONE=FILE; a ZONE written ZONE@ADDR is not in
# nsd: unbound asks ADDR for it (a server that never answers, say). unbound
# keeps every ZONE as a transparent local zone with a stub zone, refuses
# every other name, and runs the iterator alone unless an option sets
# module-config; each -u adds that line to its 'server:' block.
lab_dns_conf() {
	local dir=$1 z name file addr opts=()
	shift
	while [ "${1:-}" = -u ]; do
		opts+=("$2")
		shift 2
	done
	{
		nsd_server_conf "$dir"
		for z in "$@"; do
			[ "${z#*@}" = "$z" ] || continue
			name=${z%%=*} file=${z#*=}
			[ "$file" != "$z" ] || file=$name.zone
			printf 'zone:\n\tname: %s\n\tzonefile: "%s/%s"\n' "$name" "$dir" "$file"
		done
	} >"$dir/nsd.conf"
	{
		unbound_server_conf "$dir"
		case "${opts[*]}" in *module-config:*) ;; *) printf '\tmodule-config: "iterator"\n' ;; esac
		for z in "${opts[@]}"; do printf '\t%s\n' "$z"; done
		for z in "$@"; do printf '\tlocal-zone: "%s." transparent\n' "${z%%[=@]*}"; done
		for z in "$@"; do
			addr=127.0.0.1@5353
			[ "${z#*@}" = "$z" ] || addr=${z#*@}
			printf 'stub-zone:\n\tname: "%s."\n\tstub-addr: %s\n' "${z%%[=@]*}" "$addr"
		done
	} >"$dir/unbound.conf"
	printf '%s\n' "$@" >"$dir/zones"
}

LAB_DNS_PIDS=

# lab_dns_start HOST DIR: (re)start, inside HOST, nsd and unbound as
# lab_dns_conf DIR wrote them - unbound with a cold cache, as a provider's
# DNS would serve a changed zone once the old answers expired - and return
# once nsd answers the SOA of every zone it serves and unbound answers
# (whatever its rcode: a zone may fail DNSSEC validation on purpose), 5 s
# at most each. Their PIDs are in LAB_DNS_PIDS. A bad configuration or a
# server that does not come up: the reason on stderr, status 1.
lab_dns_start() {
	local host=$1 dir=$2 srv pid zones
	lab_dns_stop
	for srv in nsd unbound; do
		if ! "$srv-checkconf" "$dir/$srv.conf" >"$dir/checkconf" 2>&1; then
			echo "$srv.conf: $(head -c 300 "$dir/checkconf")" >&2
			return 1
		fi
	done
	zones=$(grep -v @ "$dir/zones" | sed 's/=.*//')
	pid=$(host_spawn "$host" nsd -d -c "$dir/nsd.conf") || { echo "nsd did not start" >&2; return 1; }
	LAB_DNS_PIDS=$pid
	# shellcheck disable=SC2086
	_lab_dns_wait "$host" 127.0.0.1 5353 NOERROR $zones ||
		{ echo "nsd does not answer: $(tail -5 "$dir/nsd.log")" >&2; return 1; }
	pid=$(host_spawn "$host" unbound -d -c "$dir/unbound.conf") || { echo "unbound did not start" >&2; return 1; }
	LAB_DNS_PIDS="$LAB_DNS_PIDS $pid"
	_lab_dns_wait "$host" 192.0.2.53 53 "" "${zones%%$'\n'*}" ||
		{ echo "unbound does not answer: $(tail -5 "$dir/unbound.log")" >&2; return 1; }
}

# lab_dns_stop: stop what lab_dns_start started, waiting 5 s at most for each.
lab_dns_stop() {
	local p
	for p in $LAB_DNS_PIDS; do
		kill "$p" 2>/dev/null
		for _ in $(seq 50); do [ -d "/proc/$p" ] || break; sleep 0.1; done
	done
	LAB_DNS_PIDS=
}

# _lab_dns_wait HOST ADDR PORT RCODE ZONE...: until ADDR:PORT answers the
# SOA of each ZONE with RCODE ("" for any), 5 s at most for each.
_lab_dns_wait() {
	local host=$1
	shift
	# shellcheck disable=SC2016
	host_sh "$host" 'addr=$1 port=$2 rcode=$3
	shift 3
	for z in "$@"; do
		for i in $(seq 50); do
			timeout 1 drill -p "$port" @"$addr" SOA "$z" 2>/dev/null | grep -q "rcode: $rcode" && continue 2
			sleep 0.1
		done
		exit 1
	done' wait "$@"
}

# lab_empty_resolver HOST DIR: unbound inside HOST on 127.0.0.1, answering
# NXDOMAIN for every name (a world with no DNS records), and HOST's
# resolv.conf pointing at it. For tests whose mail needs DNS answers (the
# milter checks SPF, DKIM and DMARC) but no particular records; nothing
# is ever asked outside the host. Prints unbound's PID.
lab_empty_resolver() {
	local host=$1 dir=$2 pid
	mkdir -p "$dir"
	cat >"$dir/unbound.conf" <<EOC
server:
	interface: 127.0.0.1
	port: 53
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "$dir"
	pidfile: "$dir/unbound.pid"
	logfile: "$dir/unbound.log"
	use-syslog: no
	verbosity: 1
	module-config: "iterator"
	local-zone: "." static
EOC
	pid=$(host_spawn "$host" unbound -d -c "$dir/unbound.conf") || return 1
	host_set_resolver "$host" 127.0.0.1
	# shellcheck disable=SC2016
	host_sh "$host" 'for i in $(seq 50); do
		timeout 1 drill @127.0.0.1 SOA example.org 2>/dev/null | grep -q "rcode: NXDOMAIN" && exit 0
		sleep 0.1
	done; exit 1' || { echo "unbound in $host does not answer: $(tail -5 "$dir/unbound.log")" >&2; return 1; }
	echo "$pid"
}
