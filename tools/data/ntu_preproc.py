"""NTU RGB+D 60/120: raw ``.skeleton`` files -> ``ntu60_3danno.pkl`` and ``ntu120_3danno.pkl``.

Usage: python tools/data/ntu_preproc.py SKELETON_DIR OUT_DIR [--num-workers N]
"""
import argparse
import sys

from pyskl.datasets.converters.ntu import convert_ntu


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert NTU RGB+D .skeleton files (nturgb+d_skeletons/) into the annotation files '
        'ntu60_3danno.pkl (actions 1-60) and, when actions 61-120 are present, ntu120_3danno.pkl, '
        'with label maps. Samples the dataset authors list as missing are skipped; malformed files '
        'are reported with their line and skipped.')
    parser.add_argument('skeleton_dir', help='folder of SsssCcccPpppRrrrAaaa.skeleton files')
    parser.add_argument('out_dir', help='folder to write the .pkl files and label maps into')
    parser.add_argument('--num-workers', type=int, default=None, help='processes to use (default: all cores)')
    parser.add_argument('--no-progress', action='store_true', help='do not show a progress bar')
    args = parser.parse_args(argv)
    if args.num_workers is not None and args.num_workers < 1:
        parser.error('--num-workers must be at least 1')
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        report = convert_ntu(args.skeleton_dir, args.out_dir, num_workers=args.num_workers,
                             progress=not args.no_progress)
    except FileNotFoundError as err:
        sys.exit(f'error: {err}')
    print(report.summary())


if __name__ == '__main__':
    main()
