"""Where uploaded files live: one small interface, a local-disk and an S3 backend.

Photos from the field, customers' documents and the documents kept for a refused
application are stored by key (``3f…a1.jpg``, ``pending/<token>/kept.json``), never by a
path a caller builds: :data:`KEY_RE` refuses anything else (no ``..``, no leading dot or
slash), so a key can never leave the store.

- :class:`LocalStorage` (``PORTAL_STORAGE=local``, the default): files under
  ``PORTAL_UPLOAD_DIR``, mode 0600 in folders of mode 0700, written aside and renamed into
  place. ``Config`` refuses a folder the portal serves.
- :class:`S3Storage` (``PORTAL_STORAGE=s3``): objects in a bucket of any S3-compatible
  service (AWS S3, MinIO, …) under an optional prefix, through boto3.

:func:`for_config` gives the store a configuration names. Foundation: imports nothing of
the portal but ``config``; boto3 is imported only when an S3 store is made.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import secrets
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from station_portal.config import Config

LOCAL = "local"
S3 = "s3"
BACKENDS = (LOCAL, S3)

_PART = r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}"
KEY_RE = re.compile(rf"^{_PART}(/{_PART}){{0,3}}$")
PREFIX_RE = re.compile(rf"^({_PART}/){{0,3}}$")


class StorageError(RuntimeError):
    """The store could not be read or written (disk, network, credentials)."""


class KeyMissing(StorageError):
    """No file is stored under this key."""


class BadKey(ValueError):
    """A key outside the allowed shape (:data:`KEY_RE`)."""


def check_key(key: object) -> str:
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise BadKey(f"not a storage key: {key!r}")
    return key


def _check_prefix(prefix: object) -> str:
    if not isinstance(prefix, str) or not PREFIX_RE.match(prefix):
        raise BadKey(f"not a storage prefix: {prefix!r}")
    return prefix


@dataclass(frozen=True)
class Entry:
    """One stored file: its key, size in bytes and last change (Unix seconds)."""

    key: str
    size: int
    modified: float


class Storage(ABC):
    """put / get / delete / exists by key, and the files under a prefix."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing what was there."""

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; :class:`KeyMissing` if none."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens if it is not there."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether a file is stored under ``key``."""

    @abstractmethod
    def list(self, prefix: str = "") -> list[Entry]:
        """The files whose keys start with ``prefix`` (``""`` or ending in ``/``)."""

    @abstractmethod
    def check(self) -> None:
        """Raise :class:`StorageError` unless the store can take files now (``/readyz``)."""


@dataclass(frozen=True)
class Written:
    """A file one call has just stored: removed again if its transaction does not commit."""

    storage: Storage
    key: str

    def discard(self) -> None:
        with contextlib.suppress(StorageError, OSError):
            self.storage.delete(self.key)


class LocalStorage(Storage):
    """Files under one folder (never a served one): 0600 files in 0700 folders."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def check(self) -> None:
        """A file can be made and removed in the folder (made if missing, as by a put)."""
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".readyz-"):
                pass
        except OSError as exc:
            raise StorageError(f"cannot write in {self.root}: {exc}") from exc

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise KeyMissing(key) from None
        except OSError as exc:
            raise StorageError(f"cannot read {key}: {exc}") from exc

    def delete(self, key: str) -> None:
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
            path.unlink()
        folder = path.parent  # emptied folders go, up to a top-level one ("pending/")
        while self.root in folder.parents and folder.parent != self.root:
            try:
                folder.rmdir()  # only an empty one
            except OSError:
                break
            folder = folder.parent

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> list[Entry]:
        base = self.root / _check_prefix(prefix)
        out = []
        with contextlib.suppress(OSError):
            for path in base.rglob("*"):
                key = path.relative_to(self.root).as_posix()
                if not KEY_RE.match(key):
                    continue  # a file being written (".name.part") or not ours
                with contextlib.suppress(OSError):
                    stat = path.stat()
                    if path.is_file():
                        out.append(Entry(key, stat.st_size, stat.st_mtime))
        return sorted(out, key=lambda e: e.key)


