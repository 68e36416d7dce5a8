"""Write the Sphinx inventories (``objects.inv``) the API reference links PyTorch, NumPy, pandas
and Python through, so that the book builds offline: ``python book/api/inventories/make_inventories.py``.

Sphinx's intersphinx reads each project's ``objects.inv`` to turn a name such as ``torch.Tensor``
into a link to that project's documentation; the build cannot fetch them (no network), so these
small ones, with only the names ``eelib``'s signatures and docstrings use, are committed beside
this script (``_config.yml`` maps each project's documentation URL to its file). A name is listed
both as documented (``torch.nn.Module``) and as Python reports it in a signature
(``torch.nn.modules.module.Module``); both link to the documented page.
``tests_book/test_api_reference.py`` checks that the committed files are what this script writes.
"""

from __future__ import annotations

import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# project: (name, version, {role: {name as written: page (relative to the documentation root)}})
INVENTORIES = {
    "torch": (
        "PyTorch",
        "2",
        {
            "py:class": {
                "torch.Tensor": "tensors.html#torch.Tensor",
                "torch.device": "tensor_attributes.html#torch.device",
                "torch.dtype": "tensor_attributes.html#torch.dtype",
                "torch.Generator": "generated/torch.Generator.html#torch.Generator",
                "torch._C.Generator": "generated/torch.Generator.html#torch.Generator",
                "torch.nn.Module": "generated/torch.nn.Module.html#torch.nn.Module",
                "torch.nn.modules.module.Module": "generated/torch.nn.Module.html#torch.nn.Module",
                "torch.nn.Conv2d": "generated/torch.nn.Conv2d.html#torch.nn.Conv2d",
                "torch.nn.modules.conv.Conv2d": "generated/torch.nn.Conv2d.html#torch.nn.Conv2d",
                "torch.nn.Linear": "generated/torch.nn.Linear.html#torch.nn.Linear",
                "torch.nn.modules.linear.Linear": "generated/torch.nn.Linear.html#torch.nn.Linear",
                "torch.nn.Sequential": "generated/torch.nn.Sequential.html#torch.nn.Sequential",
                "torch.nn.modules.container.Sequential": (
                    "generated/torch.nn.Sequential.html#torch.nn.Sequential"
                ),
                "torch.utils.data.Dataset": "data.html#torch.utils.data.Dataset",
                "torch.utils.data.dataset.Dataset": "data.html#torch.utils.data.Dataset",
                "torch.utils.data.DataLoader": "data.html#torch.utils.data.DataLoader",
                "torch.utils.data.dataloader.DataLoader": "data.html#torch.utils.data.DataLoader",
            },
            "py:function": {
                "torch.nn.utils.prune.global_unstructured": (
                    "generated/torch.nn.utils.prune.global_unstructured.html"
                    "#torch.nn.utils.prune.global_unstructured"
                ),
                "torch.nn.utils.prune.remove": (
                    "generated/torch.nn.utils.prune.remove.html#torch.nn.utils.prune.remove"
                ),
            },
        },
    ),
    "numpy": (
        "NumPy",
        "2",
        {
            "py:class": {
                "numpy.ndarray": "reference/generated/numpy.ndarray.html#numpy.ndarray",
                "numpy.random.Generator": (
                    "reference/random/generator.html#numpy.random.Generator"
                ),
            },
        },
    ),
    "pandas": (
        "pandas",
        "2",
        {
            "py:class": {
                "pandas.DataFrame": "reference/api/pandas.DataFrame.html#pandas.DataFrame",
                "pandas.core.frame.DataFrame": (
                    "reference/api/pandas.DataFrame.html#pandas.DataFrame"
                ),
                "pandas.Series": "reference/api/pandas.Series.html#pandas.Series",
                "pandas.core.series.Series": "reference/api/pandas.Series.html#pandas.Series",
            },
        },
    ),
    "python": (
        "Python",
        "3",
        {
            "py:class": {
                "object": "library/functions.html#object",
                "os.PathLike": "library/os.html#os.PathLike",
                "pathlib.Path": "library/pathlib.html#pathlib.Path",
                "collections.abc.Callable": "library/collections.abc.html#collections.abc.Callable",
                "collections.abc.Iterable": "library/collections.abc.html#collections.abc.Iterable",
                "collections.abc.Iterator": "library/collections.abc.html#collections.abc.Iterator",
                "collections.abc.Mapping": "library/collections.abc.html#collections.abc.Mapping",
                "collections.abc.Sequence": "library/collections.abc.html#collections.abc.Sequence",
            },
            "py:exception": {
                "AssertionError": "library/exceptions.html#AssertionError",
                "Exception": "library/exceptions.html#Exception",
            },
        },
    ),
}


def inventory(project: str, version: str, entries: dict[str, dict[str, str]]) -> bytes:
    """One ``objects.inv`` (Sphinx's version 2 format: four header lines, then zlib)."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = [
        f"{name} {role} 1 {page} -\n"
        for role, names in sorted(entries.items())
        for name, page in sorted(names.items())
    ]
    return header.encode() + zlib.compress("".join(lines).encode(), 9)


def main() -> None:
    for key, (project, version, entries) in INVENTORIES.items():
        (HERE / f"{key}.inv").write_bytes(inventory(project, version, entries))
        print(f"wrote {key}.inv: {sum(map(len, entries.values()))} names")


if __name__ == "__main__":
    main()
