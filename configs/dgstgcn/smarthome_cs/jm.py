# DG-STGCN, joint motion stream, Toyota Smarthome cross-subject: ./j.py with the joint motion features.
_base_ = ['./j.py']


def _swap_stream(pipeline):
    return [dict(t, feats=['jm']) if t['type'] == 'GenSkeFeat' else t for t in pipeline]


train_pipeline = _swap_stream(_base_.train_pipeline)
val_pipeline = _swap_stream(_base_.val_pipeline)
test_pipeline = _swap_stream(_base_.test_pipeline)
data = dict(
    train=dict(dataset=dict(pipeline=train_pipeline)),
    val=dict(pipeline=val_pipeline),
    test=dict(pipeline=test_pipeline))
work_dir = './work_dirs/dgstgcn/smarthome_cs/jm'
