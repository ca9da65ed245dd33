"""A fitted MLP ensemble as a model artifact: `<path>.npz` of arrays plus `<path>.json` of metadata, no pickle.

The arrays are each member's weights, named `<member>/<state_dict key>`, and
whatever else the model needs (its feature scaling), kept exactly as given.
The metadata holds `artifact_version`, `architecture` and everything the
fit records. A subclass names its artifact (`WHAT`) and builds its untrained
members from the architecture (`new_members`); loading, saving and the
weights' hash are shared. torch is imported only when a model is built.

Example:
    >>> import tempfile, pathlib
    >>> from nasbench_sim.bench.artifact import EnsembleArtifact
    >>> class Tiny(EnsembleArtifact):
    ...     WHAT = "tiny"
    ...     @staticmethod
    ...     def new_members(architecture):
    ...         from nasbench_sim._nn import mlp
    ...         return [mlp(architecture["inputs"], 4, 1, layers=1)]
    >>> arrays = {f"0/{k}": v.numpy() for k, v in Tiny.new_members({"inputs": 2})[0].state_dict().items()}
    >>> model = Tiny(arrays, {"artifact_version": 1, "architecture": {"inputs": 2}})
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny"
    >>> model.save(path)
    >>> Tiny.load(path).sha256 == model.sha256
    True
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np

from nasbench_sim._io import read_npz_artifact, write_npz_artifact
from nasbench_sim.errors import DataFormatError

if TYPE_CHECKING:
    from torch import nn


class EnsembleArtifact:
    """An MLP ensemble with its arrays and metadata; see the module docstring.

    Args:
        arrays: `<member>/<state_dict key>` weights of every member plus the model's other arrays.
        meta: JSON-able metadata with `architecture` (read by `new_members`).

    Raises:
        KeyError, RuntimeError: the arrays do not fit the architecture (`load` names them as a `DataFormatError`).
    """

    #: What the artifact is, as its errors name it ("surrogate", "budget-model").
    WHAT: ClassVar[str] = "model"
    #: The `artifact_version` this class reads and writes.
    VERSION: ClassVar[int] = 1

    def __init__(self, arrays: Mapping[str, np.ndarray], meta: dict[str, Any]) -> None:
        import torch

        self.meta = meta
        self.arrays = dict(arrays)
        self.nets = self.new_members(meta["architecture"])
        for m, net in enumerate(self.nets):
            prefix = f"{m}/"
            state = {k[len(prefix) :]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith(prefix)}
            net.load_state_dict(state)
            net.eval()

    @staticmethod
    def new_members(architecture: Mapping[str, Any]) -> list[nn.Module]:
        """The untrained members of an ensemble with this architecture (the subclass's networks)."""
        raise NotImplementedError

    @property
    def sha256(self) -> str:
        """Hash of the members' weights (identifies the model in cache names)."""
        digest = hashlib.sha256()
        for net in self.nets:
            for v in net.state_dict().values():
                digest.update(v.numpy().tobytes())
        return digest.hexdigest()

    def save(self, path: str | os.PathLike) -> None:
        """Write `<path>.npz` (the arrays) and `<path>.json` (the metadata), each atomically."""
        write_npz_artifact(path, self.arrays, self.meta)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Self:
        """Load `<path>.npz` + `<path>.json` without pickle.

        Raises:
            DataFormatError: missing or corrupt artifact, another artifact version, or arrays
                that do not fit the architecture.
        """
        arrays, meta = read_npz_artifact(path, cls.WHAT)
        try:
            version = meta.get("artifact_version") if isinstance(meta, dict) else None
            if version != cls.VERSION:
                raise ValueError(f"artifact version {version}, expected {cls.VERSION}")
            return cls(arrays, meta)
        except (ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise DataFormatError(f"{path}: not a readable {cls.WHAT} artifact ({exc})") from None
