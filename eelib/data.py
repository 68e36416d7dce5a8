"""Datasets: the Fashion-MNIST subset that ships with eelib, full Fashion-MNIST and CIFAR-10.

Every loader returns an :class:`ImageDataset`, which looks like a torchvision dataset
(``.data`` uint8 pixels, ``.targets`` int64 labels, ``.classes``) and yields
``(float32 image C×H×W, normalised; int label)`` items.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from . import arguments

DATASETS = ("fashion-mnist-mini", "fashion-mnist", "cifar10")
AUGMENTATIONS = ("none", "crop-flip")
"""Training-image augmentations :func:`eelib.train` knows (see :func:`random_crop_flip`)."""
# Channels of each dataset's images (C of an item's (C, H, W) image).
IMAGE_CHANNELS = {"fashion-mnist-mini": 1, "fashion-mnist": 1, "cifar10": 3}

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
# Per-channel mean and standard deviation of the training pixels, scaled to [0, 1].
NORMALISATION = {
    "fashion-mnist": ((0.2860,), (0.3530,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
}
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
MINI_FILE = "fashion_mnist_mini.npz"
# SHA-256 of the mini subset's arrays (see `mini_digest`); scripts/make_fashion_mnist_mini.py prints it.
MINI_SHA256 = "24c5b7802373bdf999cc342bdfa4d6a3775c3cf0a908637a43aa95b64c415edd"
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class ImageDataset(Dataset):
    """Images held in memory as uint8 pixels, normalised item by item.

    Attributes:
        data: uint8 tensor ``(N, H, W)`` (grey) or ``(N, H, W, C)`` (colour), the original pixels.
        targets: int64 tensor ``(N,)``.
        classes: class names, ``classes[label]``.
        mean, std: per-channel normalisation applied to pixels scaled to [0, 1].
    """

    def __init__(
        self, data: torch.Tensor, targets: torch.Tensor, classes, mean, std, name: str = ""
    ):
        if data.dtype != torch.uint8 or data.ndim not in (3, 4):
            raise ValueError(
                f"data must be a uint8 tensor N×H×W or N×H×W×C, got {data.dtype} {tuple(data.shape)}"
            )
        if len(data) != len(targets):
            raise ValueError(f"data has {len(data)} images but targets has {len(targets)} labels")
        self.data = data
        self.targets = torch.as_tensor(targets, dtype=torch.int64)
        self.classes = list(classes)
        self.mean, self.std = list(mean), list(std)
        self.name = name

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.normalise(self.data[index : index + 1])[0], int(self.targets[index])

    def __getitems__(self, indices: list[int]) -> list[tuple[torch.Tensor, int]]:
        """A batch of items at once; DataLoader calls this instead of one ``__getitem__`` per sample."""
        index = torch.as_tensor(indices)
        return list(zip(self.normalise(self.data[index]), self.targets[index].tolist()))

    def normalise(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8 pixels ``(N, H, W)`` or ``(N, H, W, C)`` → float32 ``(N, C, H, W)``, scaled to [0, 1] and normalised."""
        images = pixels.unsqueeze(1) if pixels.ndim == 3 else pixels.permute(0, 3, 1, 2)
        # torchvision's to_dtype(scale=True) and normalize, step for step, without importing
        # torchvision (1 s) for every item.
        images = images.to(torch.float32).mul_(1.0 / 255)
        mean, std = (
            torch.tensor(v, dtype=torch.float32).view(-1, 1, 1) for v in (self.mean, self.std)
        )
        return images.sub(mean).div_(std)

    def black(self) -> torch.Tensor:
        """float32 ``(C,)``: a black pixel (0 in every channel) once normalised, the value
        :func:`random_crop_flip` pads with (what padding the pixels before normalising gives)."""
        zero = torch.zeros((1, 1, 1) if len(self.mean) == 1 else (1, 1, 1, len(self.mean)))
        return self.normalise(zero.to(torch.uint8))[0, :, 0, 0]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """Shape ``(C, H, W)`` of one item's image."""
        return tuple(self[0][0].shape)

    def __repr__(self) -> str:
        return f"ImageDataset({self.name!r}, {len(self)} images of {self.image_shape}, {len(self.classes)} classes)"


