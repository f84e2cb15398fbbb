#!/usr/bin/env bash
# Download the wheels that tools/benchmarks/gpu_check.sh installs offline on a machine whose
# Python already has torch, numpy, scipy, matplotlib, PyYAML, rich and OpenCV (a typical GPU
# node's image) but not mmengine, mmcv-lite and their small pure-Python needs.
#
#   bash tools/benchmarks/fetch_wheels.sh [--python-version 3.12] [--dest .whl] [--with-opencv]
#
# --with-opencv adds OpenCV (headless, 50 MB; mmengine's hooks import cv2) and PyYAML/rich for a
# node that lacks them. Run it where PyPI is reachable; the folder (ignored by git, 1.5 MB, 53 MB
# with OpenCV) then travels with the working tree. Versions are requirements.txt's where it pins
# them.
set -euo pipefail
PY_VERSION=3.12
DEST=.whl
WITH_OPENCV=0
while [ $# -gt 0 ]; do
    case "$1" in
        --python-version) PY_VERSION=$2; shift 2 ;;
        --dest) DEST=$2; shift 2 ;;
        --with-opencv) WITH_OPENCV=1; shift ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PIP=${PIP:-"python3 -m pip"}
pin() {  # the version requirements.txt pins for $1, else none
    sed -n "s/^$1==\(.*\)$/\1/p" "$ROOT/requirements.txt"
}
MMENGINE=$(pin mmengine)
MMCV=$(pin mmcv-lite)
# mmengine needs addict, pyyaml, rich, termcolor, yapf (yapf: platformdirs); mmcv-lite the same
PACKAGES=("mmengine${MMENGINE:+==$MMENGINE}" "mmcv-lite${MMCV:+==$MMCV}" addict termcolor yapf platformdirs)
if [ "$WITH_OPENCV" = 1 ]; then
    # the headless 4.10 build is the smallest that works (50 MB)
    PACKAGES+=(opencv-python-headless==4.10.0.84 pyyaml rich markdown-it-py mdurl pygments)
fi
mkdir -p "$DEST"
# --no-deps: the GPU node's own torch, numpy, matplotlib and Pillow must stay the ones in use
$PIP download --only-binary=:all: --no-deps --python-version "$PY_VERSION" --implementation cp \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
    -d "$DEST" "${PACKAGES[@]}"
echo "wheels for Python $PY_VERSION in $DEST: $(ls "$DEST" | wc -l) files, $(du -sh "$DEST" | cut -f1)"
