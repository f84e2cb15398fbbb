"""Train a recognizer from a config (original PYSKL or mmengine form).

    python tools/train.py CONFIG [--validate] [--test-last] [--test-best] [...]
    bash tools/dist_train.sh CONFIG GPUS [--validate] [--test-last] [--test-best] [...]

By default a run resumes from the last checkpoint in its work dir, if any.
"""
import argparse
import os

from mmengine.config import DictAction

from pyskl.runner import (PysklRunner, cli_errors, dist_options, init_distributed, load_config, prepare_train_config,
                        shutdown_distributed)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a skeleton action recognizer')
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='where logs and checkpoints go (default: the config\'s work_dir)')
    parser.add_argument('--validate', action='store_true', help='validate after each evaluation.interval epochs')
    parser.add_argument('--test-last', action='store_true', help='test the last model after training')
    parser.add_argument('--test-best', action='store_true',
                        help='test the best checkpoint (by validation) after training; needs --validate')
    parser.add_argument('--resume', nargs='?', const='auto', default=None, metavar='CKPT',
                        help='resume from CKPT; without CKPT (and by default) from the work dir\'s last checkpoint')
    parser.add_argument('--amp', nargs='?', const=True, default=False, choices=['float16', 'bfloat16'],
                        help='mixed precision: bfloat16 on CPU; float16 (default) or bfloat16 on CUDA')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr linearly from the config\'s batch (videos_per_gpu x 8 GPUs) to the '
                             'actual one (videos_per_gpu x processes)')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument('--deterministic', action='store_true', help='deterministic cuDNN algorithms')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={}, metavar='KEY=VALUE',
                        help='override config entries, e.g. data.videos_per_gpu=8 total_epochs=2')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none', help='job launcher')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.test_best and not args.validate:
        parser.error('--test-best tests the best checkpoint by validation: add --validate')
    if args.local_rank is not None:
        os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None):
    args = parse_args(argv)
    with cli_errors():
        cfg = load_config(args.config, args.cfg_options)
        dist = init_distributed(args.launcher, dist_options(cfg))
        try:
            cfg = prepare_train_config(
                cfg, dist, work_dir=args.work_dir, validate=args.validate, test=args.test_last or args.test_best,
                resume=args.resume, amp=args.amp, seed=args.seed, deterministic=args.deterministic,
                auto_scale_lr=args.auto_scale_lr)
            runner = PysklRunner.from_cfg(cfg)
            runner.train()
            runner.test_after_training(last=args.test_last, best=args.test_best)
        finally:
            shutdown_distributed()


if __name__ == '__main__':
    main()
