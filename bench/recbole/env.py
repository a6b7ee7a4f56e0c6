"""RecBole's own virtual environment, outside the repository, with pinned versions.

RecBole 1.2.1 needs ``numpy<2``, ``scipy<1.12`` and ``setuptools<81``, and its
KGAT needs DGL; kgrec's environment has numpy 2 and torch 2.15, so RecBole gets
a venv of its own under ``~/.cache/kgrec/recbole-venv`` (``KGREC_RECBOLE_VENV``
overrides). ``requirements.txt`` beside this file pins every package exactly
(a ``pip freeze`` of the environment that produced the committed results) and
is installed with ``--no-deps``, so nothing unpinned slips in (RecBole's
``ray`` and ``plotly`` serve only its hyper-parameter tuning and are left out);
then ``torch-scatter`` (KGIN) is compiled from PyPI's source against that torch.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)

REQUIREMENTS = Path(__file__).with_name("requirements.txt")
STAMP = ".kgrec-recbole-installed"
PYTHON_RANGE = ((3, 8), (3, 11))
"""torch 2.1.2 (the newest torch that DGL 2.1.0's PyPI wheel supports) has wheels for CPython 3.8-3.11."""
TORCH_SCATTER = "torch-scatter==2.1.2"
"""RecBole's KGIN imports ``torch_scatter``; PyPI has only its source, built here against the pinned torch (CPU)."""
RUN_ENV = {"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1", "PYTHONNOUSERSITE": "1"}


class RecBoleEnvError(RuntimeError):
    """The RecBole environment could not be created or does not import."""


def venv_dir() -> Path:
    """Where the RecBole venv lives (``$KGREC_RECBOLE_VENV`` or ``~/.cache/kgrec/recbole-venv``)."""
    return Path(os.environ.get("KGREC_RECBOLE_VENV") or Path.home() / ".cache" / "kgrec" / "recbole-venv")


def venv_python(venv: Path) -> Path:
    """The venv's interpreter."""
    return venv / "bin" / "python"


def run_env() -> dict[str, str]:
    """Environment for commands run with the RecBole interpreter."""
    return {**os.environ, **RUN_ENV}


def ensure_venv(venv: Path | None = None, *, base_python: str | None = None) -> Path:
    """Create or complete the RecBole venv (idempotent) and return its interpreter.

    Nothing is installed when the stamp file matches ``requirements.txt``.

    Args:
        venv: Venv folder (default: :func:`venv_dir`).
        base_python: Interpreter to create it with (default: the running one, CPython 3.8-3.11).

    Raises:
        RecBoleEnvError: Python version out of range, pip failed, or RecBole/DGL do not import.
    """
    venv = venv or venv_dir()
    python = venv_python(venv)
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = venv / STAMP
    if python.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return python
    if not python.exists():
        _create(venv, base_python or sys.executable)
    log.info("installing RecBole 1.2.1 and pinned dependencies into %s (a few minutes, ~3 GB)", venv)
    _check(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-input", "-r", str(REQUIREMENTS)],
        "pip install -r requirements.txt",
    )
    _check(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-input", "--no-build-isolation", TORCH_SCATTER],
        f"building {TORCH_SCATTER} (a few minutes)",
        extra_env={"FORCE_ONLY_CPU": "1", "MAX_JOBS": "2"},
    )
    _check([str(python), "-c", "import recbole, dgl, torch_scatter"], "import recbole, dgl, torch_scatter")
    stamp.write_text(digest + "\n")
    return python


def _create(venv: Path, base_python: str) -> None:
    version = subprocess.run(
        [base_python, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    major_minor = (int(version[0]), int(version[1]))
    if not PYTHON_RANGE[0] <= major_minor <= PYTHON_RANGE[1]:
        raise RecBoleEnvError(f"{base_python} is Python {major_minor}; the pinned torch 2.1.2 needs 3.8-3.11")
    venv.parent.mkdir(parents=True, exist_ok=True)
    _check([base_python, "-m", "venv", str(venv)], "python -m venv")


def _check(cmd: list[str], what: str, *, extra_env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=run_env() | (extra_env or {}))
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise RecBoleEnvError(f"{what} failed (exit {proc.returncode}):\n{tail}")
