"""Checkpoints written beside their target and renamed; a resume skips an unreadable one;
the training batches, their augmentation and the RNG states resume exactly."""

import errno
import os
import pickle
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from biodl import checkpoints
from biodl.callbacks import RandomState
from biodl.data.buckets import LengthBuckets, ResumableLoader, ShuffledBatches
from biodl.errors import BiodlError


def test_a_checkpoint_round_trips_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "run" / "last.ckpt"
    checkpoints.AtomicCheckpointIO().save_checkpoint({"state_dict": {"w": torch.ones(2)}}, target)
    assert torch.load(target, weights_only=True)["state_dict"]["w"].tolist() == [1.0, 1.0]
    assert os.listdir(target.parent) == ["last.ckpt"]


def test_a_full_disk_keeps_the_previous_checkpoint_and_names_the_space(tmp_path, monkeypatch):
    target = tmp_path / "last.ckpt"
    target.write_bytes(b"the previous checkpoint")

    def half_then_full(handle, data):
        handle.write(data[:1000])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoints, "_write", half_then_full)
    with pytest.raises(BiodlError) as raised:
        checkpoints.write_atomically(target, b"x" * 2_500_000)
    message = str(raised.value)
    assert message.startswith(f"no space left in {tmp_path} to write last.ckpt: it needs 2.5 MB, ")
    assert "MB free; the previous last.ckpt is kept;" in message
    assert message.endswith(f"then `biodl fit --resume {tmp_path.name}`")
    assert target.read_bytes() == b"the previous checkpoint"
    assert os.listdir(tmp_path) == ["last.ckpt"]  # the partial temporary file is gone


def test_another_write_error_names_the_file(tmp_path, monkeypatch):
    def refused(handle, data):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(checkpoints, "_write", refused)
    with pytest.raises(BiodlError, match=f"cannot write checkpoint {tmp_path / 'best.ckpt'}: "
                                         "Input/output error; fix the folder"):
        checkpoints.write_atomically(tmp_path / "best.ckpt", b"x")


def test_resume_takes_the_newest_readable_checkpoint(tmp_path):
    for age, name in enumerate(["last.ckpt", "hpc_ckpt_1.ckpt", "best.ckpt"]):
        torch.save({"state_dict": {}}, tmp_path / name)
        os.utime(tmp_path / name, (100 - age, 100 - age))
    (tmp_path / ".last.ckpt.7.tmp").write_bytes(b"left by a kill")
    found = checkpoints.resume_candidates(tmp_path)
    assert [p.name for p in found] == ["last.ckpt", "hpc_ckpt_1.ckpt", "best.ckpt"]

    (tmp_path / "last.ckpt").write_bytes((tmp_path / "best.ckpt").read_bytes()[:40])
    usable, skipped = checkpoints.first_readable(found)
    assert usable.name == "hpc_ckpt_1.ckpt"
    assert [(p.name, "zip" in reason) for p, reason in skipped] == [("last.ckpt", True)]


def test_batches_resume_at_a_batch_of_the_same_epoch_order():
    sampler = ShuffledBatches(size=23, batch_size=5, seed=7)
    sampler.set_epoch(3)
    epoch3 = list(sampler)
    assert len(epoch3) == len(sampler) == 5 and sorted(sum(epoch3, [])) == list(range(23))
    assert [b.seed for b in epoch3] == [(7, 3, n) for n in range(5)]
    sampler.set_epoch(4)
    assert list(sampler) != epoch3  # a new order each epoch
    fresh = ShuffledBatches(size=23, batch_size=5, seed=7)
    fresh.resume_at(3, 2)
    fresh.set_epoch(3)  # Lightning's call at the epoch's start keeps the place
    tail = list(fresh)
    assert tail == epoch3[2:] and [b.seed for b in tail] == [b.seed for b in epoch3[2:]]
    assert pickle.loads(pickle.dumps(tail[0])).seed == (7, 3, 2)  # to worker processes

    buckets = LengthBuckets(np.arange(40), batch_size=4, seed=1, pool=2)
    buckets.set_epoch(2)
    whole = list(buckets)
    buckets.resume_at(2, 6)
    assert list(buckets) == whole[6:]


class Indices(torch.utils.data.Dataset):
    def __len__(self):
        return 10

    def __getitems__(self, indices):
        return {"i": torch.tensor(list(indices)), "seed": torch.tensor(indices.seed)}


def test_the_loader_saves_the_batches_it_handed_out():
    loader = ResumableLoader(Indices(), ShuffledBatches(10, 3, seed=5), collate_fn=lambda b: b)
    loader.batch_sampler.set_epoch(1)
    batches = iter(loader)
    served = [next(batches)["i"].tolist() for _ in range(2)]
    state = loader.state_dict()
    assert state == {"epoch": 1, "served": 2}
    rest = [b["i"].tolist() for b in batches]
    assert sorted(i for b in served + rest for i in b) == list(range(10))  # one whole epoch

    again = ResumableLoader(Indices(), ShuffledBatches(10, 3, seed=5), collate_fn=lambda b: b)
    again.load_state_dict(state)
    resumed = list(again)
    assert [b["i"].tolist() for b in resumed] == rest
    assert resumed[0]["seed"].tolist() == [5, 1, 2]
    assert again.state_dict() == {"epoch": 1, "served": 4}


def test_random_states_return_at_train_start():
    saver = RandomState()
    torch.manual_seed(3), np.random.seed(3), random.seed(3)
    state = pickle.loads(pickle.dumps(saver.state_dict()))
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(0), np.random.seed(0), random.seed(0)
    loader = RandomState()
    loader.load_state_dict(state)
    loader.on_train_start(SimpleNamespace(world_size=1), None)
    got = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])
    assert got[2] == expected[2]
    assert loader.pending is None
