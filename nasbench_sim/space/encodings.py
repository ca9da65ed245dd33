"""Fixed-length numeric encodings of cells for surrogate models and samplers.

All functions take a sequence of cells and return a batch array:

=====================  ===========  =====  ==========================================
function               shape        dtype  content
=====================  ===========  =====  ==========================================
`adjacency_onehot`     (B, 36)      f32    21 upper-triangular edges of the 7-vertex
                                           padded matrix + 5 x 3 one-hot interior ops
`path_encoding`        (B, 364)     f32    1 if that input-to-output op path exists
`truncated_path`       (B, k)       f32    first k entries of `path_encoding`
`categorical`          (B, 26)      i64    21 edges in {0,1} + 5 op indices in {0,1,2}
`raw_categorical`      (B, 26)      i64    the same of the unpruned 7-vertex form
                                           (naszilla's GP distance counts its differences)
=====================  ===========  =====  ==========================================

`ENCODINGS` is the one list of encodings, by name (`adjacency`, `path`,
`truncated_path` of length 40, `categorical`, `raw_categorical`). Each `Encoding`
holds the one definition, on many cells' arrays (`nasbench_sim.space.forms`: the
compact form as `CellSpace` stores cells, or the raw 7-vertex form), and computes
it alike for a list of cells (`ENCODINGS[name](cells)`, as the functions above do)
and for cells given as arrays (`ENCODINGS[name].of(batch)`, `raw.CellBatch.encode`).
`path_key` / `path_key_hash` hash a cell's multiset of op paths (a dedup rule).

Padding puts missing vertices just before the output (output stays at index 6);
their one-hot rows are zero. Paths are indexed by length, then by the ops along
them read as a base-3 number: length 0 (input->output) is entry 0, length 1 are
entries 1-3, length 2 are 4-12, ..., length 5 are 121-363. The first 40 entries
are all paths of length <= 3 (BANANAS' truncation).

Example:
    >>> from nasbench_sim.space import Cell
    >>> from nasbench_sim.space.encodings import path_encoding
    >>> cell = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    >>> path_encoding([cell]).nonzero()[1].tolist()  # path [] and path [maxpool]
    [0, 3]
    >>> from nasbench_sim.space.encodings import ENCODINGS
    >>> ENCODINGS["truncated_path"]([cell]).shape
    (1, 40)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from nasbench_sim.errors import ConfigError
from nasbench_sim.space.cell import (
    INPUT,
    MAX_VERTICES,
    NUM_EDGE_SLOTS,
    NUM_OP_SLOTS,
    NUM_OPS,
    OPS,
    OUTPUT,
    Cell,
    edge_bit,
)
from nasbench_sim.space.forms import EDGES, CellArrays, CellForms

ADJACENCY_ONEHOT_LENGTH = NUM_EDGE_SLOTS + NUM_OP_SLOTS * NUM_OPS  # 36
PATH_LENGTH = sum(NUM_OPS**k for k in range(NUM_OP_SLOTS + 1))  # 364
CATEGORICAL_LENGTH = NUM_EDGE_SLOTS + NUM_OP_SLOTS  # 26
#: BANANAS' truncation: the paths through at most 3 op vertices.
TRUNCATED_PATH_LENGTH = 40
#: PATH_OFFSET[k]: the `path_encoding` entry of the first path through k op vertices.
PATH_OFFSET = [sum(NUM_OPS**k for k in range(length)) for length in range(NUM_OP_SLOTS + 2)]
_UPPER = np.triu_indices(MAX_VERTICES, 1)


# --- definitions on the compact form of many cells ----------------------------------------------
def padded_adjacency(num_vertices: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """(B, 7, 7) uint8 adjacency padded before the output (output at index 6).

    Args:
        num_vertices: (B,) vertices after pruning.
        bits: (B,) edge bits in the official order (see `Cell.bits`).
    """
    nv = np.asarray(num_vertices, dtype=np.int64)
    bits = np.asarray(bits, dtype=np.int64)
    out = np.zeros((nv.size, MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
    for j in range(1, MAX_VERTICES):
        for i in range(j):
            edge = ((bits >> edge_bit(i, j)) & 1).astype(np.uint8)
            # Vertex j of an n-vertex cell: the output (j = n-1) moves to 6, others stay.
            is_out = j == nv - 1
            valid = j < nv
            out[:, i, MAX_VERTICES - 1] |= edge * (is_out & valid)
            out[:, i, j] |= edge * (~is_out & valid)
    return out


def adjacency_onehot_compact(num_vertices: np.ndarray, bits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(B, 36) float32 `adjacency_onehot` from the compact form."""
    adj = padded_adjacency(num_vertices, bits)
    labels = np.asarray(labels, dtype=np.int64)
    out = np.zeros((adj.shape[0], ADJACENCY_ONEHOT_LENGTH), dtype=np.float32)
    out[:, :NUM_EDGE_SLOTS] = adj[:, _UPPER[0], _UPPER[1]]
    for k in range(NUM_OP_SLOTS):
        for op in range(NUM_OPS):
            out[:, NUM_EDGE_SLOTS + k * NUM_OPS + op] = labels[:, k] == op
    return out


