import pytest
import torch

from eelib import EarlyExitCNN


@pytest.fixture
def model():
    torch.manual_seed(0)
    return EarlyExitCNN(widths=(8, 16, 32))


@pytest.fixture
def tiny_set():
    """64 random 1×28×28 images with labels: enough to exercise training code quickly."""
    from eelib.data import FASHION_MNIST_CLASSES, ImageDataset

    g = torch.Generator().manual_seed(0)
    data = torch.randint(0, 256, (64, 28, 28), dtype=torch.uint8, generator=g)
    targets = torch.randint(0, 10, (64,), generator=g)
    return ImageDataset(data, targets, FASHION_MNIST_CLASSES, (0.286,), (0.353,), name="tiny")
