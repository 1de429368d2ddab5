#!/usr/bin/env bash
# tst_packages: makes the .deb and the .tar.gz with cpack from a build directory, into a temporary directory,
# and checks them as a Debian 12 machine would see them: the control fields and Depends, the conffiles and
# maintainer scripts (and what they do, run on a fake root), every file and its mode, lintian, the unpacked
# binary run from the package's tree, the desktop entry, the icons, the man page, the systemd unit, and the
# tar.gz holding the same files.
# Every tool it needs must be there (scripts/install-deps --test): a missing one fails the test.
#
#   tst_packages.sh BUILD_DIR VERSION CMAKE CPACK      (ctest passes these; label "packages")
set -euo pipefail

if (($# != 4)); then
    echo "usage: tst_packages.sh BUILD_DIR VERSION CMAKE CPACK" >&2
    exit 2
fi
build_dir=$1
version=$2
cmake=$3
cpack=$4

failures=0
die() {
    echo "FAIL: $*" >&2
    exit 1
}
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
pass() {
    echo "PASS: $*"
}
# check WHAT COMMAND...: WHAT passes when COMMAND succeeds, else it fails.
check() {
    local what=$1
    shift
    if "$@"; then
        pass "$what"
    else
        fail "$what"
    fi
}

for tool in dpkg dpkg-deb dpkg-shlibdeps lintian desktop-file-validate systemd-analyze man groff shellcheck tar \
    gzip od sha256sum ldd; do
    command -v "$tool" > /dev/null || die "$tool is not installed (scripts/install-deps --test installs it)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tst_packages.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The packages hold what the build holds: bring the executable and the generated files up to date first (a
# no-op after a build).
"$cmake" --build "$build_dir" --target bourse bourse_installer_files > "$tmp/build.log" 2>&1 ||
    { cat "$tmp/build.log" >&2; die "building bourse in $build_dir failed"; }

if ! "$cpack" --config "$build_dir/CPackConfig.cmake" -B "$tmp/out" > "$tmp/cpack.log" 2>&1; then
    cat "$tmp/cpack.log" >&2
    die "cpack failed"
fi
arch=$(dpkg --print-architecture)
deb=$tmp/out/bourse_${version}_${arch}.deb
tgz=$tmp/out/bourse-$version-Linux-$(uname -m).tar.gz
[[ -f "$deb" ]] || die "cpack made no $(basename "$deb"): $(ls "$tmp/out")"
[[ -f "$tgz" ]] || die "cpack made no $(basename "$tgz"): $(ls "$tmp/out")"
pass "cpack made $(basename "$deb") and $(basename "$tgz")"

# ---- control fields
echo "---- dpkg-deb --info $(basename "$deb")"
dpkg-deb --info "$deb"
field() {
    dpkg-deb --field "$deb" "$1"
}
check "Package is bourse (it is '$(field Package)')" test "$(field Package)" == bourse
check "Version is $version (it is '$(field Version)')" test "$(field Version)" == "$version"
check "Architecture is $arch (it is '$(field Architecture)')" test "$(field Architecture)" == "$arch"

# The package names of a relation field: "a (>= 1), b | c" gives a, b and c, one a line.
relation_names() {
    local text=${1//[,|]/$'\n'}
    sed -e 's/(.*)//' -e 's/\[.*\]//' -e 's/[[:space:]]//g' <<< "$text" | grep -v '^$' || true
}
depends=$(relation_names "$(field Depends)")
for package in libqt6core6 libqt6gui6 libqt6sql6 libqt6sql6-sqlite libqt6httpserver6 libqt6websockets6 libssl3 \
    libargon2-1 libpq5 adduser qml6-module-qtquick qml6-module-qtquick-controls qml6-module-qtquick-layouts \
    qml6-module-qtquick-templates qml6-module-qtquick-window qml6-module-qtqml-workerscript qml6-module-qtcharts; do
    check "Depends names $package" grep -qx -- "$package" <<< "$depends"
done
# A misspelt name would make the package uninstallable: this machine built bourse, so it has every one
# installed, or a package that provides it (qt6-websockets-abi).
installed=$(dpkg-query --show --showformat='${db:Status-Status} ${Package}, ${Provides}\n' |
    sed -n 's/^installed //p')
installed=$(relation_names "${installed//$'\n'/,}")
while read -r package; do
    grep -qx -- "$package" <<< "$installed" ||
        fail "Depends names $package, which no installed package here is or provides"
done <<< "$depends"
recommends=$(relation_names "$(field Recommends)")
for package in libqt6sql6-psql postgresql-client; do
    check "Recommends names $package" grep -qx -- "$package" <<< "$recommends"
done

# ---- control files: conffiles and the maintainer scripts
dpkg-deb --control "$deb" "$tmp/control"
if [[ "$(cat "$tmp/control/conffiles" 2> /dev/null)" == /etc/bourse/bourse.toml ]]; then
    pass "conffiles lists /etc/bourse/bourse.toml"
else
    fail "conffiles is not exactly /etc/bourse/bourse.toml: $(cat "$tmp/control/conffiles" 2>&1)"
fi
for script in postinst prerm postrm; do
    file=$tmp/control/$script
    if [[ ! -f "$file" ]]; then
        fail "the package has no $script"
        continue
    fi
    [[ "$(stat -c %a "$file")" == 755 ]] || fail "$script has mode $(stat -c %a "$file"), not 755"
    [[ "$(head -n 1 "$file")" == "#!/bin/sh" ]] || fail "$script does not start with #!/bin/sh"
    grep -qx 'set -e' "$file" || fail "$script has no 'set -e' line"
    sh -n "$file" || fail "$script: sh -n finds a syntax error"
    shellcheck --shell=sh "$file" || fail "$script: shellcheck finds problems (above)"
    pass "$script: mode 755, set -e, sh -n and shellcheck clean"
done

# ---- the maintainer scripts, run on a fake root: DPKG_ROOT=$tmp/fake, as dpkg --force-script-chrootless
# sets it. Every command that would act on this machine is on PATH as a fake that logs its call and fails:
# none may run. postrm purge removes the config file and dpkg's copies of it, keeps an administrator's file in
# /etc/bourse and names it, keeps the venue and the user; postrm remove changes nothing; postinst refuses.
fake=$tmp/fake
mkdir -p "$tmp/fakebin"
for command in systemctl deb-systemd-invoke deb-systemd-helper adduser deluser dpkg-statoverride getent; do
    printf '#!/bin/sh\necho "%s $*" >> "%s"\nexit 1\n' "$command" "$tmp/fakebin.log" > "$tmp/fakebin/$command"
    chmod 755 "$tmp/fakebin/$command"
done
: > "$tmp/fakebin.log"
# run_script NAME ARGUMENT...: runs the package's maintainer script NAME on the fake root; output in $output.
run_script() {
    local script=$1
    shift
    status=0
    output=$(env -i PATH="$tmp/fakebin:/usr/bin:/bin" DPKG_ROOT="$fake" sh "$tmp/control/$script" "$@" 2>&1) ||
        status=$?
    echo "$script $*: exit $status: $output"
}
# Every path under the fake root with its type, mode and link target.
snapshot() {
    (cd "$fake" && find . -printf '%p %y %m %l\n' | sort)
}
make_fake_root() {
    rm -rf "$fake"
    mkdir -p "$fake/etc/bourse" "$fake/var/lib/bourse" "$fake/etc/systemd/system/multi-user.target.wants"
    echo 'data_dir = "/var/lib/bourse"' > "$fake/etc/bourse/bourse.toml"
    echo 'database_url = "postgresql://bourse:secret@db/bourse"' > "$fake/etc/bourse/bourse.toml.dpkg-old"
    echo 'not a key' > "$fake/etc/bourse/key.pem"
    echo 'the venue' > "$fake/var/lib/bourse/bourse.db"
    ln -s /lib/systemd/system/bourse.service "$fake/etc/systemd/system/multi-user.target.wants/bourse.service"
}

make_fake_root
snapshot > "$tmp/before"
run_script postrm remove
check "postrm remove: exit 0 (exit $status)" test "$status" == 0
if diff -u "$tmp/before" <(snapshot); then
    pass "postrm remove changes nothing on the fake root"
else
    fail "postrm remove changed the fake root (diff above: - before, + after)"
fi
check "postrm remove says it kept the config file" grep -qF "kept $fake/etc/bourse/bourse.toml" <<< "$output"

run_script postrm purge
check "postrm purge: exit 0 (exit $status)" test "$status" == 0
grep -v -e '^\./etc/bourse/bourse\.toml ' -e '^\./etc/bourse/bourse\.toml\.dpkg-old ' \
    -e '^\./etc/systemd/system/multi-user\.target\.wants/bourse\.service ' "$tmp/before" > "$tmp/purged"
if diff -u "$tmp/purged" <(snapshot); then
    pass "postrm purge removes bourse.toml, bourse.toml.dpkg-old and the enablement; keeps key.pem, the venue"
else
    fail "postrm purge left the fake root other than expected (diff above: - expected, + after)"
fi
removed="$fake/etc/bourse/bourse.toml $fake/etc/bourse/bourse.toml.dpkg-old"
check "postrm purge names the files it removed" grep -qxF \
    "bourse: removed the config file and dpkg's copies of it: $removed" <<< "$output"
check "postrm purge says it kept /etc/bourse and lists key.pem" grep -qxF \
    "bourse: kept $fake/etc/bourse: the files in it are not the package's: key.pem" <<< "$output"
check "postrm purge says it kept the venue" grep -qF "kept $fake/var/lib/bourse" <<< "$output"

# With nothing but the package's files in it, /etc/bourse goes.
make_fake_root
rm "$fake/etc/bourse/key.pem"
mv "$fake/etc/bourse/bourse.toml.dpkg-old" "$fake/etc/bourse/bourse.toml.dpkg-dist"
run_script postrm purge
check "postrm purge of /etc/bourse holding only the package's files: exit 0 (exit $status)" test "$status" == 0
check "postrm purge removes the emptied /etc/bourse" test ! -e "$fake/etc/bourse"
check "postrm purge says it removed /etc/bourse" grep -qxF "bourse: removed the empty directory $fake/etc/bourse" \
    <<< "$output"

make_fake_root
snapshot > "$tmp/before"
run_script postinst configure
if ((status == 1)) && grep -qF "DPKG_ROOT is '$fake'" <<< "$output" && diff -u "$tmp/before" <(snapshot); then
    pass "postinst configure with DPKG_ROOT set refuses, naming it, and changes nothing"
else
    fail "postinst configure with DPKG_ROOT set: exit $status, printed '$output' (want 1, naming DPKG_ROOT)"
fi
run_script prerm remove
check "prerm remove with DPKG_ROOT set: exit 0 (exit $status)" test "$status" == 0
for script in postinst prerm postrm; do
    run_script "$script" no-such-argument
    if ((status == 1)) && grep -qxF "$script of bourse: unknown argument 'no-such-argument'" <<< "$output"; then
        pass "$script refuses an unknown argument, naming it"
    else
        fail "$script no-such-argument: exit $status, printed '$output' (want 1, naming it)"
    fi
done
if [[ -s "$tmp/fakebin.log" ]]; then
    fail "the maintainer scripts ran commands that act on this machine with DPKG_ROOT set: $(cat "$tmp/fakebin.log")"
else
    pass "with DPKG_ROOT set the maintainer scripts ran no systemctl, deb-systemd-invoke, adduser, deluser, getent"
fi

# ---- the files, their modes and owners: exactly these, nothing else
dpkg-deb --contents "$deb" > "$tmp/deb.list"
# "perm owner /path" of every regular file in a `tar -tv`-style listing; $1 is the prefix to drop.
regular_files() {
    awk -v prefix="$1" '$1 ~ /^-/ { path = $6; sub("^" prefix, "/", path); print $1, $2, path }' | sort
}
regular_files "[.]/" < "$tmp/deb.list" > "$tmp/deb.files"
# bourse.toml ships 0644 root:root, which lintian accepts; postinst makes it root:bourse 0640 on the machine.
cat > "$tmp/expected.files" << 'EOF'
-rw-r--r-- root/root /etc/bourse/bourse.toml
-rw-r--r-- root/root /lib/systemd/system/bourse.service
-rw-r--r-- root/root /usr/share/applications/bourse.desktop
-rw-r--r-- root/root /usr/share/doc/bourse/changelog.gz
-rw-r--r-- root/root /usr/share/doc/bourse/copyright
-rw-r--r-- root/root /usr/share/doc/bourse/examples/bourse.toml
-rw-r--r-- root/root /usr/share/icons/hicolor/256x256/apps/bourse.png
-rw-r--r-- root/root /usr/share/icons/hicolor/48x48/apps/bourse.png
-rw-r--r-- root/root /usr/share/icons/hicolor/scalable/apps/bourse.svg
-rw-r--r-- root/root /usr/share/man/man1/bourse.1.gz
-rwxr-xr-x root/root /usr/bin/bourse
EOF
sort -o "$tmp/expected.files" "$tmp/expected.files"
if diff -u "$tmp/expected.files" "$tmp/deb.files"; then
    pass "the .deb holds exactly the binary, desktop entry, icons, man page, unit, configs, copyright, changelog"
else
    fail "the .deb's files differ from the expected ones (diff above: - expected, + in the package)"
fi
if grep -q ' [.]/var/lib' "$tmp/deb.list"; then
    fail "the .deb ships /var/lib: the data dir is postinst's to make and nobody's to delete"
fi

# ---- lintian: warnings are shown, errors fail
echo "---- lintian $(basename "$deb")"
status=0
lintian --tag-display-limit 0 --display-info "$deb" > "$tmp/lintian.log" 2>&1 || status=$?
cat "$tmp/lintian.log"
if grep -q '^E: ' "$tmp/lintian.log"; then
    fail "lintian reports errors (the E: lines above)"
elif ((status != 0)); then
    fail "lintian exited $status without an E: line (above)"
else
    pass "lintian: no errors"
fi

# ---- the unpacked package: the binary runs from it, with the system's Qt
root=$tmp/root
dpkg-deb --extract "$deb" "$root"
bourse=$root/usr/bin/bourse
if ldd "$bourse" | grep 'not found'; then
    fail "the packaged bourse needs libraries that are not installed (above)"
fi
# A clean environment: no BOURSE_* variable of the caller's, and a home of its own.
mkdir -p "$tmp/home"
run_bourse() {
    env -i PATH=/usr/bin:/bin HOME="$tmp/home" LANG=C.UTF-8 "$bourse" "$@"
}
status=0
output=$(run_bourse --version 2>&1) || status=$?
if ((status == 0)) && [[ "$output" == "bourse $version" ]]; then
    pass "bourse --version prints 'bourse $version'"
else
    fail "bourse --version: exit $status, printed '$output', not 'bourse $version'"
fi

config=$root/etc/bourse/bourse.toml
if [[ "$(grep -c '^data_dir' "$config")" == 1 ]] && grep -qx 'data_dir = "/var/lib/bourse"' "$config"; then
    pass "/etc/bourse/bourse.toml sets data_dir = \"/var/lib/bourse\" and nothing else sets data_dir"
else
    fail "/etc/bourse/bourse.toml does not set data_dir = \"/var/lib/bourse\" exactly once"
fi
# It is the example (the shipped default) with comments added and data_dir turned on, nothing else.
example=$root/usr/share/doc/bourse/examples/bourse.toml
changes=$(diff --unchanged-line-format= --old-line-format='-%L' --new-line-format='+%L' "$example" "$config" || true)
if grep -v -e '^+#' -e '^+$' -e '^+data_dir = "/var/lib/bourse"$' -e '^-# data_dir = ' <<< "$changes"; then
    fail "/etc/bourse/bourse.toml differs from examples/bourse.toml by more than comments and data_dir (above)"
else
    pass "/etc/bourse/bourse.toml is examples/bourse.toml with comments added and data_dir set"
fi
# config check looks at data_dir itself, and this machine's /var/lib/bourse may be there and not this user's:
# the service's file is checked as a copy whose data_dir is a directory of the test's, that line alone changed.
mkdir -p "$tmp/data"
sed "s|^data_dir = \"/var/lib/bourse\"\$|data_dir = \"$tmp/data\"|" "$config" > "$tmp/service.toml"
if [[ "$(diff "$config" "$tmp/service.toml" | grep -c '^[<>]')" != 2 ]]; then
    fail "could not point data_dir of a copy of /etc/bourse/bourse.toml at $tmp/data"
fi
for file in "$tmp/service.toml" "$example"; do
    status=0
    output=$(run_bourse config check "$file" 2>&1) || status=$?
    echo "$output"
    check "bourse config check ${file#"$root"} exits 0 (exit $status)" test "$status" == 0
done
# The same check refuses a broken copy, naming the key: it checks, it does not just exit 0.
cp "$tmp/service.toml" "$tmp/broken.toml"
echo 'no_such_key = "x"' >> "$tmp/broken.toml"
status=0
output=$(run_bourse config check "$tmp/broken.toml" 2>&1) || status=$?
if ((status == 1)) && grep -q 'no_such_key' <<< "$output"; then
    pass "bourse config check refuses an unknown key in a copy of it: $output"
else
    fail "bourse config check on a copy with an unknown key: exit $status, printed '$output' (want 1, naming it)"
fi

# ---- the desktop entry and the icons it names
desktop=$root/usr/share/applications/bourse.desktop
status=0
output=$(desktop-file-validate "$desktop" 2>&1) || status=$?
check "desktop-file-validate: exit 0 and no message (exit $status: $output)" test "$status$output" == 0
for line in 'Exec=bourse' 'Icon=bourse' 'Type=Application' 'Terminal=false' 'StartupWMClass=bourse'; do
    grep -qx -- "$line" "$desktop" || fail "the desktop entry has no '$line' line"
done
# A PNG's width and height: big-endian 32-bit numbers at bytes 16 and 20.
png_size() {
    local numbers
    read -r -a numbers <<< "$(od -An -tu1 -j16 -N8 "$1")"
    echo "$(((numbers[0] << 24) + (numbers[1] << 16) + (numbers[2] << 8) + numbers[3]))x$(((numbers[4] << 24) +
        (numbers[5] << 16) + (numbers[6] << 8) + numbers[7]))"
}
for size in 48 256; do
    png=$root/usr/share/icons/hicolor/${size}x$size/apps/bourse.png
    if [[ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]] &&
        [[ "$(png_size "$png")" == "${size}x$size" ]]; then
        pass "the ${size}x$size icon is a ${size}x$size PNG"
    else
        fail "the ${size}x$size icon is not a ${size}x$size PNG ($(png_size "$png"))"
    fi
done
check "the scalable icon is an SVG" grep -q '<svg ' "$root/usr/share/icons/hicolor/scalable/apps/bourse.svg"

# ---- the man page: renders with no warnings and shows every command
manpage=$root/usr/share/man/man1/bourse.1.gz
output=$(LC_ALL=C.UTF-8 MANROFFSEQ='' man --warnings -E UTF-8 -l -Tutf8 -Z "$manpage" 2>&1 > /dev/null)
check "man --warnings: the man page renders without a warning ($output)" test -z "$output"
rendered=$(LC_ALL=C.UTF-8 MANWIDTH=120 man -l "$manpage" 2> /dev/null | sed 's/.\x08//g')
for synopsis in 'bourse [options]' 'bourse config check FILE' 'bourse backup DEST [options]' \
    'bourse restore SRC [options]' 'bourse verify [options]' 'bourse admin reset-password USER [options]'; do
    grep -qF -- "$synopsis" <<< "$rendered" || fail "the man page's synopsis has no '$synopsis'"
done
for section in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS ENVIRONMENT FILES CONFIGURATION 'EXIT STATUS' SIGNALS \
    EXAMPLES 'SEE ALSO'; do
    grep -qx -- "$section" <<< "$rendered" || fail "the man page has no $section section"
done
pass "the man page has its sections and every command's synopsis"

# ---- the systemd unit. systemd-analyze verify checks that ExecStart's binary exists and that man finds the
# page Documentation= names, on this machine: it verifies a copy whose ExecStart is the unpacked binary, with
# MANPATH at the unpacked man pages. Any message (an unknown key is only a warning) fails.
unit=$root/lib/systemd/system/bourse.service
exec_start='ExecStart=/usr/bin/bourse --headless --config /etc/bourse/bourse.toml'
for line in "$exec_start" 'User=bourse' 'Group=bourse' 'StateDirectory=bourse' 'ProtectSystem=strict' \
    'NoNewPrivileges=yes' 'PrivateTmp=yes' 'ReadWritePaths=/var/lib/bourse' 'Restart=on-failure' \
    'Documentation=man:bourse(1)' 'WantedBy=multi-user.target'; do
    grep -qxF -- "$line" "$unit" || fail "the unit has no '$line' line"
done
# The start limit belongs in [Unit]: in [Service], systemd ignores StartLimitIntervalSec= with a warning but
# takes StartLimitBurst= silently, for compatibility.
unit_section=$(awk '/^\[/ { section = $0; next } section == "[Unit]"' "$unit")
for line in 'StartLimitIntervalSec=300' 'StartLimitBurst=10'; do
    grep -qxF -- "$line" <<< "$unit_section" || fail "the unit's [Unit] section has no '$line' line"
done
if grep -q '^MemoryDenyWriteExecute=yes' "$unit"; then
    fail "the unit sets MemoryDenyWriteExecute=yes, which Qt's JIT cannot run under"
fi
mkdir -p "$tmp/unit"
sed "s|^ExecStart=/usr/bin/bourse |ExecStart=$bourse |" "$unit" > "$tmp/unit/bourse.service"
grep -qxF "ExecStart=$bourse --headless --config /etc/bourse/bourse.toml" "$tmp/unit/bourse.service" ||
    fail "could not point the unit's copy at the unpacked binary"
status=0
output=$(MANPATH=$root/usr/share/man systemd-analyze verify "$tmp/unit/bourse.service" 2>&1) || status=$?
if ((status == 0)) && [[ -z "$output" ]]; then
    pass "systemd-analyze verify: clean (on a copy of the unit whose ExecStart is the unpacked binary)"
else
    fail "systemd-analyze verify: exit $status: $output"
fi

# ---- the tar.gz: one top directory holding the same files as the .deb, byte for byte
tar -tzvf "$tgz" > "$tmp/tgz.list"
top=$(basename "$tgz" .tar.gz)
if awk '{ print $6 }' "$tmp/tgz.list" | grep -v "^$top/"; then
    fail "the tar.gz has entries outside its top directory $top/ (above)"
fi
regular_files "$top/" < "$tmp/tgz.list" > "$tmp/tgz.files"
if diff -u "$tmp/deb.files" "$tmp/tgz.files"; then
    pass "the tar.gz lists the .deb's files under $top/, with the same modes and owners"
else
    fail "the tar.gz's files differ from the .deb's (diff above: - .deb, + tar.gz)"
fi
mkdir -p "$tmp/tgz"
tar -xzf "$tgz" -C "$tmp/tgz"
sums() {
    (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
if diff <(sums "$root") <(sums "$tmp/tgz/$top"); then
    pass "the tar.gz's files are the .deb's, byte for byte"
else
    fail "the tar.gz's files differ in content from the .deb's (above)"
fi

if ((failures > 0)); then
    echo "tst_packages: $failures check(s) failed" >&2
    exit 1
fi
echo "tst_packages: every check passed"
