"""Pose-estimator outputs (mmpose --save-predictions JSON files, OpenPose --write_json folders), one per
video, plus a name,label,split CSV -> a 2D annotation pickle for PoseDataset.

Usage: python tools/data/pose_json_to_anno.py INPUT_DIR LABELS_CSV OUT.pkl --img-shape H W
           [--layout coco|openpose] [--max-person 10] [--num-classes K] [--float16]
"""
import argparse
import sys

import numpy as np

from pyskl.datasets.converters.common import ConversionReport
from pyskl.datasets.converters.pose_folder import pose_json_to_annotations


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('input_dir', help='folder of NAME.json (mmpose) files and/or NAME/ (OpenPose) folders')
    parser.add_argument('labels_csv', help='CSV with the header name,label,split')
    parser.add_argument('out_pkl', help='annotation file to write')
    parser.add_argument('--img-shape', type=int, nargs=2, metavar=('H', 'W'), required=True,
                        help='frame size of the videos (the files do not say it; 2D normalisation needs it)')
    parser.add_argument('--layout', default='coco', choices=['coco', 'openpose'],
                        help='joints of the output: coco (COCO-17) or openpose (COCO-18)')
    parser.add_argument('--max-person', type=int, default=10, help='most persons kept a frame, by score')
    parser.add_argument('--num-classes', type=int, default=None, help='check that every label is below this')
    parser.add_argument('--float16', action='store_true', help='store keypoints as float16 (half the size)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    report = ConversionReport(count_only_kinds=())
    try:
        pose_json_to_annotations(args.input_dir, args.labels_csv, args.out_pkl, tuple(args.img_shape),
                                 layout=args.layout, max_person=args.max_person, num_classes=args.num_classes,
                                 report=report, dtype=np.float16 if args.float16 else np.float32)
    except (ValueError, TypeError, FileNotFoundError) as err:
        sys.exit(f'error: {err}')
    print(report.summary())


if __name__ == '__main__':
    main()
