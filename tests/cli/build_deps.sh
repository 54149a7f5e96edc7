# tests/cli/build_deps.sh - a missing library stops cmake with the name of
# the Debian package to install. pkg-config is pointed at an empty
# directory, so the first dependency (openssl) cannot be found.
source "$MAILCTL_SRC/tests/lib.sh"
mkdir -p "$T/empty"
got=0
PKG_CONFIG_LIBDIR="$T/empty" PKG_CONFIG_PATH="" \
	cmake -S "$MAILCTL_SRC" -B "$T/build" >"$T/out" 2>&1 || got=$?
[ "$got" -ne 0 ] && pass || fail "cmake succeeded without any library"
contains "$T/out" "missing dependency 'openssl' (pkg-config): apt-get install libssl-dev" \
	"the message names the Debian package"
done_tests
