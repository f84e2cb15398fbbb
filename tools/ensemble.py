"""Fuse the test scores of several streams and print their accuracies.

    python tools/ensemble.py j.pkl b.pkl jm.pkl bm.pkl --weights 2 2 1 1 \
        --ann-file data/nturgbd/ntu60_3danno.pkl --split xsub_val

Each result file is what ``tools/test.py --out`` wrote (one score vector per
test sample, in dataset order). Labels come from the annotation file's split,
in the order PoseDataset reads it, or from ``--labels`` (.npy or one integer
per line).
"""
import argparse
import sys

from pyskl.evaluation.ensemble import ensemble, format_report, labels_from_annotation, load_labels
from pyskl.utils.safe_pickle import dump_pickle


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Weighted-sum fusion of test result files')
    parser.add_argument('results', nargs='+', help='result .pkl files written by tools/test.py --out')
    parser.add_argument('--weights', nargs='+', type=float, default=None,
                        help='one weight per result file (default: all 1), e.g. 2 2 1 1')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--ann-file', help='annotation pickle the results were tested on')
    source.add_argument('--labels', help='labels as .npy or a text file with one integer per line')
    parser.add_argument('--split', default=None,
                        help="split of --ann-file (e.g. xsub_val); default: every annotation")
    parser.add_argument('--out', default=None, help='write the fused scores here (.pkl, same layout)')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.weights is not None and len(args.weights) != len(args.results):
        raise SystemExit(f'error: {len(args.weights)} weights given for {len(args.results)} result files')
    try:
        if args.ann_file is not None:
            labels = labels_from_annotation(args.ann_file, args.split)
            source = f'{args.ann_file} (split {args.split})'
        else:
            labels = load_labels(args.labels)
            source = args.labels
        fused, per_file, scores = ensemble(args.results, labels, args.weights, labels_source=source)
    except (ValueError, KeyError, OSError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        raise SystemExit(f'error: {message}') from None
    weights = args.weights or [1.0] * len(args.results)
    print(format_report(args.results, weights, per_file, fused))
    if args.out:
        dump_pickle(list(scores.astype('float32')), args.out)
        print(f'fused scores written to {args.out}')
    return fused


if __name__ == '__main__':
    main(sys.argv[1:])
