"""End to end with pip: a fresh virtual environment, the core, then the example third-party plugin.

Checks through the real, pip-installed entry point that `ember plugins --json` lists the plugin and that
`ember.hub.get_model` builds its model with its packaged weights; and that the core alone pulls in
neither Pillow nor soundfile. Needs pip to reach a package index (PyPI in CI) for numpy, pluggy and
setuptools; everything is written under the test's tmp directory (pip's cache is off).
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "third_party_plugin"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist", ".pytest_cache")


def _run(cmd, env, timeout=240):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _pip_supports_python_option() -> bool:
    proc = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True, text=True)
    if proc.returncode != 0:
        return False
    major, minor = (int(x) for x in proc.stdout.split()[1].split(".")[:2])
    return (major, minor) >= (22, 3)


@pytest.mark.slow
def test_core_and_example_plugin_install_into_a_fresh_venv(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "EMBER_", "VIRTUAL_ENV"))}
    env.update(PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1", EMBER_HOME=str(tmp_path / "home"),
               EMBER_STRICT_PLUGINS="1")
    venv = tmp_path / "venv"
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    # Without pip inside, the venv is created in a fraction of a second; this interpreter's pip installs into it.
    if _pip_supports_python_option():
        _run([sys.executable, "-m", "venv", "--without-pip", venv], env)
        pip = [sys.executable, "-m", "pip", "--python", python]
    else:
        _run([sys.executable, "-m", "venv", venv], env)
        pip = [python, "-m", "pip"]

    # Build from copies, so nothing (build/, *.egg-info) is written into the checkout.
    core = tmp_path / "ember-src"
    core.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, core / name)
    shutil.copytree(ROOT / "core", core / "core", ignore=_IGNORE)
    plugin = tmp_path / "ember-toy-src"
    shutil.copytree(EXAMPLE, plugin, ignore=_IGNORE)

    _run(pip + ["install", "--quiet", core], env)
    installed = {d["name"].lower() for d in json.loads(_run(pip + ["list", "--format=json"], env))}
    assert {"ember", "numpy", "pluggy"} <= installed
    assert not installed & {"pillow", "soundfile"}, f"the core alone pulled in {installed & {'pillow', 'soundfile'}}"
    assert json.loads(_run([bindir / "ember", "plugins", "--json"], env)) == []

    _run(pip + ["install", "--quiet", plugin], env)
    docs = json.loads(_run([bindir / "ember", "plugins", "--json"], env))
    assert [(d["name"], d["distribution"], d["version"], d["status"]) for d in docs] == [
        ("toy", "ember-toy", "0.1.0", "loaded")]
    assert docs[0]["registered"]["models"] == ["mlp"]
    out = _run([python, "-c", "from ember import hub; m = hub.get_model('toy:mlp', weights='DEFAULT'); "
                              "print(type(m).__module__, type(m).__name__, m.head.out_features)"], env)
    assert out.split() == ["ember_toy", "ToyMLP", "3"]
    assert "ok" in _run([bindir / "ember", "weights", "verify", "toy:mlp"], env)   # package data was installed
    assert _run([bindir / "ember", "toy-predict", "0", "3"], env).strip() == "top"  # the plugin's subcommand
