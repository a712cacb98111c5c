#!/usr/bin/env bash
# Make sure the Debian packages the project needs are installed.
#
#   scripts/ensure-system-packages.sh postgres redis chromium gettext
#
#   postgres  PostgreSQL 15 server (postgres, initdb, pg_ctl) and contrib (pg_trgm)
#   redis     redis-server (and redis-cli)
#   chromium  /usr/bin/chromium for the Playwright browser tests, with a basic font
#   gettext   msgfmt, for `manage.py compilemessages`
#   pango     the Pango libraries WeasyPrint renders PDFs with
#   npm       Node.js and npm (front-end packages from the npm registry)
#   pip       python3 -m pip (only to install uv where it is missing)
#
# As root the missing packages are installed with apt-get (one `apt-get update` first); otherwise the
# script names them and exits 1.
set -euo pipefail

[ $# -gt 0 ] || {
    echo "usage: $0 postgres|redis|chromium|gettext|pip ..." >&2
    exit 2
}

have_postgres() {
    local d
    for d in /usr/lib/postgresql/15/bin "$(pg_config --bindir 2>/dev/null || true)"; do
        if [ -n "$d" ] && [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            # pg_trgm ships with the server (postgresql-contrib on older releases).
            compgen -G "/usr/share/postgresql/*/extension/pg_trgm.control" >/dev/null && return 0
        fi
    done
    return 1
}

missing=() # what is missing, for messages
packages=() # Debian packages to install

for need in "$@"; do
    case "$need" in
    postgres | postgresql)
        if ! have_postgres; then
            missing+=("PostgreSQL 15 server")
            packages+=(POSTGRES postgresql-contrib)
        fi
        ;;
    redis)
        if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
            missing+=("redis-server")
            packages+=(redis-server redis-tools)
        fi
        ;;
    chromium)
        if [ ! -x /usr/bin/chromium ]; then
            missing+=("chromium (/usr/bin/chromium)")
            packages+=(chromium fonts-dejavu-core)
        fi
        ;;
    gettext)
        if ! command -v msgfmt >/dev/null 2>&1; then
            missing+=("msgfmt (gettext)")
            packages+=(gettext)
        fi
        ;;
    npm)
        if ! command -v npm >/dev/null 2>&1; then
            missing+=("npm (Node.js)")
            packages+=(nodejs npm)
        fi
        ;;
    pango)
        # WeasyPrint (invitation letters, suket) renders with Pango.
        if ! ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0'; then
            missing+=("Pango (for WeasyPrint)")
            packages+=(libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
        fi
        ;;
    pip)
        if ! python3 -m pip --version >/dev/null 2>&1; then
            missing+=("pip (python3 -m pip)")
            packages+=(python3-pip)
        fi
        ;;
    *)
        echo "$0: unknown requirement '$need' (known: postgres redis chromium gettext npm pango pip)" >&2
        exit 2
        ;;
    esac
done

[ ${#packages[@]} -gt 0 ] || exit 0

if [ "$(id -u)" -ne 0 ]; then
    named=("${packages[@]/#POSTGRES/postgresql-15}")
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them as root with:" >&2
    echo "  apt-get update && apt-get install -y ${named[*]}" >&2
    exit 1
fi

if [ -n "${ENSURE_SYSTEM_PACKAGES_RECHECK:-}" ]; then
    echo "$0: packages installed but still missing: ${missing[*]}" >&2
    exit 1
fi

echo "Installing system packages for: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
resolved=()
for p in "${packages[@]}"; do
    if [ "$p" = POSTGRES ]; then
        # Debian 12 ships 15 as postgresql-15; elsewhere fall back to the distribution's default.
        if apt-cache show postgresql-15 >/dev/null 2>&1; then
            resolved+=(postgresql-15)
        else
            resolved+=(postgresql)
        fi
    else
        resolved+=("$p")
    fi
done
apt-get install -y -qq "${resolved[@]}"

# Check again: the install must have provided what was asked for.
ENSURE_SYSTEM_PACKAGES_RECHECK=1 bash "$0" "$@"
