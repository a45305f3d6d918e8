"""Build the compiled mapping: ``python -m catalog.native.build [--if-possible]``.

Runs cargo on this folder's crate with the crates Debian packages (``apt-get install
librust-pyo3-dev librust-unicode-normalization-dev``; see ``.cargo/config.toml``) and puts the
extension module beside this file.
With ``--if-possible``, a machine without cargo or the crates gets a message and the exit status 0:
the catalogue then maps records in Python alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
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
    return HERE / f"_mapping{sysconfig.get_config_var('EXT_SUFFIX') or '.so'}"


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
