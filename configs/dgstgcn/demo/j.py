# DG-STGCN, joint stream, on the embedded demo dataset: synthetic NTU-layout 3D skeletons,
# 8 motions (tools/data/demo/, made by tools/data/make_demo_data.py). Nothing to download;
# trains on a laptop's CPU in a few minutes:
#     python tools/train.py configs/dgstgcn/demo/j.py --validate --test-last
# A smaller network than the NTU recipe (6 stages from 32 channels instead of 10 from 64,
# 32-frame clips) so that a 2-core CPU gets through it quickly; otherwise the same recipe.
# Each sample is turned to face the same way (PreNormalize3D's spine and shoulder alignment):
# the demo's people stand at up to 45 degrees to the camera, and 240 training samples are too
# few to learn that a wave of the left hand seen from one side is not a wave of the right.
num_classes = 8
model = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='DGSTGCN',
        base_channels=32,
        num_stages=6,
        inflate_stages=[3, 5],
        down_stages=[3, 5],
        gcn_ratio=0.125,
        gcn_ctr='T',
        gcn_ada='T',
        tcn_ms_cfg=[(3, 1), (3, 2), (3, 3), (3, 4), ('max', 3), '1x1'],
        graph_cfg=dict(layout='nturgb+d', mode='random', num_filter=8, init_off=.04, init_std=.02)),
    cls_head=dict(type='GCNHead', num_classes=num_classes, in_channels=128))

dataset_type = 'PoseDataset'
ann_file = 'tools/data/demo/demo_3danno.pkl'  # relative to the repository root
label_map = 'tools/data/demo/label_map.txt'  # class names for the confusion matrix
clip_len = 32
train_pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='RandomRot', theta=0.3),
    dict(type='GenSkeFeat', feats=['j']),
    dict(type='UniformSampleDecode', clip_len=clip_len),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
val_pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', feats=['j']),
    dict(type='UniformSampleDecode', clip_len=clip_len, num_clips=1),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
test_pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', feats=['j']),
    dict(type='UniformSampleDecode', clip_len=clip_len, num_clips=5),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='Collect', keys=['keypoint', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['keypoint'])
]
data = dict(
    videos_per_gpu=16,
    workers_per_gpu=1,
    test_dataloader=dict(videos_per_gpu=8),
    train=dict(
        type='RepeatDataset',
        times=2,
        dataset=dict(type=dataset_type, ann_file=ann_file, pipeline=train_pipeline, split='train',
                     label_map=label_map)),
    val=dict(type=dataset_type, ann_file=ann_file, pipeline=val_pipeline, split='val', label_map=label_map),
    test=dict(type=dataset_type, ann_file=ann_file, pipeline=test_pipeline, split='val', label_map=label_map))

# optimizer: the NTU recipe's lr 0.1 is for a batch of 128 (8 x 16); this is one process x 16
auto_scale_lr = dict(base_batch_size=16)  # the lr below is for one process x 16 (--auto-scale-lr)
optimizer = dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.0005, nesterov=True)
optimizer_config = dict(grad_clip=None)
# learning policy
lr_config = dict(policy='CosineAnnealing', min_lr=0, by_epoch=False)
total_epochs = 12
checkpoint_config = dict(interval=1)
evaluation = dict(interval=1, metrics=['top_k_accuracy', 'mean_class_accuracy'])
log_config = dict(interval=10, hooks=[dict(type='TextLoggerHook')])

# runtime settings
log_level = 'INFO'
work_dir = './work_dirs/dgstgcn/demo/j'
