#!/usr/bin/env bash
# Test a checkpoint on GPUS processes of this machine (GPUs, or the CPU with gloo where there is none).
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options, e.g. --eval top_k_accuracy --out result.pkl]
# Several machines: NNODES, NODE_RANK, MASTER_ADDR, PORT as for dist_train.sh. PYTHON: the interpreter.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: bash $0 CONFIG CHECKPOINT GPUS [test.py options]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
shift 3
if ! [[ "$GPUS" =~ ^[0-9]+$ ]] || [ "$GPUS" -lt 1 ]; then
    echo "error: GPUS must be a positive integer (the number of processes), got '$GPUS'" >&2
    exit 2
fi
TOOLS="$(cd "$(dirname "$0")" && pwd)"
PYTHON=${PYTHON:-python}
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
if [ -z "${PORT:-}" ]; then
    if [ "$NNODES" -gt 1 ]; then
        PORT=29500  # every machine must agree on it
    else
        PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])')
    fi
fi
PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "$PYTHON" "$TOOLS/torchrun.py" \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" --master_port="$PORT" \
    --nproc_per_node="$GPUS" "$TOOLS/test.py" "$CONFIG" -C "$CHECKPOINT" --launcher pytorch "$@"
