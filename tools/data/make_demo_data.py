"""Generate the embedded demo dataset (synthetic NTU-layout 3D skeletons, 8 motions).

Usage: python tools/data/make_demo_data.py [OUT_DIR] [--seed 0] [--num-train 30] [--num-val 10]

Writes OUT_DIR/demo_3danno.pkl (splits 'train' and 'val') and OUT_DIR/label_map.txt.
The default OUT_DIR is tools/data/demo, where the repository ships the file that
configs/dgstgcn/demo/j.py reads; the same arguments always give the same bytes.
"""
import argparse
from pathlib import Path

from pyskl.datasets.demo_data import CLASSES, write_demo_data
from pyskl.utils.safe_pickle import load_pickle

DEFAULT_OUT = Path(__file__).resolve().parent / 'demo'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Generate the synthetic demo skeleton dataset')
    parser.add_argument('out_dir', nargs='?', default=str(DEFAULT_OUT), help=f'default: {DEFAULT_OUT}')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-train', type=int, default=30, help='training samples per class')
    parser.add_argument('--num-val', type=int, default=10, help='validation samples per class')
    parser.add_argument('--min-len', type=int, default=40, help='fewest frames of a sample')
    parser.add_argument('--max-len', type=int, default=100, help='most frames of a sample')
    args = parser.parse_args(argv)
    if args.num_train < 0 or args.num_val < 0:
        parser.error('--num-train and --num-val must be >= 0')
    if not 1 <= args.min_len <= args.max_len:
        parser.error('need 1 <= --min-len <= --max-len')
    return args


def main(argv=None):
    args = parse_args(argv)
    ann, label_map = write_demo_data(args.out_dir, seed=args.seed, num_train=args.num_train,
                                     num_val=args.num_val, min_len=args.min_len, max_len=args.max_len)
    data = load_pickle(ann)
    counts = ', '.join(f'{name}: {len(names)}' for name, names in data['split'].items())
    print(f'{ann} ({ann.stat().st_size / 1e6:.1f} MB; {len(CLASSES)} classes; {counts} samples)')
    print(label_map)


if __name__ == '__main__':
    main()
