# ST-GCN (vanilla recipe), bone stream, NTU RGB+D 60, cross-view, 3D skeletons. The joint stream's recipe
# (./j.py, the file to edit) with the bone features in place of the joints:
#     python tools/train.py configs/stgcn/vanilla_ntu60_xview_3dkp/b.py --validate --test-last
_base_ = ['./j.py']


def _swap_stream(pipeline):
    return [dict(t, feats=['b']) if t['type'] == 'GenSkeFeat' else t for t in pipeline]


pipeline = _swap_stream(_base_.pipeline)
data = dict(train=dict(dataset=dict(pipeline=pipeline)), val=dict(pipeline=pipeline), test=dict(pipeline=pipeline))
work_dir = './work_dirs/stgcn/vanilla_ntu60_xview_3dkp/b'