def load_dataset(
    name: str = "fashion-mnist-mini",
    split: str = "train",
    root: str | os.PathLike | None = None,
    download: bool = False,
) -> ImageDataset:
    """Load one split of a dataset as an :class:`ImageDataset`.

    Args:
        name: ``"fashion-mnist-mini"`` (default; 6,000 training and 2,000 test images of the
            official Fashion-MNIST files, shipped inside eelib), ``"fashion-mnist"`` (the full
            60,000 + 10,000 images) or ``"cifar10"`` (50,000 + 10,000 colour images, 3×32×32).
        split: ``"train"`` or ``"test"``.
        root: a folder to look in first. Fashion-MNIST is then looked for in ``$EELIB_DATA`` and
            ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``), CIFAR-10 in
            ``$EELIB_DATA``. Both the flat idx files (``.gz`` or not) and torchvision's layout are found.
        download: let torchvision download the data into ``root`` (or ``$EELIB_DATA``, or ``./data``)
            when it is not found (needs internet).

    Returns:
        A dataset whose items are ``(image, label)``: float32 ``(C, H, W)`` normalised, int label.

    Raises:
        ValueError: unknown ``name`` or ``split``.
        FileNotFoundError: ``root`` is given but is not a folder (and ``download`` is False), or
            the data is not on disk and ``download`` is False; the message names the folders
            looked in and the ways to get the data.
        RuntimeError: the shipped mini subset fails its SHA-256 check.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if split not in IDX_FILES:
        raise ValueError(f"unknown split {split!r}; choose 'train' or 'test'")
    if root is not None and not download and not Path(root).is_dir():
        raise FileNotFoundError(
            f"root {str(root)!r} is not a folder; give the folder that holds the {name} files"
        )
    if name == "fashion-mnist-mini":
        return _load_mini(split)
    if name == "fashion-mnist":
        return _load_fashion_mnist(split, root, download)
    return _load_cifar10(split, root, download)


def validation_split(
    dataset: ImageDataset, size: int, seed: int = 0
) -> tuple[ImageDataset, ImageDataset]:
    """Hold out a class-balanced validation split from a training set.

    Operating points (a threshold for a target accuracy) are chosen on the validation split and
    reported on the test set (the book's chapter 5), so the test set never picks what it then grades.

    Args:
        dataset: the training images.
        size: how many images to hold out, a multiple of the number of classes (each class gives
            ``size / classes`` images, drawn at random with ``seed``).
        seed: seeds the draw; the same seed gives the same split.

    Returns:
        ``(train, validation)``: two :class:`ImageDataset` with no image in common, together the
        whole ``dataset``, each keeping its order.

    Raises:
        ValueError: ``size`` not a positive multiple of the number of classes, or more images of a
            class than the dataset has.
    """
    classes = len(dataset.classes)
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0 or size % classes:
        raise ValueError(
            f"validation size must be a positive multiple of the {classes} classes, got {size!r}"
        )
    generator = torch.Generator().manual_seed(seed)
    held = []
    for label in range(classes):
        members = torch.nonzero(dataset.targets == label).flatten()
        if len(members) < size // classes:
            raise ValueError(
                f"class {label} has {len(members)} images, fewer than the {size // classes} a "
                f"validation split of {size} needs; choose a smaller size"
            )
        held.append(members[torch.randperm(len(members), generator=generator)[: size // classes]])
    is_val = torch.zeros(len(dataset), dtype=torch.bool)
    is_val[torch.cat(held)] = True

    def subset(keep: torch.Tensor, part: str) -> ImageDataset:
        return ImageDataset(
            dataset.data[keep],
            dataset.targets[keep],
            dataset.classes,
            dataset.mean,
            dataset.std,
            name=f"{dataset.name} ({part})",
        )

    return subset(~is_val, "train"), subset(is_val, "validation")


def random_crop_flip(
    images: torch.Tensor, fill: torch.Tensor, generator: torch.Generator, padding: int = 4
) -> torch.Tensor:
    """The standard CIFAR augmentation of a batch: pad, crop at random, flip half the images.

    Each image is padded with ``padding`` pixels of ``fill`` on every side, a window of its own
    size is cut at a random offset, and the window is mirrored left–right with probability 1/2:
    "4 pixels are padded on each side, and a 32×32 crop is randomly sampled from the padded
    image or its horizontal flip" (He et al., 2016, §4.2, after Lee et al., 2015), what
    torchvision's ``v2.RandomCrop(32, padding=4)`` then ``v2.RandomHorizontalFlip()`` do image
    by image. Here the offsets and flips are drawn from ``generator`` (not the global random
    state), so a training run is the same for the same seed, and the whole batch is cut in one
    indexing operation on the batch's device (tested equal to ``pad``, ``crop`` and
    ``horizontal_flip`` of ``torchvision.transforms.v2.functional`` with the same draws).

    Args:
        images: float ``(N, C, H, W)`` batch, normalised, on any device.
        fill: ``(C,)`` value of a padded pixel (:meth:`ImageDataset.black`: zero pixels
            before normalisation, as the torchvision recipe pads).
        generator: a CPU ``torch.Generator``; 3 draws per image (row, column, flip).
        padding: pixels added on each side (4: He et al., 2016).

    Returns:
        float ``(N, C, H, W)``, a new tensor on ``images``' device; ``images`` is unchanged.

    Raises:
        ValueError: ``images`` is not 4-D, ``fill`` has not C values, or ``padding`` < 0.
    """
    if images.ndim != 4:
        raise ValueError(f"images must be a batch (N, C, H, W), got shape {tuple(images.shape)}")
    n, c, h, w = images.shape
    if fill.numel() != c:
        raise ValueError(f"fill needs {c} values, one per channel, got {fill.numel()}")
    arguments.integer(padding, "padding", 0)
    top = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    left = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    padded = fill.to(images).view(1, c, 1, 1).expand(n, c, h + 2 * padding, w + 2 * padding)
    padded = padded.clone()
    padded[:, :, padding : padding + h, padding : padding + w] = images
    rows = top[:, None] + torch.arange(h)
    cols = torch.where(
        flip[:, None], left[:, None] + w - 1 - torch.arange(w), left[:, None] + torch.arange(w)
    )
    device = images.device
    batch = torch.arange(n, device=device)[:, None, None]
    # advanced indices on dims 0, 2 and 3 around a slice: the result is (N, H, W, C)
    cut = padded[batch, :, rows.to(device)[:, :, None], cols.to(device)[:, None, :]]
    return cut.permute(0, 3, 1, 2).contiguous()


def mini_digest(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 (hex) of the mini subset's arrays, taken in sorted key order over names, shapes and bytes."""
    sha = hashlib.sha256()
    for key in sorted(arrays):
        array = np.ascontiguousarray(arrays[key])
        sha.update(f"{key}:{array.dtype.str}:{array.shape};".encode())
        sha.update(array.tobytes())
    return sha.hexdigest()