def _possible_paths(
    num_vertices: np.ndarray, bits: np.ndarray, labels: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per possible path (an increasing subset of the padded interior slots 1..5): which cells have it,
    (B,) bool, and its `path_index` in each, (B,) int64.

    A path exists iff every consecutive edge of it does.
    """
    adj = padded_adjacency(num_vertices, bits).astype(bool)
    labels = np.asarray(labels, dtype=np.int64)
    for size in range(NUM_OP_SLOTS + 1):
        for subset in itertools.combinations(range(1, MAX_VERTICES - 1), size):
            walk = (0, *subset, MAX_VERTICES - 1)
            exists = np.ones(adj.shape[0], dtype=bool)
            for a, b in itertools.pairwise(walk):
                exists &= adj[:, a, b]
            code = np.zeros(adj.shape[0], dtype=np.int64)
            for v in subset:
                code = code * NUM_OPS + np.maximum(labels[:, v - 1], 0)
            yield exists, PATH_OFFSET[size] + code


def path_encoding_compact(num_vertices: np.ndarray, bits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(B, 364) float32 `path_encoding` from the compact form, vectorised."""
    out = np.zeros((np.size(num_vertices), PATH_LENGTH), dtype=np.float32)
    rows = np.arange(out.shape[0])
    for exists, index in _possible_paths(num_vertices, bits, labels):
        out[rows[exists], index[exists]] = 1.0
    return out


def truncated_path_compact(num_vertices: np.ndarray, bits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(B, 40) float32 `truncated_path` (BANANAS' length) from the compact form."""
    return path_encoding_compact(num_vertices, bits, labels)[:, :TRUNCATED_PATH_LENGTH]


def categorical_compact(num_vertices: np.ndarray, bits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(B, 26) int64 `categorical` from the compact form."""
    adj = padded_adjacency(num_vertices, bits)
    out = np.zeros((adj.shape[0], CATEGORICAL_LENGTH), dtype=np.int64)
    out[:, :NUM_EDGE_SLOTS] = adj[:, _UPPER[0], _UPPER[1]]
    out[:, NUM_EDGE_SLOTS:] = np.maximum(np.asarray(labels, dtype=np.int64), 0)
    return out


#: Fixed random weights of the path-multiset hash (any fixed values work; changing them changes keys).
PATH_KEY_WEIGHTS = np.random.default_rng(20240601).integers(1, 2**62, size=PATH_LENGTH, dtype=np.int64)


def path_key_hash(num_vertices: np.ndarray, bits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(B,) int64 `path_key` of many cells from the compact form, vectorised."""
    key = np.zeros(np.size(num_vertices), dtype=np.int64)
    for exists, index in _possible_paths(num_vertices, bits, labels):
        key += np.where(exists, PATH_KEY_WEIGHTS[index], 0)  # wraps modulo 2**64: fine for a hash
    return key


# --- definitions on the raw form of many cells ----------------------------------------------------
def raw_categorical_from_raw(edges: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(B, 26) int64 `raw_categorical` from the raw form: the 21 edge indicators (row-major) and 5 op indices."""
    edges = np.asarray(edges, dtype=np.int64)
    columns = [(edges >> bit) & 1 for _, _, bit in sorted(EDGES)]
    return np.column_stack([*columns, np.asarray(labels, dtype=np.int64)])


# --- the encodings by name --------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Encoding:
    """One cell encoding: its definition on many cells' arrays, and its width and dtype.

    Attributes:
        form: the arrays it is defined on, 'compact' or 'raw' (see `nasbench_sim.space.forms`).
        function: those arrays -> (B, length) values.
        length: values per cell.
        dtype: their type.
    """

    form: str
    function: Callable[..., np.ndarray]
    length: int
    dtype: type

    def of(self, arrays: CellArrays) -> np.ndarray:
        """(B, length) encoding of many cells given as arrays (a `raw.CellBatch`, `forms.CellForms`)."""
        return self.function(*getattr(arrays, self.form))

    def __call__(self, cells: Sequence[Cell]) -> np.ndarray:
        """(B, length) encoding of a sequence of cells."""
        return self.of(CellForms(cells))


ENCODINGS: dict[str, Encoding] = {
    "adjacency": Encoding(
        form="compact", function=adjacency_onehot_compact, length=ADJACENCY_ONEHOT_LENGTH, dtype=np.float32
    ),
    "path": Encoding(form="compact", function=path_encoding_compact, length=PATH_LENGTH, dtype=np.float32),
    "truncated_path": Encoding(
        form="compact", function=truncated_path_compact, length=TRUNCATED_PATH_LENGTH, dtype=np.float32
    ),
    "categorical": Encoding(form="compact", function=categorical_compact, length=CATEGORICAL_LENGTH, dtype=np.int64),
    "raw_categorical": Encoding(
        form="raw", function=raw_categorical_from_raw, length=CATEGORICAL_LENGTH, dtype=np.int64
    ),
}


def encoding(name: str) -> Encoding:
    """The encoding of a name of `ENCODINGS`.

    Raises:
        ConfigError: an unknown name.
    """
    if name not in ENCODINGS:
        raise ConfigError(f"unknown encoding {name!r} (choices: {', '.join(ENCODINGS)})")
    return ENCODINGS[name]


# --- per cell ---------------------------------------------------------------------------------------
def adjacency_onehot(cells: Sequence[Cell]) -> np.ndarray:
    """(B, 36) float32: padded upper-triangular edges, then one-hot interior ops."""
    return ENCODINGS["adjacency"](cells)


def path_encoding(cells: Sequence[Cell]) -> np.ndarray:
    """(B, 364) float32 BANANAS path encoding."""
    return ENCODINGS["path"](cells)


def truncated_path(cells: Sequence[Cell], length: int = TRUNCATED_PATH_LENGTH) -> np.ndarray:
    """(B, length) float32: the shortest-path end of `path_encoding`."""
    if not 1 <= length <= PATH_LENGTH:
        raise ValueError(f"length must be in [1, {PATH_LENGTH}], got {length}")
    return path_encoding(cells)[:, :length]


def categorical(cells: Sequence[Cell]) -> np.ndarray:
    """(B, 26) int64: 21 padded edges in {0, 1}, then 5 op indices (0 for padding)."""
    return ENCODINGS["categorical"](cells)


def raw_categorical(cells: Sequence[Cell]) -> np.ndarray:
    """(B, 26) int64: the 21 edges (row-major) and 5 op indices of each cell's unpruned 7-vertex form.

    `cell_from_categorical` inverts it (up to isomorphism).
    """
    return ENCODINGS["raw_categorical"](cells)


def cell_paths(cell: Cell) -> list[tuple[int, ...]]:
    """All input-to-output paths as tuples of interior op indices."""
    rows = cell.matrix.tolist()
    n = len(rows)
    labels = cell.labels
    paths: list[tuple[int, ...]] = []

    def walk(v: int, ops: tuple[int, ...]) -> None:
        for w in range(v + 1, n):
            if rows[v][w]:
                if w == n - 1:
                    paths.append(ops)
                else:
                    walk(w, (*ops, labels[w - 1]))

    walk(0, ())
    return paths


def path_index(path: Sequence[int]) -> int:
    """Position of a path (tuple of op indices) in `path_encoding`."""
    code = 0
    for op in path:
        code = code * NUM_OPS + op
    return PATH_OFFSET[len(path)] + code


def path_key(cell: Cell) -> int:
    """Hash of a cell's multiset of input-to-output op paths: naszilla's identity of a cell.

    Coarser than the official hash: non-isomorphic cells with the same op paths
    (counted with multiplicity) share a key. The hash is the sum of a fixed random
    int64 weight per path, wrapping like int64; `path_key_hash` computes the
    same values for many cells at once.
    """
    total = sum(int(PATH_KEY_WEIGHTS[path_index(p)]) for p in cell_paths(cell))
    return (total + 2**63) % 2**64 - 2**63


def cell_from_categorical(vector: Sequence[int]) -> Cell:
    """Inverse of `categorical` for one row (any valid 26-vector).

    Raises:
        OutOfDomainError: the vector describes an invalid cell.
        ValueError: the vector has the wrong length or values.
    """
    vec = [int(x) for x in vector]
    if len(vec) != CATEGORICAL_LENGTH:
        raise ValueError(f"categorical vector must have length {CATEGORICAL_LENGTH}, got {len(vec)}")
    if any(x not in (0, 1) for x in vec[:NUM_EDGE_SLOTS]) or any(x not in range(NUM_OPS) for x in vec[NUM_EDGE_SLOTS:]):
        raise ValueError("categorical vector: edges must be 0/1 and ops in {0, 1, 2}")
    matrix = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.int8)
    matrix[_UPPER] = vec[:NUM_EDGE_SLOTS]
    ops = [INPUT, *(OPS[i] for i in vec[NUM_EDGE_SLOTS:]), OUTPUT]
    return Cell(matrix, ops)
