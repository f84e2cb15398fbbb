"""NW-UCLA: ``all_sqe/*.json`` -> an annotation pickle with the cross-view split.

Usage: python tools/data/nwucla_preproc.py ALL_SQE_DIR OUT.pkl
"""
import argparse
import sys

from pyskl.datasets.converters.nwucla import convert_nwucla


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert NW-UCLA skeletons (all_sqe/aAA_sSS_eEE_vVV.json) into an annotation file with '
        'labels 0-9 and the splits xview_train (views 1, 2) and xview_val (view 3), plus a label map. '
        'Malformed files are reported and skipped.')
    parser.add_argument('all_sqe_dir', help='the all_sqe folder of .json files')
    parser.add_argument('out_pkl', help='annotation file to write, e.g. data/nw-ucla/nwucla_3danno.pkl')
    parser.add_argument('--label-map', default=None,
                        help='where to write the class names (default: nwucla_label_map.txt beside OUT.pkl)')
    parser.add_argument('--no-progress', action='store_true', help='do not show a progress bar')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        report = convert_nwucla(args.all_sqe_dir, args.out_pkl, label_map=args.label_map,
                                progress=not args.no_progress)
    except FileNotFoundError as err:
        sys.exit(f'error: {err}')
    print(report.summary())


if __name__ == '__main__':
    main()
