"""A broken plugin is isolated: one warning, marked failed, the others load; strict mode and disabling."""
import warnings

import pluggy
import pytest

from ember import hub, plugins
from ember.plugins import PluginWarning, get_manager

BROKEN_IMPORT = '''
    import ember_module_that_does_not_exist
'''

RAISING_HOOK = '''
    def ember_register_datasets(registry):
        registry.add("half", list)          # registered before the failure: must be withdrawn

    def ember_register_metrics(registry):
        raise RuntimeError("metric table is corrupt")
'''


def _load_capturing():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plugins.load()
    return [w for w in caught if issubclass(w.category, PluginWarning)]


def test_an_import_error_fails_only_that_plugin(site, good_source):
    site.add("broken", BROKEN_IMPORT, dist="ember-broken", version="0.3")
    site.add("good", good_source)
    caught = _load_capturing()
    assert len(caught) == 1
    msg = str(caught[0].message)
    assert "plugin 'broken'" in msg and "ember-broken 0.3" in msg
    assert "ModuleNotFoundError: No module named 'ember_module_that_does_not_exist'" in msg
    assert "importing fake_broken" in msg and "EMBER_DISABLE_PLUGINS=broken" in msg
    status = {p.name: (p.status, p.stage) for p in plugins.list_plugins()}
    assert status == {"broken": ("failed", "import"), "good": ("loaded", None)}
    assert hub.list_models() == ["good:net"]


def test_a_raising_hook_fails_the_plugin_and_withdraws_its_registrations(site, good_source):
    site.add("raises", RAISING_HOOK, dist="ember-raises")
    site.add("good", good_source)
    caught = _load_capturing()
    assert len(caught) == 1
    assert "plugin 'raises' (distribution ember-raises 1.0)" in str(caught[0].message)
    assert "in hook ember_register_metrics): RuntimeError: metric table is corrupt" in str(caught[0].message)
    info = {p.name: p for p in plugins.list_plugins()}["raises"]
    assert info.status == "failed" and info.registered == {} and "metric table is corrupt" in info.traceback
    assert hub.list_datasets() == ["good:data"]                 # "raises:half" was withdrawn
    with pytest.raises(plugins.NotFoundError, match="unknown dataset 'half'"):
        hub.get_dataset("half")


def test_strict_mode_reraises_the_plugins_error(site, good_source, monkeypatch):
    site.add("raises", RAISING_HOOK, dist="ember-raises")
    site.add("good", good_source)
    monkeypatch.setenv("EMBER_STRICT_PLUGINS", "1")
    with pytest.raises(RuntimeError, match="metric table is corrupt") as exc:
        hub.list_models()
    assert any("ember plugin 'raises' (distribution ember-raises 1.0)" in n for n in exc.value.__notes__)
    with pytest.raises(RuntimeError, match="metric table is corrupt"):  # strict keeps refusing, not just once
        hub.list_models()


def test_strict_mode_reraises_import_errors(site, monkeypatch):
    site.add("broken", BROKEN_IMPORT)
    monkeypatch.setenv("EMBER_STRICT_PLUGINS", "1")
    with pytest.raises(ModuleNotFoundError, match="ember_module_that_does_not_exist"):
        plugins.list_plugins()


def test_disabled_plugins_are_not_imported(site, good_source, monkeypatch):
    site.add("broken", BROKEN_IMPORT)
    site.add("raises", RAISING_HOOK)
    site.add("good", good_source)
    monkeypatch.setenv("EMBER_DISABLE_PLUGINS", "broken, raises")
    monkeypatch.setenv("EMBER_STRICT_PLUGINS", "1")  # nothing fails: the bad ones never load
    assert {p.name: p.status for p in plugins.list_plugins()} == {
        "broken": "disabled", "raises": "disabled", "good": "loaded"}
    assert hub.list_models() == ["good:net"]


def test_disable_accepts_patterns(site, good_source, monkeypatch):
    site.add("good", good_source)
    monkeypatch.setenv("EMBER_DISABLE_PLUGINS", "*")
    assert hub.list_models() == []
    assert [p.status for p in plugins.list_plugins()] == ["disabled"]


MISSPELLED = '''
    from ember.plugins import hookimpl
    @hookimpl
    def ember_register_model(registry):      # missing "s": never called
        registry.add("m", dict)
    @hookimpl
    def ember_register_datasets(registry):
        registry.add("d", dict)
'''


def test_a_misspelled_hook_is_reported(site):
    site.add("typo", MISSPELLED)
    caught = _load_capturing()
    assert len(caught) == 1
    assert "unknown hook(s) 'ember_register_model' (did you mean 'ember_register_models'?)" in str(caught[0].message)
    info = plugins.list_plugins()[0]
    assert info.status == "loaded" and info.unknown_hooks == ["ember_register_model"]
    assert hub.list_datasets() == ["typo:d"] and hub.list_models() == []
    assert get_manager().check_pending() == ["ember_register_model"]
    assert any("unknown hook" in p for p in get_manager().problems())


def test_a_misspelled_hook_raises_in_strict_mode(site, monkeypatch):
    site.add("typo", MISSPELLED)
    monkeypatch.setenv("EMBER_STRICT_PLUGINS", "1")
    with pytest.raises(pluggy.PluginValidationError, match="ember_register_model'.*did you mean"):
        plugins.load()


def test_a_hook_with_unknown_arguments_fails_the_plugin(site, good_source):
    site.add("badargs", '''
        def ember_register_models(registry, device):
            pass
    ''')
    site.add("good", good_source)
    caught = _load_capturing()
    assert len(caught) == 1 and "plugin 'badargs'" in str(caught[0].message)
    assert "device" in str(caught[0].message)
    assert {p.name: p.status for p in plugins.list_plugins()} == {"badargs": "failed", "good": "loaded"}


def test_two_distributions_claiming_one_plugin_name(site, good_source):
    site.add("dup", good_source, dist="ember-first", module="fake_first")
    site.add("dup", good_source, dist="ember-second", module="fake_second")
    caught = _load_capturing()
    assert len(caught) == 1
    assert "the plugin name 'dup' is already used by plugin 'dup' (distribution ember-first" in str(caught[0].message)
    assert [(p.distribution, p.status) for p in plugins.list_plugins()] == [
        ("ember-first", "loaded"), ("ember-second", "failed")]
    assert hub.list_models() == ["dup:net"]


def test_one_warning_per_failed_plugin_across_calls(site):
    site.add("broken", BROKEN_IMPORT)
    assert len(_load_capturing()) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hub.list_models()           # already loaded: no new warning
        plugins.list_plugins()