def _load_mini(split: str) -> ImageDataset:
    with (
        resources.as_file(resources.files("eelib") / "assets" / MINI_FILE) as path,
        np.load(path) as npz,
    ):
        arrays = {key: npz[key] for key in npz.files}
    digest = mini_digest(arrays)
    if digest != MINI_SHA256:
        raise RuntimeError(
            f"eelib/assets/{MINI_FILE} fails its SHA-256 check (got {digest}); reinstall eelib "
            "or rebuild it with scripts/make_fashion_mnist_mini.py"
        )
    mean, std = NORMALISATION["fashion-mnist"]
    return ImageDataset(
        torch.from_numpy(arrays[f"{split}_images"]),
        torch.from_numpy(arrays[f"{split}_labels"]),
        FASHION_MNIST_CLASSES,
        mean,
        std,
        name="fashion-mnist-mini",
    )


def _candidate_folders(root, with_debian: bool) -> list[Path]:
    folders = [Path(root)] if root is not None else []
    if os.environ.get("EELIB_DATA"):
        folders.append(Path(os.environ["EELIB_DATA"]))
    if with_debian:
        folders.append(DEBIAN_FASHION_MNIST)
    return folders


def default_download_folder(root) -> Path:
    """Where ``download=True`` puts a dataset: ``root``, else ``$EELIB_DATA``, else ``./data``."""
    return Path(root or os.environ.get("EELIB_DATA") or "data")


