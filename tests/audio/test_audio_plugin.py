"""ember-audio is discovered through the ``ember`` entry point and loads lazily."""
import subprocess
import sys

import ember
import ember_audio


def test_plugin_is_discovered():
    assert "audio" in {p.name for p in ember.plugins.list_plugins()}


def test_import_is_lazy():
    # Importing the package must not import its subpackages or soundfile (the plugin machinery imports it).
    code = ("import sys, ember_audio; "
            "print(any(m.startswith(('ember_audio.functional', 'ember_audio.models', 'soundfile')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_subpackages_resolve_on_access():
    assert ember_audio.functional.__name__ == "ember_audio.functional"
    assert "load" in dir(ember_audio)
