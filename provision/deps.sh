# provision/deps.sh - the Debian 12 packages mailctl needs, in one place.
# Sourced by provision/install.sh and tests/run.sh; defines arrays and
# deps_install, which installs a list non-interactively.

BUILD_DEPS=(build-essential cmake pkg-config
	libssl-dev libsqlite3-dev libncurses-dev libyaml-dev libldns-dev libmilter-dev
	libjansson-dev libcurl4-openssl-dev libargon2-dev libpsl-dev libidn2-dev
	libpwquality-dev cracklib-runtime)
RUNTIME_DEPS=(postfix postfix-sqlite dovecot-core dovecot-imapd dovecot-pop3d
	dovecot-lmtpd dovecot-sqlite dovecot-sieve sqlite3 acl nginx-light nftables fail2ban python3-systemd unbound)
TEST_DEPS=(libcmocka-dev systemd pebble curl python3-spf opendkim opendkim-tools miltertest publicsuffix util-linux iproute2 python3 man-db groff-base clang libclang-rt-14-dev ldnsutils knot-dnssecutils python3-dkim knot-dnsutils nsd unbound swaks libnet-ssleay-perl openssl tmux)

# deps_install PACKAGE...: apt-get update once, then install what is missing.
deps_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing: ${missing[*]}"
	# Postfix asks how to configure itself; mailctl writes its configuration.
	echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}
