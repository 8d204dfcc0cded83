"""Object storage through fsspec: ``s3://``, ``gs://``, ``az://`` (and any fsspec URL).

The filesystem package is optional (``pip install 'deidflow[s3]'`` for ``s3fs``; ``gcsfs``
and ``adlfs`` for the others).  Credentials come from the filesystem's own environment
variables and files (``AWS_ACCESS_KEY_ID``, ``~/.aws``, ...), never from the config;
``storage_options`` carries the rest (an S3-compatible server's ``endpoint_url``).
Files are read in blocks as the readers ask: nothing is downloaded whole.
"""

from __future__ import annotations

from typing import IO, Any

from pipelines.exit_codes import UsageError

_PACKAGES = {
    "s3": "s3fs",
    "s3a": "s3fs",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "az": "adlfs",
    "abfs": "adlfs",
}
BLOCK_SIZE = 4 << 20
"""Bytes fetched per request (fsspec's read-ahead)."""


def filesystem(url: str, options: dict[str, Any]) -> tuple[Any, str]:
    """The fsspec filesystem for ``url`` and the path inside it."""
    import fsspec

    scheme = url.split("://", 1)[0].lower()
    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except ImportError:
        package = _PACKAGES.get(scheme, f"the fsspec package for {scheme}://")
        raise UsageError(
            f"reading {scheme}:// URLs needs {package}, which is not installed",
            f"pip install {package}" + (" (or deidflow[s3])" if package == "s3fs" else ""),
        ) from None
    except ValueError:
        raise UsageError(
            f"{scheme}:// is not a protocol fsspec knows",
            "use s3://, gs://, az:// or a local path",
        ) from None
    return fs, path


def open_url(url: str, options: dict[str, Any]) -> IO[bytes]:
    """``url`` opened for binary reading, in blocks."""
    fs, path = filesystem(url, options)
    fh: IO[bytes] = fs.open(path, "rb", block_size=BLOCK_SIZE)
    return fh


def join(fs: Any, path: str) -> str:
    """A path listed by ``fs`` as a URL again (``bucket/a.ndjson`` -> ``s3://bucket/a.ndjson``)."""
    unstrip = getattr(fs, "unstrip_protocol", None)
    return str(unstrip(path)) if unstrip else path
