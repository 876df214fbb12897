"""Reads a scikit-learn model saved with joblib without importing scikit-learn or numpy.

alt-profanity-check ships its model as joblib pickles; loading them the usual way imports
scikit-learn (about two seconds per process). Only plain attributes and numeric arrays are
needed to score posts, so this unpickler (the standard one, with the globals it may make
restricted to an allow-list) stands in for the scikit-learn and numpy classes, reads
joblib's numeric arrays (raw bytes after each array's header) into Python lists, and refuses
any other global, so nothing in the file is executed.
"""

from __future__ import annotations

import array
import pickle
import sys
from pathlib import Path
from typing import Any, BinaryIO

# numpy dtype strings of the arrays read, as array module type codes.
_TYPECODES = {"f8": "d", "f4": "f", "i8": "q", "i4": "i", "u8": "Q", "u4": "I"}


class Attributes:
    """Stands in for a pickled class: keeps the attributes it is given."""

    def __init__(self, *args: Any) -> None:
        self.args = args

    def __setstate__(self, state: Any) -> None:
        """Keep a dict's items as attributes, anything else as ``state``."""
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:
            self.state = state


class _DType(Attributes):
    """Stands in for ``numpy.dtype``: its type string and byte order."""

    @property
    def code(self) -> str:
        """The ``array`` module's type code of the dtype."""
        return _TYPECODES[str(self.args[0])]

    @property
    def swapped(self) -> bool:
        """Whether the numbers are stored in the other byte order than this machine's."""
        order = self.state[1] if isinstance(getattr(self, "state", None), tuple) else "="
        return order in "<>" and (order == "<") != (sys.byteorder == "little")


class _Array(list[Any]):
    """Stands in for joblib's ``NumpyArrayWrapper``: once its header is built, the numbers of
    the array, which the file holds right after the header (see :class:`_Exact`)."""

    file: BinaryIO  # set on the subclass made for each file

    def __setstate__(self, header: dict[str, Any]) -> None:
        """Read the array's numbers, which follow its header in the file."""
        self.extend(_read_array(self.file, header))


def _scalar(dtype: _DType, data: bytes) -> float | int:
    """Stands in for numpy's scalar constructor."""
    values = array.array(dtype.code, data)
    if dtype.swapped:
        values.byteswap()
    return values[0]


class _Exact:
    """The file as the unpickler sees it, without ``peek``: pickle's unpickler then reads
    nothing beyond the opcodes it has run (as it must for several pickles in one stream), so
    an array's bytes are next in the file when its header is built."""

    def __init__(self, handle: BinaryIO) -> None:
        self.read = handle.read
        self.readinto = handle.readinto
        self.readline = handle.readline


class ModelUnpickler(pickle.Unpickler):
    """Unpickles a joblib file into :class:`Attributes` objects and flat lists of numbers,
    making no global but the stand-ins."""

    def __init__(self, handle: BinaryIO) -> None:
        super().__init__(_Exact(handle))
        self._array = type("NumpyArrayWrapper", (_Array,), {"file": handle})
        self._stand_ins: dict[tuple[str, str], type[Attributes]] = {}

    def find_class(self, module: str, name: str) -> Any:
        """The stand-in for a global the file names; any other is refused."""
        root = module.split(".")[0]
        if (module, name) == ("joblib.numpy_pickle", "NumpyArrayWrapper"):
            return self._array
        if root == "numpy" and name == "dtype":
            return _DType
        if root == "numpy" and name == "scalar":
            return _scalar
        if root in ("sklearn", "numpy"):
            return self._stand_ins.setdefault((module, name), type(name, (Attributes,), {}))
        raise pickle.UnpicklingError(f"unexpected global {module}.{name}")


def _read_array(handle: BinaryIO, header: dict[str, Any]) -> list[float] | list[int]:
    """The numbers of the array whose joblib header is ``header``, read from ``handle``
    (where they follow the header), flattened in C order."""
    dtype = header["dtype"]
    shape = header["shape"]
    if header.get("order", "C") != "C" and len(shape) > 1:
        raise pickle.UnpicklingError("Fortran-ordered arrays are not supported")
    count = 1
    for size in shape:
        count *= size
    if header.get("numpy_array_alignment_bytes") is not None:
        handle.read(int.from_bytes(handle.read(1), "little"))  # padding
    values = array.array(dtype.code)
    data = handle.read(count * values.itemsize)
    if len(data) != count * values.itemsize:
        raise pickle.UnpicklingError("array data ends early")
    values.frombytes(data)
    if dtype.swapped:
        values.byteswap()
    return values.tolist()


def load(path: Path) -> Any:
    """The object pickled in the joblib file ``path``."""
    with path.open("rb") as handle:
        return ModelUnpickler(handle).load()
