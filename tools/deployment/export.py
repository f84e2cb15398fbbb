"""Export a trained recognizer's network to ONNX or torch.export, then check it against PyTorch.

    python tools/deployment/export.py CONFIG CHECKPOINT --format onnx --out model.onnx

The file maps keypoint N x M x T x V x C (the test pipeline's clips) to scores N x num_classes,
with batch, persons and frames dynamic. After exporting, it runs the file on inputs whose
T and M differ from the export example and prints the max abs difference to PyTorch; above
1e-3 it fails. ONNX needs the deploy extra: pip install -e ".[deploy]".
"""
import argparse
import sys

from pyskl.apis import init_recognizer
from pyskl.deployment import FAIL_ABOVE, FORMATS, WARN_ABOVE, ExportError, export_recognizer
from pyskl.runner.cli import cli_errors


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Export a skeleton action recognizer (backbone + head)')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file (use "none" for random weights)')
    parser.add_argument('--format', choices=FORMATS, default='onnx', help='onnx (.onnx) or torch-export (.pt2)')
    parser.add_argument('--out', required=True, help='the file to write')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with cli_errors():
        model = init_recognizer(args.config, None if args.checkpoint == 'none' else args.checkpoint)
        try:
            report = export_recognizer(model, args.out, args.format)
        except (ExportError, ImportError) as err:
            sys.exit(f'error: {err}')
    print(f'wrote {report["path"]} ({report["format"]}; exported with input {report["example_shape"]}, '
          'batch, persons and frames dynamic)')
    for shape, diff in report['diffs'].items():
        print(f'  input {shape}: max abs difference to PyTorch {diff:.2e}')
    worst = max(report['diffs'].values())
    verdict = ('within the goal' if worst <= WARN_ABOVE else
               f'above the goal {WARN_ABOVE:g} (fails above {FAIL_ABOVE:g})')
    print(f'max abs difference {worst:.2e}: {verdict}')


if __name__ == '__main__':
    main()
