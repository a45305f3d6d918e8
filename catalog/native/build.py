"""Build the compiled mapping: ``python -m catalog.native.build [--if-possible]``.

Runs cargo on this folder's crate with the crates Debian packages (``apt-get install
librust-pyo3-dev librust-unicode-normalization-dev``; see ``.cargo/config.toml``) and puts the
extension module beside this file.

The extension is built for CPython's stable ABI from 3.10 on (pyo3's ``abi3-py310`` feature: the
newest that Debian's pyo3 0.17 offers), so that one build serves every CPython the project supports
(``requires-python >=3.11``), 3.12 and later included; it is named ``_mapping.abi3.so``.
With ``--if-possible``, a machine without cargo or the crates gets a message and the exit status 0:
the catalogue then maps records in Python alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REGISTRY = Path("/usr/share/cargo/registry")


def cargo() -> str | None:
    found = shutil.which("cargo")
    if found:
        return found
    home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo")) / "bin" / "cargo"
    return str(home) if home.exists() else None


def target() -> Path:
    return HERE / "_mapping.abi3.so"


def _remove_other_builds(keep: Path) -> None:
    """Older builds named for one interpreter (``_mapping.cpython-311-...so``): Python would load
    such a file before the stable-ABI one."""
    for old in HERE.glob("_mapping*.so"):
        if old != keep:
            old.unlink()


def build() -> Path:
    """Build the extension and return its path; raises RuntimeError with the reason."""
    program = cargo()
    if program is None:
        raise RuntimeError("cargo is not installed")
    for crate in ("pyo3", "unicode-normalization"):
        package = f"librust-{crate}-dev"
        if not any(REGISTRY.glob(f"{crate}-0.*")):
            raise RuntimeError(f"the {crate} crate is not in {REGISTRY} (apt-get install {package})")
    env = dict(os.environ, PYO3_PYTHON=sys.executable, CARGO_TARGET_DIR=str(HERE / "target"))
    result = subprocess.run(
        [program, "build", "--release", "--quiet"], cwd=HERE, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"cargo build failed:\n{result.stderr.strip()[-3000:]}")
    built = HERE / "target" / "release" / "lib_mapping.so"
    destination = target()
    tmp = destination.with_suffix(".tmp")
    shutil.copyfile(built, tmp)
    tmp.replace(destination)  # a running process that loaded the old file keeps it
    _remove_other_builds(destination)
    return destination


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--if-possible", action="store_true", help="a machine that cannot build it is no error"
    )
    args = parser.parse_args()
    try:
        path = build()
    except RuntimeError as exc:
        print(f"compiled mapping not built: {exc}", file=sys.stderr)
        return 0 if args.if_possible else 1
    print(f"compiled mapping built: {path.relative_to(HERE.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
