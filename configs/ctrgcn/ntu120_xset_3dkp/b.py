# CTR-GCN, bone stream, NTU RGB+D 120, cross-setup, 3D skeletons. The joint stream's recipe (./j.py, the file
# to edit) with the bone features in place of the joints:
#     python tools/train.py configs/ctrgcn/ntu120_xset_3dkp/b.py --validate --test-last
_base_ = ['./j.py']


def _swap_stream(pipeline):
    return [dict(t, feats=['b']) if t['type'] == 'GenSkeFeat' else t for t in pipeline]


train_pipeline = _swap_stream(_base_.train_pipeline)
val_pipeline = _swap_stream(_base_.val_pipeline)
test_pipeline = _swap_stream(_base_.test_pipeline)
data = dict(
    train=dict(dataset=dict(pipeline=train_pipeline)),
    val=dict(pipeline=val_pipeline),
    test=dict(pipeline=test_pipeline))
work_dir = './work_dirs/ctrgcn/ntu120_xset_3dkp/b'