class S3Storage(Storage):
    """Objects in a bucket of an S3-compatible service, under an optional prefix."""

    def __init__(self, bucket: str, *, endpoint_url: str = "", region: str = "",
                 access_key: str = "", secret_key: str = "", prefix: str = "") -> None:
        import boto3
        from botocore.config import Config as BotoConfig

        self.bucket = bucket
        self.prefix = _check_prefix(prefix.strip("/") + "/" if prefix.strip("/") else "")
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
            config=BotoConfig(signature_version="s3v4", connect_timeout=5, read_timeout=30,
                              retries={"max_attempts": 3, "mode": "standard"},
                              s3={"addressing_style": "path" if endpoint_url else "auto"}))

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r}, prefix={self.prefix!r})"

    def _call(self, what: str, key: str, method, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return method(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound"):
                raise KeyMissing(key) from None
            raise StorageError(f"cannot {what} {key} in bucket {self.bucket}: {code}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot {what} {key} in bucket {self.bucket}: {exc}") from exc

    def put(self, key: str, data: bytes) -> None:
        self._call("write", key, self.client.put_object, Key=self.prefix + check_key(key),
                   Body=data)

    def get(self, key: str) -> bytes:
        answer = self._call("read", key, self.client.get_object,
                            Key=self.prefix + check_key(key))
        try:
            return answer["Body"].read()
        except Exception as exc:  # the stream broke off
            raise StorageError(f"cannot read {key} in bucket {self.bucket}: {exc}") from exc

    def delete(self, key: str) -> None:
        with contextlib.suppress(KeyMissing):
            self._call("delete", key, self.client.delete_object,
                       Key=self.prefix + check_key(key))

    def exists(self, key: str) -> bool:
        try:
            self._call("look up", key, self.client.head_object, Key=self.prefix + check_key(key))
        except KeyMissing:
            return False
        return True

    def check(self) -> None:
        """Raise :class:`StorageError` unless the bucket answers a listing of one key under
        the prefix: a missing bucket, wrong credentials or no network all fail (a HEAD of a
        missing key would not tell a missing bucket from a missing key)."""
        self._call("list", self.prefix or "/", self.client.list_objects_v2, Prefix=self.prefix,
                   MaxKeys=1)

    def list(self, prefix: str = "") -> list[Entry]:
        full = self.prefix + _check_prefix(prefix)
        out = []
        token = None
        while True:
            more = {"ContinuationToken": token} if token else {}
            page = self._call("list", full, self.client.list_objects_v2, Prefix=full, **more)
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix):]
                if KEY_RE.match(key):
                    out.append(Entry(key, int(item["Size"]), item["LastModified"].timestamp()))
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return sorted(out, key=lambda e: e.key)


@functools.lru_cache(maxsize=8)
def _s3(bucket: str, endpoint_url: str, region: str, access_key: str, secret_key: str,
        prefix: str) -> S3Storage:
    """One client per S3 setting (boto3 clients are thread-safe and slow to make)."""
    return S3Storage(bucket, endpoint_url=endpoint_url, region=region, access_key=access_key,
                     secret_key=secret_key, prefix=prefix)


def for_config(config: Config) -> Storage:
    """The store ``config`` names: ``PORTAL_STORAGE`` with its ``PORTAL_S3_*`` settings, or
    the local folder ``PORTAL_UPLOAD_DIR``."""
    if config.storage == S3:
        return _s3(config.s3_bucket, config.s3_endpoint_url, config.s3_region,
                   config.s3_access_key, config.s3_secret_key, config.s3_prefix)
    return LocalStorage(config.upload_path())


def as_storage(where: Storage | Path | str) -> Storage:
    """A store itself, or a local folder given as a path."""
    return where if isinstance(where, Storage) else LocalStorage(where)
