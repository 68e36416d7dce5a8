import gzip
import pickle
import struct

import numpy as np
import pytest
import torch
import torchvision

import eelib.data
from eelib import load_dataset


def test_mini_subset_is_balanced_real_pixels():
    train, test = load_dataset(split="train"), load_dataset("fashion-mnist-mini", "test")
    assert len(train) >= 6000 and len(test) >= 1000
    for ds in (train, test):
        assert ds.data.dtype == torch.uint8 and ds.data.shape[1:] == (28, 28)
        assert ds.targets.dtype == torch.int64
        counts = torch.bincount(ds.targets, minlength=10)
        assert (counts == counts[0]).all(), "every class equally often"
        assert ds.classes[9] == "Ankle boot"
    image, label = train[0]
    assert image.dtype == torch.float32 and image.shape == (1, 28, 28) and isinstance(label, int)
    # normalised with the training mean and std: roughly zero mean, unit spread over the subset
    batch = train.normalise(train.data)
    assert abs(batch.mean().item()) < 0.05 and abs(batch.std().item() - 1) < 0.05


def test_getitems_matches_getitem():
    ds = load_dataset()
    items = ds.__getitems__([3, 7])
    assert torch.equal(items[1][0], ds[7][0]) and items[1][1] == ds[7][1]


def test_mini_subset_checksum_is_verified(monkeypatch):
    monkeypatch.setattr(eelib.data, "MINI_SHA256", "0" * 64)
    with pytest.raises(RuntimeError, match="SHA-256"):
        load_dataset()


@pytest.mark.skipif(
    not eelib.data.DEBIAN_FASHION_MNIST.is_dir(),
    reason="Debian's dataset-fashion-mnist not installed",
)
def test_mini_subset_is_taken_from_the_official_files():
    from importlib import resources

    with (
        resources.as_file(resources.files("eelib") / "assets" / eelib.data.MINI_FILE) as path,
        np.load(path) as npz,
    ):
        for split in ("train", "test"):
            full = load_dataset("fashion-mnist", split)
            idx = torch.from_numpy(npz[f"{split}_indices"].astype(np.int64))
            assert torch.equal(full.data[idx], torch.from_numpy(npz[f"{split}_images"]))
            assert torch.equal(
                full.targets[idx], torch.from_numpy(npz[f"{split}_labels"].astype(np.int64))
            )


def test_unknown_name_and_split():
    with pytest.raises(ValueError, match="fashion-mnist-mini, fashion-mnist, cifar10"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="split"):
        load_dataset(split="validation")


def _write_idx(path, array, compress):
    header = struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)


def _fake_fashion_mnist(folder, compress):
    rng = np.random.default_rng(0)
    arrays = {}
    for prefix, n in (("train", 30), ("t10k", 20)):
        images, labels = rng.integers(0, 256, (n, 28, 28)), rng.integers(0, 10, n)
        _write_idx(folder / f"{prefix}-images-idx3-ubyte", images, compress)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels, compress)
        arrays[prefix] = (images, labels)
    return arrays


@pytest.mark.parametrize("layout", ["flat-gz", "torchvision"])
def test_full_fashion_mnist_from_idx_files(tmp_path, layout, monkeypatch):
    monkeypatch.delenv("EELIB_DATA", raising=False)
    folder = tmp_path if layout == "flat-gz" else tmp_path / "FashionMNIST" / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    arrays = _fake_fashion_mnist(folder, compress=layout == "flat-gz")
    test = load_dataset("fashion-mnist", "test", root=tmp_path)
    assert test.data.shape == (20, 28, 28) and test.data.dtype == torch.uint8
    assert np.array_equal(test.data.numpy(), arrays["t10k"][0])
    assert np.array_equal(test.targets.numpy(), arrays["t10k"][1])
    assert len(load_dataset("fashion-mnist", "train", root=tmp_path)) == 30


def test_eelib_data_environment_variable(tmp_path, monkeypatch):
    _fake_fashion_mnist(tmp_path, compress=True)
    monkeypatch.setenv("EELIB_DATA", str(tmp_path))
    assert len(load_dataset("fashion-mnist", "train")) == 30


def test_missing_data_says_where_it_looked_and_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("EELIB_DATA", raising=False)
    monkeypatch.setattr(eelib.data, "DEBIAN_FASHION_MNIST", tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError) as error:
        load_dataset("fashion-mnist", root=tmp_path)
    message = str(error.value)
    assert (
        str(tmp_path) in message
        and "dataset-fashion-mnist" in message
        and "download=True" in message
    )
    with pytest.raises(FileNotFoundError, match="CIFAR-10 is not on disk") as error:
        load_dataset("cifar10", root=tmp_path)
    assert "--download" in str(error.value) and "--root" in str(error.value)


