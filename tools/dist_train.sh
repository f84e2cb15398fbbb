#!/usr/bin/env bash
# Train on GPUS processes of this machine (GPUs, or the CPU with gloo where there is none).
#   bash tools/dist_train.sh CONFIG GPUS [train.py options]
# Several machines: run it on each with the same MASTER_ADDR and PORT, and
#   NNODES=<machines> NODE_RANK=<0..NNODES-1> MASTER_ADDR=<machine 0's address> PORT=<free port>
# PYTHON selects the interpreter (default: python). tools/torchrun.py is torchrun that reports a failed
# job in one line.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: bash $0 CONFIG GPUS [train.py options]" >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
shift 2
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
    --nproc_per_node="$GPUS" "$TOOLS/train.py" "$CONFIG" --launcher pytorch "$@"
