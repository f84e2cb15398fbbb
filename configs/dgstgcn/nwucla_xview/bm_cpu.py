# DG-STGCN, bone motion stream, NW-UCLA cross-view: the CPU recipe (2 cores, under an hour with the test).
# The network, data and augmentation of ./bm.py; 30 passes over the training set instead of 325,
# with the learning rate annealed to zero along a cosine over every iteration (a step schedule
# this short leaves most of the run at a rate too high to settle). Measured results are in
# configs/dgstgcn/README.md.
#     python tools/train.py configs/dgstgcn/nwucla_xview/bm_cpu.py --validate --test-last
_base_ = ['./bm.py']

total_epochs = 6  # of the training set repeated 5 times
lr_config = dict(_delete_=True, policy='CosineAnnealing', min_lr=0, by_epoch=False, warmup='linear',
                 warmup_iters=100, warmup_ratio=0.01)
evaluation = dict(interval=1)
checkpoint_config = dict(interval=1)
data = dict(workers_per_gpu=0)  # two cores: loading in the training process is faster than beside it
work_dir = './work_dirs/dgstgcn/nwucla_xview/bm_cpu'
