#!/usr/bin/env bash
# Everything only a GPU can show, in one offline job of about 10 minutes on one H200-class GPU:
# the CUDA tests, the model's speed (fp32 and AMP, batch 16 and 64), and the full NW-UCLA recipe
# of the four streams trained side by side on the one GPU, tested and fused (1:1 and 2:2:1:1).
#
#   bash tools/benchmarks/gpu_check.sh [--out DIR] [--data ALL_SQE_DIR] [--no-wheels] [--smoke]
#                                      [--budget SECONDS] [--amp auto|on|off]
#
# Install: by default the project runs from this checkout (PYTHONPATH) with mmengine, mmcv-lite
# and their small needs installed offline from the wheels in .whl/ (made beforehand, where PyPI
# is reachable, by tools/benchmarks/fetch_wheels.sh) into a folder beside them; the machine's own
# torch, numpy and matplotlib are used. --no-wheels: the project is installed already (the
# README's pip install).
# --smoke: a few iterations of every step on whatever device there is (the CPU in CI).
# A rerun resumes the trainings from their last checkpoints. What a person needs is written into
# --out (default gpu_check_out/): gpu_check.log, results.md, speed.json and each stream's test
# scores (j.pkl, b.pkl, jm.pkl, bm.pkl). The exit status is non-zero if a step failed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHON=${PYTHON:-python3}
WHEELS=1
OUT=gpu_check_out
ARGS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --no-wheels) WHEELS=0; shift ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) ARGS+=("$1"); shift ;;
    esac
done
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
LOG="$OUT/gpu_check.log"
: > "$LOG"
if [ "$WHEELS" = 1 ]; then
    if ! ls "$ROOT"/.whl/*.whl >/dev/null 2>&1; then
        echo "error: no wheels in $ROOT/.whl: run 'bash tools/benchmarks/fetch_wheels.sh' where PyPI is" \
             "reachable, or pass --no-wheels where the project is installed" | tee -a "$LOG" >&2
        exit 2
    fi
    SITE="$ROOT/.whl/site"
    echo "[install] offline, from $(ls "$ROOT"/.whl/*.whl | wc -l) wheels in .whl/ into $SITE" | tee -a "$LOG"
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" \
        "$ROOT"/.whl/*.whl >>"$LOG" 2>&1 || { echo "error: the offline install failed; see $LOG" >&2; exit 2; }
    export PYTHONPATH="$ROOT:$SITE${PYTHONPATH:+:$PYTHONPATH}"
else
    export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
fi
if ! "$PYTHON" -c 'import cv2, mmengine, mmcv, pyskl' >>"$LOG" 2>&1; then
    echo "error: pyskl's dependencies do not import with $PYTHON (see $LOG); a machine without OpenCV" \
         "needs 'bash tools/benchmarks/fetch_wheels.sh --with-opencv'" | tee -a "$LOG" >&2
    exit 2
fi
exec "$PYTHON" -u "$ROOT/tools/benchmarks/gpu_check.py" "${ARGS[@]}" --out "$OUT" --log "$LOG"
