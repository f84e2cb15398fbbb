# DG-STGCN, bone motion stream, Kinetics-Skeleton: ./j.py with the bone motion features.
_base_ = ['./j.py']


def _swap_stream(pipeline):
    return [dict(t, feats=['bm']) if t['type'] == 'GenSkeFeat' else t for t in pipeline]


train_pipeline = _swap_stream(_base_.train_pipeline)
val_pipeline = _swap_stream(_base_.val_pipeline)
test_pipeline = _swap_stream(_base_.test_pipeline)
data = dict(
    train=dict(pipeline=train_pipeline),
    val=dict(pipeline=val_pipeline),
    test=dict(pipeline=test_pipeline))
work_dir = './work_dirs/dgstgcn/kinetics_skeleton/bm'
