"""BABEL-60 / BABEL-120 action recognition -> an annotation pickle in the nturgb+d layout.

Usage: python tools/data/babel_preproc.py SRC OUT.pkl --classes 60|120
"""
import argparse
import sys

from pyskl.datasets.converters.babel import convert_babel


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Convert BABEL's action recognition release ({train,val}_ntu_sk_C.npy and {train,val}_label_C"
        '.pkl) into an annotation file with the splits train and val (NTU 25-joint x, y, z). Bad chunks and '
        'missing files are reported and skipped.')
    parser.add_argument('src', help='the folder holding {train,val}_ntu_sk_{60,120}.npy and '
                        '{train,val}_label_{60,120}.pkl')
    parser.add_argument('out_pkl', help='annotation file to write, e.g. data/babel/babel60.pkl')
    parser.add_argument('--classes', type=int, choices=(60, 120), required=True, help='BABEL-60 or BABEL-120')
    parser.add_argument('--action-index', default=None,
                        help="BABEL's action_recognition/data/action_label_2_idx.json, for a label map of the class "
                        'names (none is written without it)')
    parser.add_argument('--label-map', default=None,
                        help='where to write the class names (default: babel{60,120}_label_map.txt beside OUT.pkl)')
    parser.add_argument('--float32', action='store_true',
                        help='store the keypoints as float32 (default: float16, half the file)')
    parser.add_argument('--no-progress', action='store_true', help='do not show a progress bar')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        report = convert_babel(args.src, args.out_pkl, num_classes=args.classes, action_index=args.action_index,
                               label_map=args.label_map, dtype='float32' if args.float32 else 'float16',
                               progress=not args.no_progress)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    print(report.summary())


if __name__ == '__main__':
    main()
