"""Obtaining FHIR packages into the conventional package cache (``~/.fhir/packages``).

FHIR packages are npm packages, so set-up fetches them with the machine's ``npm pack`` (from the
registry npm is configured for) or unpacks a tarball the operator already has. Nothing is fetched at
run time: the server only reads the cache.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

__all__ = ["install_package", "package_dir"]


def package_dir(cache: str | Path, name: str, version: str) -> Path:
    return Path(cache).expanduser() / f"{name}#{version}"


def _extract(tarball: Path, target: Path) -> None:
    with tarfile.open(tarball, "r:gz") as archive:
        staging = Path(tempfile.mkdtemp(prefix="fhirpkg-", dir=target.parent))
        try:
            archive.extractall(staging, filter="data")
            if not (staging / "package" / "package.json").is_file():
                raise RuntimeError(f"{tarball} is not a FHIR package (no package/package.json)")
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def install_package(cache: str | Path, name: str, version: str, tarball: Path | None = None) -> Path:
    """Install ``name#version`` into the cache unless it is there; returns its folder."""
    target = package_dir(cache, name, version)
    if (target / "package" / "package.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if tarball is not None:
        _extract(tarball, target)
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to fetch FHIR packages (or pass --tarball with the package file)")
    with tempfile.TemporaryDirectory() as work:
        done = subprocess.run(
            [npm, "pack", f"{name}@{version}", "--silent"], cwd=work, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"npm pack {name}@{version} failed: {done.stderr.strip()[-500:]}")
        files = list(Path(work).glob("*.tgz"))
        if len(files) != 1:
            raise RuntimeError(f"npm pack {name}@{version} produced no package file")
        _extract(files[0], target)
    return target
