#!/usr/bin/env bash
# provision/install.sh - install mailctl on a Debian 12 machine (root).
#
# Usage: bash provision/install.sh [--hostname FQDN] [--domain DOMAIN] [--admin ADDR]
# (the arguments go to 'mailctl setup'; see 'mailctl setup -h').
#
# Idempotent: each step checks before it changes anything, and a second run
# on an installed machine reports that nothing changed. Steps:
#   1 packages  2 build  3 install  4 system users  5 directories
#   6 configuration  7 local resolver (unbound)  8 database  9 mailctl setup
#   10 start the servers
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
. provision/deps.sh

PREFIX=${PREFIX:-/usr/local}
CONF_DIR=/etc/mailctl
CONF=$CONF_DIR/mailctl.yaml
STATE_DIR=/var/lib/mailctl
MAIL_ROOT=/var/mail/vhosts
ARCHIVE_ROOT=/var/mail/archive
install_args="$*"
start=$(date +%s)
step_no=0
step_name=""
changed=0

step() {
	step_no=$((step_no + 1))
	step_name=$1
	printf '[%d/10] %-28s (+%ds)\n' "$step_no" "$step_name" $(($(date +%s) - start))
}
did() { echo "      $*"; changed=$((changed + 1)); }
on_error() {
	echo "install.sh: step $step_no ($step_name) failed." >&2
	echo "Fix the error above and run 'bash provision/install.sh${install_args:+ $install_args}' again; finished steps are skipped." >&2
}
trap on_error ERR

if [ "$(id -u)" -ne 0 ]; then
	echo "install.sh: run as root" >&2
	exit 77
fi
if ! grep -q '^VERSION_ID="12"' /etc/os-release 2>/dev/null; then
	echo "install.sh: warning: this is not Debian 12; continuing anyway" >&2
fi

step "Debian packages"
before=$(dpkg-query -W -f='${Package}\n' 2>/dev/null | wc -l)
deps_install "${BUILD_DEPS[@]}" "${RUNTIME_DEPS[@]}"
after=$(dpkg-query -W -f='${Package}\n' 2>/dev/null | wc -l)
[ "$before" = "$after" ] || did "installed $((after - before)) packages"

step "build"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAILCTL_TESTS=OFF \
	-DCMAKE_INSTALL_PREFIX="$PREFIX" >/dev/null
cmake --build build/release -j "$(nproc)" | grep -E 'Linking|error' || true

step "install binaries and templates"
manifest=$(cmake --install build/release 2>&1)
if grep -q '^-- Installing' <<<"$manifest"; then
	did "$(grep -c '^-- Installing' <<<"$manifest") files installed under $PREFIX"
fi
command -v mandb >/dev/null && mandb -q 2>/dev/null || true
# mailctld's unit (installed under $PREFIX/lib/systemd/system).
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	if ! systemctl is-enabled --quiet mailctld 2>/dev/null; then
		systemctl enable --quiet mailctld
		did "enabled mailctld.service"
	fi
fi

step "system users and groups"
if ! getent group mailctl >/dev/null; then
	groupadd --system mailctl
	did "created group mailctl"
fi
# The daemon's own user (mailctld signs with the DKIM keys it owns).
if ! getent passwd mailctl >/dev/null; then
	useradd --system --gid mailctl --home-dir "$STATE_DIR" --no-create-home \
		--shell /usr/sbin/nologin mailctl
	did "created user mailctl"
