"""Print the model zoo's NW-UCLA table from the training runs' work dirs (Markdown, or --json).

One row per model: top-1 and mean class accuracy of the last model's test, training wall time,
the machine, the seeds, trainable parameters, GFLOPs per clip (torch's flop counter: a
multiply-add counts 2), inference clips/s and the commands that reproduce the row. Several seeds
of one config share a row: mean ± half their range. A zoo model without a run prints its command
and "not run"; a run still training prints "unfinished" (and a note below the table).

    python tools/benchmarks/zoo_table.py [WORK_DIR ...] [--json OUT] [--brief] [--no-model-figures]

Without WORK_DIRs: every work_dirs/*/nwucla_xview/j_cpu* there is. Each model's runs, one at a
time on an otherwise idle machine (a second seed in a work dir of its own):

    python tools/train.py configs/MODEL/nwucla_xview/j_cpu.py --validate --test-last --seed 0
    python tools/train.py configs/MODEL/nwucla_xview/j_cpu.py --validate --test-last --seed 1 \\
        --work-dir work_dirs/MODEL/nwucla_xview/j_cpu_seed1

and the inference speed, read from model_speed.json in the work dir ("not run" without it):

    python tools/benchmarks/model_speed.py configs/MODEL/nwucla_xview/j_cpu.py --infer-only \\
        --json work_dirs/MODEL/nwucla_xview/j_cpu/model_speed.json

MODEL: dgstgcn, stgcn, stgcn++, aagcn, ctrgcn, msg3d.
"""
import argparse
import json
import sys

from pyskl.evaluation.zoo_table import markdown_table, zoo_table


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('work_dirs', nargs='*', metavar='WORK_DIR',
                        help='work dirs of training runs (default: every work_dirs/*/nwucla_xview/j_cpu*)')
    parser.add_argument('--json', metavar='OUT',
                        help="also write the rows (each run's figures included) and the notes to OUT")
    parser.add_argument('--brief', action='store_true',
                        help='the landing-page form: no config, machine or speed-command columns, no notes')
    parser.add_argument('--no-model-figures', action='store_true',
                        help='leave out parameters and GFLOPs (they build each model)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        table = zoo_table(args.work_dirs or None, figures=not args.no_model_figures)
    except (ValueError, KeyError) as e:
        sys.exit(f'zoo_table: {e}')
    print(markdown_table(table, brief=args.brief), end='')
    if args.json:
        with open(args.json, 'w', encoding='utf-8') as f:
            json.dump(table, f, indent=1)


if __name__ == '__main__':
    main()
