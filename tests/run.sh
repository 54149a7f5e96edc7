#!/usr/bin/env bash
# tests/run.sh - the whole test suite, from a clean clone, as root.
#
# Installs what the tests need from Debian, builds with warnings as errors,
# runs every test (unit, CLI, integration against real Postfix and
# Dovecot), then rebuilds with ASan+UBSan and runs the unit and CLI tests
# again. Build trees go under build/ in the source tree.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"

if [ "$(id -u)" -ne 0 ]; then
	echo "tests/run.sh: run as root (it installs packages and makes namespaces)" >&2
	exit 77
fi

. provision/deps.sh
deps_install "${BUILD_DEPS[@]}" "${RUNTIME_DEPS[@]}" "${TEST_DEPS[@]}"

jobs=$(nproc)
echo "== build (warnings are errors)"
cmake -S . -B build/ci -DMAILCTL_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/ci -j "$jobs"
echo "== tests"
(cd build/ci && ctest --output-on-failure -j "$jobs")

echo "== sanitizer build (ASan + UBSan): unit and CLI tests"
cmake -S . -B build/asan -DMAILCTL_WERROR=ON -DMAILCTL_SANITIZE=ON \
	-DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/asan -j "$jobs"
(cd build/asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	ctest --output-on-failure -j "$jobs" -L 'unit|cli|conformance')

echo "== fuzzing (clang, libFuzzer + ASan + UBSan): bounded campaigns on every parser"
CC=clang cmake -S . -B build/fuzz -DMAILCTL_WERROR=ON -DMAILCTL_FUZZ=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/fuzz -j "$jobs"
(cd build/fuzz && ctest --output-on-failure -j "$jobs" -L fuzz)
