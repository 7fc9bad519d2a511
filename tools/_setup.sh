# Shared set-up for tools/test and tools/demo. Source it; do not run it.
#
#   source "$(dirname "$0")/_setup.sh"
#   vg_setup [dev] [piper] [server]
#
# vg_setup installs the Debian packages that are missing (as root, or with passwordless sudo;
# otherwise it prints the apt command and carries on), creates .venv with python3 -m venv if it
# is missing, and installs voiceguide into it (editable; with the dev extras when asked). Every
# step is skipped when it is already done, so a second run takes a moment.
# shellcheck shell=bash

VG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VG_VENV="$VG_ROOT/.venv"
VG_PY="$VG_VENV/bin/python"

# What voiceguide needs at run time: speech, PortAudio, libsndfile, pactl/parec, ALSA's "pulse" device.
VG_APT_BASE=(espeak-ng libportaudio2 libsndfile1 pulseaudio-utils libasound2-plugins alsa-utils)

vg_say() { echo "==> $*" >&2; }
vg_die() { echo "error: $*" >&2; exit 1; }

vg_installed() { [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == "installed" ]]; }

vg_missing_packages() {  # prints the given packages that dpkg does not list as installed
    local pkg
    for pkg in "$@"; do
        vg_installed "$pkg" || echo "$pkg"
    done
}

vg_apt_install() {  # installs the packages among "$@" that are missing, or says how to
    if ! command -v dpkg-query >/dev/null; then
        vg_say "not a Debian-like system: make sure these are installed: $*"
        return 0
    fi
    local missing=() sudo=()
    mapfile -t missing < <(vg_missing_packages "$@")
    ((${#missing[@]})) || return 0
    if ((EUID != 0)); then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            vg_say "missing system packages: ${missing[*]}"
            echo "    install them with:  sudo apt-get install -y ${missing[*]}" >&2
            echo "    (carrying on without them; whatever needs them will fail or be skipped)" >&2
            return 0
        fi
    fi
    vg_say "installing ${missing[*]} (apt-get)"
    local log
    log="$(mktemp)"
    if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q \
            && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                "${missing[@]}"; } >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        rm -f "$log"
        vg_die "apt-get failed (output above)"
    fi
    rm -f "$log"
}

vg_python_packages() {  # apt packages needed before a venv can be made (python3 itself, venv/ensurepip)
    if ! command -v python3 >/dev/null; then
        echo python3 python3-venv
    elif ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        echo python3-venv
    fi
}

vg_venv() {  # vg_venv [EXTRAS]: .venv with voiceguide installed editable (plus EXTRAS, e.g. "dev")
    local extras="${1:-}" spec="." stamp="$VG_VENV/.voiceguide-installed" want
    [[ -n "$extras" ]] && spec=".[$extras]"
    command -v python3 >/dev/null || vg_die "python3 is missing (apt-get install python3 python3-venv)"
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || vg_die "voiceguide needs Python 3.11 or newer; python3 is $(python3 -V 2>&1)"
    if [[ ! -x "$VG_PY" ]]; then
        vg_say "creating .venv"
        python3 -m venv "$VG_VENV" || vg_die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    fi
    # Reinstall only when pyproject.toml changed or other extras are wanted since the last install
    # (an install with the dev extras also serves a plain one, and one with piper: dev includes it).
    local sum have
    sum="$(sha256sum "$VG_ROOT/pyproject.toml" | cut -d' ' -f1)"
    want="$sum $extras"
    if [[ -f "$stamp" ]] && [[ "$(cut -d' ' -f1 "$stamp")" == "$sum" ]]; then
        have="$(cut -s -d' ' -f2- "$stamp")"
        if [[ "$have" == "$extras" || -z "$extras" ]] || [[ "$extras" == piper && ",$have," == *,dev,* ]]; then
            return 0
        fi
    fi
    vg_say "installing voiceguide${extras:+ with [$extras]} into .venv (pip)"
    # pip's output goes to a log, shown only if the install fails: a machine whose pip config names
    # package indexes that are not there makes pip warn about each of them on every lookup, dozens of
    # lines that mean nothing here.
    local log
    log="$(mktemp)"
    if ! (cd "$VG_ROOT" && "$VG_PY" -m pip install --disable-pip-version-check --progress-bar off -e "$spec") \
            >"$log" 2>&1; then
        grep -v "^WARNING: Location '.*' is ignored" "$log" | tail -n 40 >&2
        rm -f "$log"
        vg_die "pip install failed (its last lines are above)"
    fi
    rm -f "$log"
    echo "$want" >"$stamp"
}

vg_setup() {  # vg_setup [dev] [piper] [server]: system packages, .venv, voiceguide
    local extras="" server=0 arg packages=()
    for arg in "$@"; do
        case "$arg" in
            dev) extras="${extras:+$extras,}dev" ;;
            piper) extras="${extras:+$extras,}piper" ;;  # the natural English voice (GPL-3.0 piper-tts)
            server) server=1 ;;
            *) vg_die "vg_setup: unknown option '$arg'" ;;
        esac
    done
    read -r -a packages <<<"$(vg_python_packages)"
    packages+=("${VG_APT_BASE[@]}")
    # A PulseAudio server for the null sink. Never on a system that has PipeWire's Pulse server:
    # installing pulseaudio there would replace it (and whoever uses it still answers to pactl).
    if ((server)) && ! vg_installed pipewire-pulse; then
        packages+=(pulseaudio)
    fi
    # Mosquitto: the MQTT broker the Home Assistant tests start privately on a loopback port (openssl: its TLS test).
    if ((server)) && [[ "$extras" == dev ]]; then
        packages+=(mosquitto mosquitto-clients openssl)
    fi
    # Debian's Chromium for the phone remote's browser tests (Playwright drives it; its own download fails here).
    if ((server)) && [[ ",$extras," == *,dev,* ]]; then
        packages+=(chromium)
    fi
    vg_apt_install "${packages[@]}"
    vg_venv "$extras"
}