def _fake_cifar10(root):
    folder = root / torchvision.datasets.CIFAR10.base_folder
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    pixels = {}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        data = rng.integers(0, 256, (4, 3 * 32 * 32), dtype=np.uint8)
        labels = rng.integers(0, 10, 4).tolist()
        with open(folder / name, "wb") as f:
            pickle.dump({"data": data, "labels": labels}, f)
        pixels[name] = (data, labels)
    classes = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": classes}, f)
    return pixels


def test_cifar10_in_its_on_disk_format(tmp_path, monkeypatch):
    pixels = _fake_cifar10(tmp_path)
    # The real files are checked against torchvision's MD5 sums; these made-up ones cannot match.
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda path, md5=None: True)
    train, test = (
        load_dataset("cifar10", "train", root=tmp_path),
        load_dataset("cifar10", "test", root=tmp_path),
    )
    assert train.data.shape == (20, 32, 32, 3) and test.data.shape == (4, 32, 32, 3)
    assert train.data.dtype == torch.uint8 and train.classes[0] == "airplane"
    data, labels = pixels["test_batch"]
    assert np.array_equal(test.data.numpy(), data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    assert test.targets.tolist() == labels
    image, label = test[1]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32 and label == labels[1]


def test_validation_split_is_class_balanced_disjoint_and_fixed():
    from eelib import validation_split

    full = load_dataset("fashion-mnist-mini", "train")
    train, val = validation_split(full, 600, seed=0)
    assert len(train) + len(val) == len(full) and len(val) == 600
    assert torch.bincount(val.targets).tolist() == [60] * 10
    pixels = {bytes(x.numpy()) for x in val.data}
    assert not any(bytes(x.numpy()) in pixels for x in train.data[:500])
    again = validation_split(full, 600, seed=0)[1]
    assert torch.equal(again.data, val.data)
    assert not torch.equal(validation_split(full, 600, seed=1)[1].data, val.data)
    for bad in (0, 605, 1.5):
        with pytest.raises(ValueError, match="multiple of the 10 classes"):
            validation_split(full, bad)
    with pytest.raises(ValueError, match="fewer than"):
        validation_split(full, 7000)


def test_random_crop_flip_is_torchvisions_crop_and_flip_with_the_runs_own_draws():
    """Shapes kept; each image is v2's pad (black pixels) → crop → horizontal flip with the
    offsets and flips drawn from the generator; the same seed gives the same batch."""
    from torchvision.transforms.v2 import functional as F

    from eelib.data import random_crop_flip

    data = load_dataset("fashion-mnist-mini", "test")
    images = torch.stack([data[i][0] for i in range(16)])
    fill = data.black()
    assert fill.shape == (1,) and fill.item() == pytest.approx(-0.2860 / 0.3530, abs=1e-4)
    out = random_crop_flip(images, fill, torch.Generator().manual_seed(7))
    assert out.shape == images.shape and out.dtype == torch.float32
    assert not torch.equal(out, images)
    g = torch.Generator().manual_seed(7)
    top, left = (torch.randint(0, 9, (16,), generator=g) for _ in range(2))
    flip = torch.rand(16, generator=g) < 0.5
    assert 0 < flip.sum() < 16
    for i in range(16):
        cut = F.crop(F.pad(images[i], [4], fill=fill.tolist()), int(top[i]), int(left[i]), 28, 28)
        assert torch.equal(out[i], F.horizontal_flip(cut) if flip[i] else cut), i
    again = random_crop_flip(images, fill, torch.Generator().manual_seed(7))
    other = random_crop_flip(images, fill, torch.Generator().manual_seed(8))
    assert torch.equal(again, out) and not torch.equal(other, out)
    with pytest.raises(ValueError, match="N, C, H, W"):
        random_crop_flip(images[0], fill, g)
    with pytest.raises(ValueError, match="fill needs 1"):
        random_crop_flip(images, torch.zeros(3), g)


def test_random_crop_flip_on_colour_images(tmp_path, monkeypatch):
    from eelib.data import random_crop_flip

    _fake_cifar10(tmp_path)
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda path, md5=None: True)
    train = load_dataset("cifar10", "train", root=tmp_path)
    images = torch.stack([train[i][0] for i in range(8)])
    fill = train.black()
    assert fill.shape == (3,)
    out = random_crop_flip(images, fill, torch.Generator().manual_seed(0), padding=0)
    flipped = out != images
    for i in range(8):  # no padding: each image is itself or its mirror image
        assert torch.equal(out[i], images[i]) or torch.equal(out[i], images[i].flip(-1))
    assert flipped.any()
