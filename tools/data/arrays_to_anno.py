"""Your own skeletons: a folder of ``NAME.npy`` arrays plus a ``name,label,split`` CSV -> annotation pickle.

Usage: python tools/data/arrays_to_anno.py NPY_DIR LABELS_CSV OUT.pkl [--num-classes K] [--num-joints V]
"""
import argparse
import sys

import numpy as np

from pyskl.datasets.converters.arrays import folder_to_annotations
from pyskl.datasets.converters.common import ConversionReport


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Turn a folder of NAME.npy skeleton arrays (T x V x C or M x T x V x C) and a CSV with the '
        'header name,label,split into an annotation file PoseDataset reads. Shapes, NaN/inf values and '
        'labels are checked; an error names the file, CSV row and field.')
    parser.add_argument('npy_dir', help='folder of NAME.npy arrays')
    parser.add_argument('labels_csv', help='CSV with the header name,label,split (one row per sample)')
    parser.add_argument('out_pkl', help='annotation file to write')
    parser.add_argument('--num-classes', type=int, default=None, help='check that every label is below this')
    parser.add_argument('--num-joints', type=int, default=None, help='check that every array has V joints')
    parser.add_argument('--img-shape', type=int, nargs=2, metavar=('H', 'W'), default=None,
                        help='frame size the coordinates refer to (needed for 2D keypoints)')
    parser.add_argument('--score-last', action='store_true',
                        help='the last channel is a confidence score (2D data as x, y, score)')
    parser.add_argument('--float16', action='store_true', help='store keypoints as float16 (half the size)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    report = ConversionReport(count_only_kinds=())
    try:
        folder_to_annotations(args.npy_dir, args.labels_csv, args.out_pkl, report=report,
                              num_classes=args.num_classes, num_joints=args.num_joints,
                              img_shape=tuple(args.img_shape) if args.img_shape else None,
                              score_last=args.score_last, dtype=np.float16 if args.float16 else np.float32)
    except (ValueError, TypeError, FileNotFoundError) as err:
        sys.exit(f'error: {err}')
    print(report.summary())


if __name__ == '__main__':
    main()
