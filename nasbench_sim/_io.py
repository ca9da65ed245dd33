"""Small I/O helpers: the data directory and atomic writes.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> from nasbench_sim._io import atomic_write_npy_dir, read_npy_dir
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "t"
    >>> atomic_write_npy_dir(d, {"x": np.arange(3)}, {"about": "demo"})
    >>> arrays, meta = read_npy_dir(d)
    >>> int(arrays["x"].sum()), meta["about"]
    (3, 'demo')
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from nasbench_sim.errors import DataFormatError

DATA_ENV = "NASBENCH_SIM_DATA"
SHARED_ENV = "NASBENCH_SIM_SHARED"


def data_dir() -> Path:
    """Directory for user data and caches.

    `$NASBENCH_SIM_DATA` if set; else `data/` of a source checkout (the folder
    beside `nasbench_sim/` that holds `data/README.md`); else
    `~/.cache/nasbench_sim`. Created if missing.
    """
    env = os.environ.get(DATA_ENV)
    if env:
        path = Path(env)
    else:
        checkout = Path(__file__).resolve().parent.parent / "data"
        path = checkout if (checkout / "README.md").exists() else Path.home() / ".cache" / "nasbench_sim"
    path.mkdir(parents=True, exist_ok=True)
    return path


def shared_dir() -> Path | None:
    """The `shared/` folder beside a source checkout (or `$NASBENCH_SIM_SHARED`), if present."""
    env = os.environ.get(SHARED_ENV)
    if env is not None:  # an explicit setting wins, also when it points nowhere
        candidates = [Path(env)] if env else []
    else:
        candidates = [Path(__file__).resolve().parent.parent.parent / "shared", Path.cwd().parent / "shared"]
    for path in candidates:
        if (path / "data").is_dir():
            return path
    return None


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def locked(path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path` (created if missing) for the `with` block.

    Serialises read-modify-write updates of a shared file (e.g. an experiment's
    metadata written by several processes at once).
    """
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def scratch_prefix(path: Path) -> str:
    """Prefix of this process's temporary files for `path` (they carry the writer's pid).

    Sweeps the temporary files and folders that writers of `path` left behind when they
    were killed (their pid is gone), so that a `kill -9` does not keep a disk full.
    """
    prefix = f".{path.name}."
    with contextlib.suppress(OSError):
        for entry in path.parent.glob(f"{glob.escape(prefix)}*.tmp"):
            pid = entry.name[len(prefix) :].split(".", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
    return f"{prefix}{os.getpid()}."


def preallocate(path: str | os.PathLike) -> None:
    """Reserve the disk blocks of a file that will be written through a memory map.

    A memory-mapped write to a sparse file on a full disk kills the process with SIGBUS;
    reserving the blocks first turns that into an `OSError` (ENOSPC) here. Filesystems
    that cannot reserve blocks are left as they are.
    """
    with open(path, "r+b") as handle:
        try:
            os.posix_fallocate(handle.fileno(), 0, os.fstat(handle.fileno()).st_size)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise OSError(exc.errno, exc.strerror or os.strerror(exc.errno), str(path)) from None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[IO[bytes]]:
    """A binary file handle whose content becomes `path` only when the block completes.

    The temporary file lies beside `path` (named by `scratch_prefix`, so one left by a killed
    writer is swept later), is flushed to disk before the rename, and is removed on any error,
    Ctrl-C included. An OSError of the temporary file names `path`.

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
        >>> with atomic_file(out) as handle:
        ...     _ = handle.write(b"abc")
        >>> out.read_bytes()
        b'abc'
    """
    path = Path(path)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=scratch_prefix(path), suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file normal permissions
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        if exc.filename is None or exc.filename == tmp or str(exc.filename).endswith(".tmp"):
            raise _naming(OSError(exc.errno, exc.strerror), path) from None
        raise
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and an atomic rename (`atomic_file`)."""
    with atomic_file(path) as handle:
        handle.write(data)


def _naming(exc: OSError, path: Path, nbytes: int = 0) -> OSError:
    """`exc` with the path it was writing, and an errno where numpy's short writes give none."""
    if exc.filename is not None and exc.errno is not None:
        return exc
    code = exc.errno
    if code is None:  # numpy's tofile reports "N requested and M written" without an errno
        code = errno.ENOSPC if shutil.disk_usage(path.parent).free <= nbytes else errno.EIO
    return OSError(code, os.strerror(code), str(path))


def atomic_write_figure(fig: Any, path: str | os.PathLike, **savefig_kwargs: Any) -> None:
    """Render a matplotlib figure (format from the suffix) and write it atomically."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format=Path(path).suffix.lstrip("."), **savefig_kwargs)
    atomic_write_bytes(path, buffer.getvalue())


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write `obj` as indented JSON, atomically."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def write_npz_artifact(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], meta: Any) -> None:
    """Write a model artifact: `<path>.npz` (compressed arrays) and `<path>.json` (metadata), each atomically."""
    path = Path(path)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path.with_suffix(".npz"), buffer.getvalue())
    atomic_write_json(path.with_suffix(".json"), meta)


def read_npz_artifact(path: str | os.PathLike, what: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """(arrays, metadata) of an artifact written by `write_npz_artifact`, without pickle.

    Raises:
        DataFormatError: missing or corrupt files, named as "not a readable {what} artifact".
    """
    path = Path(path)
    try:
        meta = json.loads(path.with_suffix(".json").read_text())
        with np.load(path.with_suffix(".npz"), allow_pickle=False) as data:
            return {k: data[k] for k in data.files}, meta
    except (OSError, ValueError) as exc:
        raise DataFormatError(f"{path}: not a readable {what} artifact ({exc})") from None


#: Name of the file in an array folder that records which files were verified against their checksums.
VERIFIED_NAME = ".verified.json"


def file_crc32c(path: str | os.PathLike) -> str:
    """CRC-32C of a file's bytes as 8 hex digits (hardware-accelerated: about 1 GB/s)."""
    import google_crc32c

    checksum = google_crc32c.Checksum()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            checksum.update(block)
    return checksum.hexdigest().decode()


def _stamp(path: Path) -> list[int]:
    """What changes when a file's content can have changed: inode, size, mtime and ctime (ns).

    ctime cannot be set from user space, so a replacement with its mtime restored (`cp -p`,
    `rsync -t`) still shows.
    """
    st = path.stat()
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def atomic_write_npy_dir(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
    """Write a folder of `.npy` arrays plus `meta.json`, all or nothing.

    The folder is built under a temporary name and renamed into place, so a
    crash never leaves a half-written cache; an existing folder is replaced.
    `meta.json` records each array's shape, dtype, file size and CRC-32C
    (`checks`), which `read_npy_dir` verifies.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=scratch_prefix(path), suffix=".tmp"))
    try:
        checks, stamps = {}, {}
        for name, array in arrays.items():
            file = tmp / f"{name}.npy"
            try:
                np.save(file, np.ascontiguousarray(array), allow_pickle=False)
            except OSError as exc:
                raise _naming(exc, file, np.asarray(array).nbytes) from None
            checks[name] = {
                "shape": list(np.shape(array)),
                "dtype": str(np.asarray(array).dtype),
                "size": file.stat().st_size,
                "crc32c": file_crc32c(file),
            }
            stamps[f"{name}.npy"] = _stamp(file)
        full_meta = dict(meta)
        full_meta["arrays"] = sorted(arrays)
        full_meta["checks"] = checks
        (tmp / "meta.json").write_text(json.dumps(full_meta, indent=2, sort_keys=True) + "\n")
        (tmp / VERIFIED_NAME).write_text(json.dumps(stamps))
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_npy_dir(path: str | os.PathLike, mmap: bool = True) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a folder written by `atomic_write_npy_dir`, checking every array against `meta.json`.

    Shape, dtype and size are checked on every read; the CRC-32C of a file once, and again
    whenever the file may have changed since (its inode, size, mtime or ctime differ from
    the record in `.verified.json`). Folders written before checks were recorded are read
    as they are (their callers range-check the values).

    Raises:
        DataFormatError: the folder, its `meta.json` or one of its arrays is missing,
            unreadable, or not what `meta.json` says (a damaged or replaced file).
    """
    path = Path(path)
    meta_path = path / "meta.json"
    try:
        meta = json.loads(meta_path.read_text())
    except FileNotFoundError:
        raise DataFormatError(f"{path}: no meta.json; not a nasbench_sim array folder") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{meta_path}: corrupt JSON ({exc})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("arrays", []), list):
        raise DataFormatError(f"{meta_path}: not the metadata of an array folder")
    checks = meta.get("checks") or {}
    verified = _read_verified(path)
    changed = False
    arrays = {}
    for name in meta.get("arrays", []):
        file = path / f"{name}.npy"
        check = checks.get(name)
        try:
            size = file.stat().st_size
            if check is not None and size != check["size"]:
                raise DataFormatError(f"{file}: {size:,} bytes, its record says {check['size']:,}")
            arrays[name] = np.load(file, mmap_mode="r" if mmap else None, allow_pickle=False)
        except DataFormatError as exc:
            raise DataFormatError(f"{exc}; delete {path} to rebuild it") from None
        except (OSError, ValueError, EOFError) as exc:
            raise DataFormatError(f"{file}: unreadable array ({exc}); delete {path} to rebuild it") from None
        if check is None:
            continue
        array = arrays[name]
        if list(array.shape) != check["shape"] or str(array.dtype) != check["dtype"]:
            raise DataFormatError(
                f"{file}: {array.dtype}{list(array.shape)}, its record says {check['dtype']}{check['shape']}; "
                f"delete {path} to rebuild it"
            )
        stamp = _stamp(file)
        if verified.get(file.name) != stamp:
            if file_crc32c(file) != check["crc32c"]:
                raise DataFormatError(
                    f"{file}: its content does not match its checksum (a damaged or replaced file); "
                    f"delete {path} to rebuild it"
                )
            verified[file.name] = stamp
            changed = True
    if changed:
        with contextlib.suppress(OSError):  # a read-only cache is verified again next time
            atomic_write_bytes(path / VERIFIED_NAME, json.dumps(verified).encode())
    return arrays, meta


def _read_verified(path: Path) -> dict[str, Any]:
    try:
        verified = json.loads((path / VERIFIED_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return verified if isinstance(verified, dict) else {}
