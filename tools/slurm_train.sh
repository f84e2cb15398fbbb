#!/usr/bin/env bash
# Train under slurm: one task per GPU, GPUS in all (default 8), GPUS_PER_NODE per machine (default 8).
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py options]
# CPUS_PER_TASK (default 5), SRUN_ARGS (extra srun options), PYTHON (default python) from the environment.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: bash $0 PARTITION JOB_NAME CONFIG [train.py options]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3
TOOLS="$(cd "$(dirname "$0")" && pwd)"
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
PYTHON=${PYTHON:-python}
# shellcheck disable=SC2086  # SRUN_ARGS holds several options
PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
srun -p "$PARTITION" --job-name="$JOB_NAME" --gres=gpu:"$GPUS_PER_NODE" --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 ${SRUN_ARGS:-} \
    "$PYTHON" -u "$TOOLS/train.py" "$CONFIG" --launcher slurm "$@"
