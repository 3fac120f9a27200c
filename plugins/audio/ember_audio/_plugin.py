"""The ``audio`` Ember plugin: hands ember-audio's registration tables to Ember's registries.

Named by the entry point ``[project.entry-points.ember] audio = "ember_audio._plugin"``. Each table lives
next to what it registers (``datasets/_registry.py``, ``transforms/_registry.py``, ``models/_registry.py``);
the hooks import them only when called, so discovering the plugin stays cheap.
"""
from __future__ import annotations

from ember.plugins import hookimpl


@hookimpl
def ember_register_datasets(registry) -> None:
    from .datasets._registry import DATASETS
    registry.add_all(DATASETS)


@hookimpl
def ember_register_transforms(registry) -> None:
    from .transforms._registry import TRANSFORMS
    registry.add_all(TRANSFORMS)


@hookimpl
def ember_register_models(registry) -> None:
    from .models import MODELS  # importing the package runs every builder's @register_model
    registry.add_all(MODELS)


@hookimpl
def ember_env_info() -> dict:
    from . import __version__
    try:
        import soundfile
        soundfile_version = soundfile.__version__
    except ImportError:
        soundfile_version = None
    return {"ember-audio": __version__, "soundfile": soundfile_version}
