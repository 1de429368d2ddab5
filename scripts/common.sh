# Shared by scripts/run, scripts/test and scripts/bench (sourced, not run): the repository root and the
# one build directory they all use.
# shellcheck shell=bash

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir="$repo_root/build"

# configure_release [cmake -D options...]: a Release build in build/, with Ninja unless build/ was already
# made with another generator (CMake refuses to switch generators in place).
configure_release() {
    local generator=(-G Ninja)
    if [[ -f "$build_dir/CMakeCache.txt" ]]; then
        generator=()
    fi
    cmake -S "$repo_root" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
}

build_jobs() {
    nproc 2> /dev/null || echo 2
}