fi
if ! getent passwd vmail >/dev/null; then
	uid_opt=()
	getent passwd 5000 >/dev/null || getent group 5000 >/dev/null || uid_opt=(--uid 5000)
	[ ${#uid_opt[@]} -gt 0 ] && groupadd --system --gid 5000 vmail || groupadd --system vmail
	useradd --system "${uid_opt[@]}" --gid vmail --home-dir "$MAIL_ROOT" \
		--no-create-home --shell /usr/sbin/nologin vmail
	did "created user vmail"
fi

step "directories"
# ensure_dir PATH MODE OWNER:GROUP. MODE is exact: a set-group-ID bit
# inherited from the parent (Debian's /var/mail has one) is cleared unless
# MODE asks for it; five-digit modes make GNU chmod do that.
ensure_dir() {
	local five
	five=$(printf '%05d' "$2")
	if [ ! -d "$1" ]; then
		install -d -o "${3%:*}" -g "${3#*:}" "$1"
		chmod "$five" "$1"
		did "created $1"
	elif [ "$(stat -c '%a %U:%G' "$1")" != "$2 $3" ]; then
		chown "$3" "$1"
		chmod "$five" "$1"
		did "fixed mode/owner of $1"
	fi
}
ensure_dir "$CONF_DIR" 750 root:mailctl
ensure_dir "$STATE_DIR" 2770 root:mailctl
# DKIM keys: files 0600, owned by the mailctl user when root makes them;
# group members may add keys too.
ensure_dir "$STATE_DIR/keys" 2770 mailctl:mailctl
ensure_dir /var/log/mailctl 750 root:mailctl
ensure_dir "$MAIL_ROOT" 770 vmail:vmail
ensure_dir "$ARCHIVE_ROOT" 700 vmail:vmail

step "configuration"
# 'mailctl setup' (step 9) adds hostname and admin_address.
if [ ! -f "$CONF" ]; then
	umask 027
	cat >"$CONF" <<YAML
# mailctl configuration; 'mailctl config show' lists every key and default.
paths:
  database: $STATE_DIR/mailctl.db
  key_dir: $STATE_DIR/keys
  mail_root: $MAIL_ROOT
  archive_root: $ARCHIVE_ROOT
  template_dir: $PREFIX/share/mailctl/templates
mail:
  vmail_uid: $(id -u vmail)
  vmail_gid: $(id -g vmail)
YAML
	chgrp mailctl "$CONF"
	did "wrote $CONF"
fi
"$PREFIX/sbin/mailctl" --config "$CONF" config check >/dev/null

step "local DNS resolver"
# mailctld and 'blacklist check' ask a recursive resolver of our own:
# DNS blocklists refuse the public ones (dns.resolver below).
if [ -d /run/systemd/system ]; then
	if ! systemctl is-active --quiet unbound; then
		systemctl enable --now --quiet unbound
		did "started unbound on 127.0.0.1"
	fi
elif ! pgrep -x unbound >/dev/null; then
	# What the systemd unit does first: the root trust anchor file.
	[ -x /usr/libexec/unbound-helper ] && /usr/libexec/unbound-helper root_trust_anchor_update >/dev/null 2>&1 || true
	unbound
	did "started unbound on 127.0.0.1"
fi
if ! grep -q '^dns:' "$CONF"; then
	printf 'dns:\n  resolver: 127.0.0.1\n' >>"$CONF"
	did "dns.resolver: 127.0.0.1 (unbound)"
fi

step "account database"
db_out=$("$PREFIX/sbin/mailctl" --config "$CONF" db init)
grep -q 'up to date' <<<"$db_out" || did "$db_out"
db=$STATE_DIR/mailctl.db
if [ "$(stat -c '%a %G' "$db")" != "660 mailctl" ]; then
	chgrp mailctl "$db"
	chmod 0660 "$db"
	did "database writable by the mailctl group"
fi
# Postfix and Dovecot get read access from mailctl setup (next step).

step "mailctl setup"
# Domain, admin user (its password is printed once), certificate, apply.
setup_out=$("$PREFIX/sbin/mailctl" --config "$CONF" setup "$@")
if ! grep -q '^nothing changed' <<<"$setup_out"; then
	sed 's/^/      /' <<<"$setup_out"
	changed=$((changed + 1))
fi

step "start the mail servers"
if ! "$PREFIX/sbin/mailctl" --config "$CONF" service status >/dev/null 2>&1; then
	"$PREFIX/sbin/mailctl" --config "$CONF" service start >/dev/null
	did "started Dovecot, mailctld and Postfix"
fi

trap - ERR
echo
if [ "$changed" -eq 0 ]; then
	echo "mailctl is already installed; nothing changed ($(($(date +%s) - start))s)."
else
	echo "mailctl installed in $(($(date +%s) - start))s ($changed changes)."
fi
cat <<TXT
Next: publish the DNS records ('mailctl dns records DOMAIN') and add users, e.g.
  mailctl user add you@example.org
See 'man 8 mailctl' and INSTALL.md for DNS, PTR and firewall setup.
TXT
