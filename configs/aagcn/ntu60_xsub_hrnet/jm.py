# AAGCN, joint motion stream, NTU RGB+D 60, cross-subject, 2D skeletons. The joint stream's recipe (./j.py,
# the file to edit) with the joint motion features in place of the joints:
#     python tools/train.py configs/aagcn/ntu60_xsub_hrnet/jm.py --validate --test-last
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
work_dir = './work_dirs/aagcn/ntu60_xsub_hrnet/jm'
