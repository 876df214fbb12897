"""Reads a scikit-learn model saved with joblib without importing scikit-learn or numpy.

alt-profanity-check ships its model as joblib pickles; loading them the usual way imports
scikit-learn (about two seconds per process). Only plain attributes and numeric arrays are
needed to score posts, so this unpickler stands in for the scikit-learn and numpy classes,
reads joblib's numeric arrays (raw bytes after each array's header) into Python lists, and
refuses any other global, so nothing in the file is executed.
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
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:
            self.state = state


class _DType(Attributes):
    """Stands in for ``numpy.dtype``: its type string and byte order."""

    @property
    def code(self) -> str:
        return _TYPECODES[str(self.args[0])]

    @property
    def swapped(self) -> bool:
        order = self.state[1] if isinstance(getattr(self, "state", None), tuple) else "="
        return order in "<>" and (order == "<") != (sys.byteorder == "little")


class _ArrayHeader(Attributes):
    """Stands in for joblib's ``NumpyArrayWrapper``: the header before an array's bytes."""


def _scalar(dtype: _DType, data: bytes) -> float | int:
    """Stands in for numpy's scalar constructor."""
    values = array.array(dtype.code, data)
    if dtype.swapped:
        values.byteswap()
    return values[0]


class ModelUnpickler(pickle._Unpickler):  # type: ignore[name-defined,misc]
    """Unpickles a joblib file into :class:`Attributes` objects and flat lists of numbers."""

    dispatch = dict(pickle._Unpickler.dispatch)  # type: ignore[attr-defined]

    def __init__(self, handle: BinaryIO) -> None:
        super().__init__(handle)
        self._handle = handle
        self._stand_ins: dict[tuple[str, str], type[Attributes]] = {}

    def find_class(self, module: str, name: str) -> Any:
        root = module.split(".")[0]
        if (module, name) == ("joblib.numpy_pickle", "NumpyArrayWrapper"):
            return _ArrayHeader
        if root == "numpy" and name == "dtype":
            return _DType
        if root == "numpy" and name == "scalar":
            return _scalar
        if root in ("sklearn", "numpy"):
            return self._stand_ins.setdefault((module, name), type(name, (Attributes,), {}))
        raise pickle.UnpicklingError(f"unexpected global {module}.{name}")

    def _load_build(self) -> None:
        pickle._Unpickler.load_build(self)  # type: ignore[attr-defined]
        if isinstance(self.stack[-1], _ArrayHeader):
            self.stack.append(self._read_array(self.stack.pop()))

    dispatch[pickle.BUILD[0]] = _load_build

    def _read_array(self, header: _ArrayHeader) -> list[float] | list[int]:
        """The numbers of an array, flattened in C order."""
        dtype = header.dtype
        if getattr(header, "order", "C") != "C" and len(header.shape) > 1:
            raise pickle.UnpicklingError("Fortran-ordered arrays are not supported")
        count = 1
        for size in header.shape:
            count *= size
        if getattr(header, "numpy_array_alignment_bytes", None) is not None:
            self._handle.read(int.from_bytes(self._handle.read(1), "little"))  # padding
        values = array.array(dtype.code)
        data = self._handle.read(count * values.itemsize)
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