def _find_idx_files(folder: Path) -> list[Path] | None:
    """The four Fashion-MNIST idx files in ``folder`` (flat or torchvision's layout, gzipped or not), else None."""
    for where in (folder, folder / "FashionMNIST" / "raw"):
        found = []
        for stem in (*IDX_FILES["train"], *IDX_FILES["test"]):
            matches = [
                where / (stem + ext) for ext in ("", ".gz") if (where / (stem + ext)).is_file()
            ]
            if not matches:
                break
            found.append(matches[0])
        else:
            return found
    return None


def _not_found(name: str, folders: list[Path], how: str) -> FileNotFoundError:
    looked = ", ".join(str(f) for f in folders) or "(no folder given)"
    return FileNotFoundError(f"{name} is not on disk; looked in: {looked}. To get it: {how}")


def _load_fashion_mnist(split: str, root, download: bool) -> ImageDataset:
    import torchvision  # here, not at the top: importing it takes a second
    from torchvision.datasets.utils import extract_archive

    folders = _candidate_folders(root, with_debian=True)
    files = next((f for f in (_find_idx_files(folder) for folder in folders) if f), None)
    with tempfile.TemporaryDirectory() as tmp:
        if files is not None:
            # torchvision reads uncompressed files in <root>/FashionMNIST/raw: stage them there.
            raw = Path(tmp) / "FashionMNIST" / "raw"
            raw.mkdir(parents=True)
            for path in files:
                if path.suffix == ".gz":
                    extract_archive(path, raw)
                else:
                    shutil.copyfile(path, raw / path.name)
            base = torchvision.datasets.FashionMNIST(tmp, train=split == "train")
        elif download:
            base = torchvision.datasets.FashionMNIST(
                default_download_folder(root), train=split == "train", download=True
            )
        else:
            raise _not_found(
                "Fashion-MNIST",
                folders,
                "install Debian's package dataset-fashion-mnist (apt-get install dataset-fashion-mnist), "
                "put the four idx files in a folder and pass root= or set EELIB_DATA, "
                "or pass download=True where there is internet.",
            )
    mean, std = NORMALISATION["fashion-mnist"]
    return ImageDataset(
        base.data, base.targets, FASHION_MNIST_CLASSES, mean, std, name="fashion-mnist"
    )


def _load_cifar10(split: str, root, download: bool) -> ImageDataset:
    import torchvision  # here, not at the top: importing it takes a second

    folders = _candidate_folders(root, with_debian=False)
    folder = next(
        (f for f in folders if (f / torchvision.datasets.CIFAR10.base_folder).is_dir()), None
    )
    if folder is None and not download:
        raise _not_found(
            "CIFAR-10",
            folders,
            "pass download=True (the command line's --download) where there is internet, or "
            "put torchvision's cifar-10-batches-py folder in a folder and pass root= (--root) "
            "or set EELIB_DATA.",
        )
    base = torchvision.datasets.CIFAR10(
        folder or default_download_folder(root),
        train=split == "train",
        download=download and folder is None,
    )
    mean, std = NORMALISATION["cifar10"]
    return ImageDataset(
        torch.from_numpy(base.data),
        torch.tensor(base.targets),
        base.classes,
        mean,
        std,
        name="cifar10",
    )
