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
