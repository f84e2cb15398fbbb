"""Test a checkpoint: accuracies, a confusion matrix and/or the score file for ensembling.

    python tools/test.py CONFIG -C CKPT --eval top_k_accuracy mean_class_accuracy --out result.pkl
    bash tools/dist_test.sh CONFIG CKPT GPUS --eval top_k_accuracy --out result.pkl

``--out`` writes a list with one score array per test sample, in dataset order
(class probabilities averaged over the clips by default), as the original did.
"""
import argparse
import os

from mmengine.config import DictAction

from pyskl.runner import (PysklRunner, cli_errors, dist_options, init_distributed, load_config, prepare_test_config,
                        shutdown_distributed)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a skeleton action recognizer')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint_pos', nargs='?', metavar='CHECKPOINT', help='checkpoint file (or use -C)')
    parser.add_argument('-C', '--checkpoint', help='checkpoint file')
    parser.add_argument('--eval', nargs='+', default=None, metavar='METRIC',
                        choices=['top_k_accuracy', 'mean_class_accuracy'],
                        help='metrics to compute: top_k_accuracy (top-1/top-5), mean_class_accuracy (default: '
                             'the config\'s test_evaluator, as --test-last uses)')
    parser.add_argument('--out', help='result file (.pkl): one score array per test sample, in dataset order')
    parser.add_argument('--average-clips', choices=['prob', 'score', 'none'], default=None,
                        help='how the scores of a sample\'s clips are fused (default: the config\'s, else prob)')
    parser.add_argument('--amp', action='store_true',
                        help='test under autocast: bfloat16 on CPU, float16 on CUDA')
    parser.add_argument('--work-dir', help='where the log and confusion matrix go (default: the config\'s work_dir)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={}, metavar='KEY=VALUE',
                        help='override config entries, e.g. data.test.split=xsub_val')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none', help='job launcher')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.checkpoint and args.checkpoint_pos and args.checkpoint != args.checkpoint_pos:
        parser.error('two different checkpoints given (positional and -C)')
    args.checkpoint = args.checkpoint or args.checkpoint_pos
    if not args.checkpoint:
        parser.error('give the checkpoint to test: CONFIG CHECKPOINT or -C CHECKPOINT')
    if args.out and not args.out.endswith(('.pkl', '.pickle')):
        parser.error(f'--out must end with .pkl or .pickle, got {args.out}')
    if args.local_rank is not None:
        os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None):
    args = parse_args(argv)
    with cli_errors():
        cfg = load_config(args.config, args.cfg_options)
        dist = init_distributed(args.launcher, dist_options(cfg))
        try:
            cfg = prepare_test_config(cfg, dist, work_dir=args.work_dir, metrics=args.eval, out=args.out,
                                      average_clips=args.average_clips, amp=args.amp)
            runner = PysklRunner.from_cfg(cfg)
            runner.load_checkpoint(args.checkpoint, strict=True)
            runner.test()
        finally:
            shutdown_distributed()


if __name__ == '__main__':
    main()
