"""PysklRunner when training cannot start or must resume after a fault."""
import pytest
import torch

from tiny_runner import TinyDataset


class EmptySplit(TinyDataset):
    ann_file, split = 'data/x.pkl', 'train'

    def __len__(self):
        return 0


def _loader(dataset, **extra) -> dict:
    return dict(batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
                collate_fn=dict(type='default_collate'), dataset=dataset, **extra)


def test_an_empty_training_split_is_one_line(tmp_path, tiny_runner):
    runner = tiny_runner(tmp_path, validate=False, train_dataloader=_loader(EmptySplit()))
    with pytest.raises(ValueError) as info:
        runner.train()
    assert str(info.value) == ("the training set is empty: data/x.pkl (split 'train') has no sample to train on "
                               '(warnings above list any sample left out); check the split name and the annotation '
                               'file')


def test_fewer_samples_than_a_batch_with_drop_last_is_one_line(tmp_path, tiny_runner):
    runner = tiny_runner(tmp_path, validate=False, train_dataloader=_loader(TinyDataset(5), drop_last=True))
    with pytest.raises(ValueError, match=r'has 5 sample\(s\), fewer than one batch \(8\) with drop_last'):
        runner.train()
