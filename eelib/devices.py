"""Which device a run trains on: a name checked for its form, then against this machine.

The runner (:func:`eelib.run_experiment`) and the command line (``python -m eelib reproduce
--device``) check the device before any data is loaded; a cluster's workers check their own.
"""

from __future__ import annotations

import torch


def parse_device(name: str | torch.device, choices: str) -> torch.device:
    """``name`` as a ``torch.device``, checked for its form only (not that this machine has it).

    Raises:
        ValueError: ``name`` is not a device PyTorch knows; the message ends "choose <choices>".
    """
    try:
        return torch.device(name)
    except (RuntimeError, ValueError):
        raise ValueError(f"unknown device {str(name)!r}; choose {choices}") from None


def check_device(name: str | torch.device | None = None) -> torch.device:
    """The device to train on: ``name``, or CUDA when available, else the CPU.

    Raises:
        ValueError: ``name`` is not a device PyTorch knows (``"tpu9"``), or names a CUDA or MPS
            device this machine does not have; the message says which devices there are.
    """
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    available = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    device = parse_device(name, f"one of {', '.join(available)}")
    usable = {
        "cpu": True,
        "cuda": torch.cuda.is_available()
        and (device.index is None or device.index < torch.cuda.device_count()),
        "mps": torch.backends.mps.is_available(),
    }
    if not usable.get(device.type, False):
        raise ValueError(
            f"device {str(name)!r} is not available on this machine; choose one of "
            f"{', '.join(available)}"
        )
    return device
