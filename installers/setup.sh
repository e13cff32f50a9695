#!/usr/bin/env bash
# Set up Robin Studio on a fresh Debian/Ubuntu machine with nothing but Python 3.11+:
# the system packages (SoundFonts, PortAudio, Xvfb for headless screenshots, desktop-file-utils
# to validate the desktop entry), a virtual environment in .venv, torch 2.13.0 CPU through a
# constraints file, and the project with its training and test extras. Safe to run again;
# it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(fluidr3mono-gm-soundfont fluid-soundfont-gm musescore-general-soundfont libportaudio2 xvfb openttd-openmsx desktop-file-utils
    libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 libegl1 libgl1)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "setup: installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip install -q --disable-pip-version-check)
"${PIP[@]}" --upgrade pip
"${PIP[@]}" -c installers/constraints.txt torch==2.13.0
"${PIP[@]}" -c installers/constraints.txt -e ".[train,test]"
# tinysoundfont's metadata asks for pyaudio (no Linux wheel); we never import it.
"${PIP[@]}" --no-deps "tinysoundfont>=0.3.6"
# The instruments taken from MuseScore_General (render.synth.SECOND_BANK_PRESETS) as a small
# sf2 under the user's data folder: decoding the whole sf3 at every start would take ~19 s.
.venv/bin/python -m robin_studio.render.bank_subset \
    || echo "setup: could not prepare the second SoundFont bank; those instruments will play from FluidR3"
echo "setup: ready (.venv)"
