"""The official `nasbench.lib.model_spec.ModelSpec` and the official API's validity check of a spec.

Same validation, pruning and hash as the official class; one deliberate
difference: a 0/1 float matrix hashes like the integer one (the official
`hash_spec` formats float degrees into its strings and gives it another hash).

Example:
    >>> from nasbench_sim.compat.config import official_config
    >>> from nasbench_sim.compat.model_spec import ModelSpec, check_spec
    >>> spec = ModelSpec([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    >>> spec.valid_spec, spec.hash_spec(["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"])
    (True, 'd32d0b26d534203b48d866facd98cc3e')
    >>> check_spec(ModelSpec([[0, 1], [0, 0]], ["input", "relu"]), official_config())
    Traceback (most recent call last):
    ...
    nasbench_sim.errors.OutOfDomainError: last operation should be 'output'
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nasbench_sim.errors import OutOfDomainError
from nasbench_sim.space.hashing import hash_module

__all__ = ["ModelSpec", "check_spec"]


class ModelSpec:
    """Model specification, as `nasbench.lib.model_spec.ModelSpec` (same validation, pruning and hash).

    Args:
        matrix: (V, V) upper-triangular adjacency (nested lists or ndarray).
        ops: V op names ('input' first, 'output' last).
        data_format: 'channels_last' or 'channels_first' (kept, unused).

    Attributes:
        original_matrix, original_ops: deep copies of the arguments.
        matrix, ops: pruned to the vertices on an input-to-output path (None if there is none).
        valid_spec: False if input and output are disconnected.

    Raises:
        ValueError: the matrix is not square, does not match the ops, or is not upper triangular.
    """

    def __init__(self, matrix: Any, ops: Sequence[Any], data_format: str = "channels_last") -> None:
        if not isinstance(matrix, np.ndarray):
            matrix = np.array(matrix)
        shape = np.shape(matrix)
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError("matrix must be square")
        if shape[0] != len(ops):
            raise ValueError("length of ops must match matrix dimensions")
        if not _is_upper_triangular(matrix):
            raise ValueError("matrix must be upper triangular")
        # Deep copies: later changes to the caller's objects are not seen by the spec.
        self.original_matrix = copy.deepcopy(matrix)
        self.original_ops = copy.deepcopy(ops)
        self.matrix = copy.deepcopy(matrix)
        self.ops = copy.deepcopy(ops)
        self.valid_spec = True
        self._prune()
        self.data_format = data_format

    def _prune(self) -> None:
        """Drop vertices not on an input-to-output path (in place, like the official code)."""
        num_vertices = np.shape(self.original_matrix)[0]
        from_input = {0}
        frontier = [0]
        while frontier:
            top = frontier.pop()
            for v in range(top + 1, num_vertices):
                if self.original_matrix[top, v] and v not in from_input:
                    from_input.add(v)
                    frontier.append(v)
        to_output = {num_vertices - 1}
        frontier = [num_vertices - 1]
        while frontier:
            top = frontier.pop()
            for v in range(0, top):
                if self.original_matrix[v, top] and v not in to_output:
                    to_output.add(v)
                    frontier.append(v)
        extraneous = set(range(num_vertices)).difference(from_input & to_output)
        if len(extraneous) > num_vertices - 2:  # fewer than 2 vertices left: input and output disconnected
            self.matrix = None
            self.ops = None
            self.valid_spec = False
            return
        self.matrix = np.delete(self.matrix, list(extraneous), axis=0)
        self.matrix = np.delete(self.matrix, list(extraneous), axis=1)
        for index in sorted(extraneous, reverse=True):
            del self.ops[index]  # a tuple raises TypeError, an ndarray ValueError, as in the official code

    def hash_spec(self, canonical_ops: Sequence[str]) -> str:
        """Official module hash of the pruned spec, op labels by position in `canonical_ops`.

        `ops[0]` and `ops[-1]` are not looked at (labelled input/output).
        A 0/1 float matrix hashes like the integer one (the official API gives
        it another hash; a deliberate difference).

        Raises:
            ValueError: an interior op is not in `canonical_ops`.
            TypeError: the spec is invalid (`matrix` / `ops` are None).
        """
        labeling = [-1] + [canonical_ops.index(op) for op in self.ops[1:-1]] + [-2]
        matrix = np.asarray(self.matrix)
        if matrix.dtype.kind == "f":
            if not np.isin(matrix, (0, 1)).all():  # not an adjacency matrix: the official float hash, no cell's
                return _float_hash(matrix, labeling)
            matrix = matrix.astype(np.int64)
        return hash_module(matrix, labeling)

    def visualize(self) -> Any:
        raise NotImplementedError("visualize needs graphviz; not provided by nasbench_sim")


def check_spec(model_spec: ModelSpec, config: Mapping[str, Any]) -> None:
    """The official API's validity check of a spec (`NASBench._check_spec`).

    Args:
        model_spec: the spec (its pruned `matrix` and `ops`).
        config: the official configuration (`module_vertices`, `max_edges`, `available_ops`).

    Raises:
        OutOfDomainError: the spec is disconnected, too large, or has a misplaced or unknown op.
    """
    if not model_spec.valid_spec:
        raise OutOfDomainError("invalid spec, provided graph is disconnected.")
    num_vertices = len(model_spec.ops)
    num_edges = np.sum(model_spec.matrix)
    if num_vertices > config["module_vertices"]:
        raise OutOfDomainError(f"too many vertices, got {num_vertices} (max vertices = {config['module_vertices']})")
    if num_edges > config["max_edges"]:
        raise OutOfDomainError(f"too many edges, got {int(num_edges)} (max edges = {config['max_edges']})")
    if model_spec.ops[0] != "input":
        raise OutOfDomainError("first operation should be 'input'")
    if model_spec.ops[-1] != "output":
        raise OutOfDomainError("last operation should be 'output'")
    for op in model_spec.ops[1:-1]:
        if op not in config["available_ops"]:
            raise OutOfDomainError(f"unsupported op {op} (available ops = {config['available_ops']})")


def _is_upper_triangular(matrix: np.ndarray) -> bool:
    """True if the matrix is 0 on and below the diagonal."""
    for src in range(np.shape(matrix)[0]):
        for dst in range(0, src + 1):
            if matrix[src, dst] != 0:
                return False
    return True


def _float_hash(matrix: np.ndarray, labeling: list[int]) -> str:
    """The official `graph_util.hash_module` on a float matrix (degrees are formatted as floats)."""
    n = np.shape(matrix)[0]
    in_edges = np.sum(matrix, axis=0).tolist()
    out_edges = np.sum(matrix, axis=1).tolist()
    hashes = [hashlib.md5(str(h).encode("utf-8")).hexdigest() for h in zip(out_edges, in_edges, labeling, strict=True)]
    for _ in range(n):
        hashes = [
            hashlib.md5(
                (
                    "".join(sorted(hashes[w] for w in range(n) if matrix[w, v]))
                    + "|"
                    + "".join(sorted(hashes[w] for w in range(n) if matrix[v, w]))
                    + "|"
                    + hashes[v]
                ).encode("utf-8")
            ).hexdigest()
            for v in range(n)
        ]
    return hashlib.md5(str(sorted(hashes)).encode("utf-8")).hexdigest()
