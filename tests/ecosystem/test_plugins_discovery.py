"""Discovery through entry points, lazy loading, canonical names, clashes and filters."""
import sys
import types

import pytest

import ember
from ember import backend, hub, plugins
from ember.plugins import AmbiguousNameError, NotFoundError, get_manager, hookimpl
from ember.testing import NumpyAccelerator


def test_entry_point_plugin_is_discovered_with_its_distribution(site, good_source):
    site.add("good", good_source, dist="ember-good", version="2.1")
    infos = plugins.list_plugins()
    assert [(p.name, p.distribution, p.version, p.value, p.status) for p in infos] == [
        ("good", "ember-good", "2.1", "fake_good", "loaded")]
    assert infos[0].registered == {"models": ["net"], "datasets": ["data"], "transforms": ["tf"], "metrics": ["metric"]}
    assert "ember_register_models" in infos[0].hooks


def test_plugins_load_lazily_on_first_registry_use(site, good_source):
    module = site.add("good", good_source)
    manager = get_manager()
    assert manager.plugins == [] and module not in sys.modules  # nothing happens before first use
    assert hub.list_models() == ["good:net"]
    assert module in sys.modules
    assert [p.name for p in manager.plugins] == ["good"]
    hub.list_models()  # loaded once
    assert len(manager.plugins) == 1


def test_canonical_and_bare_names(site, good_source):
    site.add("good", good_source)
    model = hub.get_model("good:net")
    assert type(model).__name__ == "Net" and model.fc.out_features == 3
    assert type(hub.get_model("net", num_classes=7)).__name__ == "Net"
    assert hub.get_model("net", num_classes=7).fc.out_features == 7
    assert hub.get_dataset("good:data", n=9).n == 9
    assert hub.get_transform("tf", k=2).k == 2
    assert hub.get_transform_function("good:tf").__name__ == "tf"
    assert type(hub.get_metric("metric")).__name__ == "Metric"
    assert hub.get_metric_function("metric")(1, 2) == 1.0
    entry = hub.get_entry("models", "net")
    assert (entry.plugin, entry.name, entry.canonical, entry.distribution) == ("good", "net", "good:net", "ember-good")
    assert dict(entry.metadata) == {"task": "tabular-classification"}


def test_a_name_clash_raises_at_lookup_naming_both_providers(site, good_source):
    site.add("one", good_source, dist="ember-one")
    site.add("two", good_source, dist="ember-two")
    assert hub.list_models() == ["one:net", "two:net"]
    with pytest.raises(AmbiguousNameError, match=r"'net' is provided by 2 plugins: one:net .*ember-one.*two:net .*ember-two"):
        hub.get_model("net")
    with pytest.raises(ValueError, match="'one:data' or 'two:data'"):  # also a ValueError, as in torchvision
        hub.get_dataset("data")
    assert type(hub.get_model("two:net")).__name__ == "Net"  # canonical names always resolve
    assert get_manager().registries["models"].clashes() == {"net": ["one:net", "two:net"]}


def test_unknown_names_suggest_close_matches(site, good_source):
    site.add("good", good_source)
    with pytest.raises(NotFoundError, match=r"unknown model 'nte'.*did you mean 'net'"):
        hub.get_model("nte")
    with pytest.raises(NotFoundError, match="unknown metric 'good:accuracy'"):
        hub.get_metric("good:accuracy")
    with pytest.raises(NotFoundError, match="no backends are registered"):
        hub.get_entry("backends", "tpu")


def test_filters(site, good_source):
    site.add("good", good_source)
    site.add("other", good_source.replace('"net", net, task="tabular-classification"', '"resnet9", net, task="object-detection"'))
    assert hub.list_models() == ["good:net", "other:resnet9"]
    assert hub.list_models(plugin="other") == ["other:resnet9"]
    assert hub.list_models(task="tabular-classification") == ["good:net"]
    assert hub.list_models(include="res*") == ["other:resnet9"]
    assert hub.list_models(include=["good:*", "*9"], exclude="other:*") == ["good:net"]
    assert hub.list_models(module="fake_other") == ["other:resnet9"]
    assert hub.list_models(module=sys.modules["fake_good"]) == ["good:net"]
    assert hub.list_transforms(modality="tabular") == ["good:tf", "other:tf"]
    assert hub.list_metrics(higher_is_better=False) == []
    assert hub.list_datasets(plugin=["good"]) == ["good:data"]


def test_in_process_registration_and_unregistration(site):
    mod = types.ModuleType("inline_plugin")

    @hookimpl
    def ember_register_metrics(registry):
        registry.add("inline:f1", dict, functional=len)   # a name may carry its own plugin's prefix

    mod.ember_register_metrics = ember_register_metrics
    info = plugins.register(mod, name="inline")
    assert info.status == "loaded" and hub.list_metrics() == ["inline:f1"]
    plugins.unregister("inline")
    assert hub.list_metrics() == [] and "inline" not in [p.name for p in plugins.list_plugins()]


def test_plugin_names_must_be_usable_as_prefixes(site):
    with pytest.warns(plugins.PluginWarning, match=r"invalid plugin name 'a:b'"):
        info = plugins.register(types.ModuleType("m"), name="a:b")
    assert info.status == "failed" and info.stage == "register"


def test_unmarked_ember_functions_are_hooks_like_pytest(site):
    site.add("plain", '''
        def ember_register_datasets(registry):
            registry.add("d", list)
    ''')
    assert hub.list_datasets() == ["plain:d"]


def test_backends_register_a_device_type(site):
    site.add("dev", '''
        from ember.plugins import hookimpl
        from ember.testing import NumpyAccelerator
        @hookimpl
        def ember_register_backends(registry):
            registry.add("plugdev", NumpyAccelerator("plugdev", count=1))
    ''')
    try:
        assert hub.list_backends() == ["dev:plugdev"]
        x = ember.ones(2).to("plugdev:0")
        assert x.device.type == "plugdev"
    finally:
        plugins.reset()
    assert "plugdev" not in backend.registered_backends()  # withdrawn with the plugin


def test_a_backend_cannot_take_an_existing_device_type(site):
    site.add("takeover", '''
        from ember.testing import NumpyAccelerator
        def ember_register_backends(registry):
            registry.add("cpu", NumpyAccelerator("cpu"))
    ''')
    with pytest.warns(plugins.PluginWarning, match=r"device type 'cpu'.*already provided by ember.backend.CPUBackend"):
        plugins.load()
    assert type(backend.get_backend("cpu")).__name__ == "CPUBackend"


def test_plugin_env_info(site):
    site.add("inf", '''
        def ember_env_info():
            return {"fast": True}
    ''')
    site.add("badinf", '''
        def ember_env_info():
            raise RuntimeError("no GPU probe")
    ''')
    plugins.load()
    assert get_manager().env_info() == {"badinf": {"error": "RuntimeError: no GPU probe"}, "inf": {"fast": True}}


def test_registration_validation_messages(site):
    site.add("v", '''
        import enum
        from ember.plugins import Weights, WeightsEnum
        class W(WeightsEnum):
            A = Weights(url="/nowhere/a.ember", sha256="0" * 64)
        def ember_register_models(registry):
            registry.add("m", dict, weights=W.A)
    ''')
    with pytest.warns(plugins.PluginWarning, match=r"weights= must be a WeightsEnum subclass.*not one of its members"):
        plugins.load()
    for bad, match in [(("a b", dict), "invalid transform name 'a b'"), (("other:x", dict), "only its own plugin's"),
                       (("x", 3), "expected a class or callable"), (("x", dict), "registered transform 'x' twice")]:
        reg = plugins.PluginRegistry(get_manager().registries["transforms"], "v")
        if match.startswith("registered"):
            reg.add(*bad)
        with pytest.raises((ValueError, TypeError), match=match):
            reg.add(*bad)


def test_backend_plugin_requires_a_backend_instance(site):
    site.add("nb", '''
        def ember_register_backends(registry):
            registry.add("nbdev", object())
    ''')
    with pytest.warns(plugins.PluginWarning, match="expected an ember.backend.Backend instance"):
        plugins.load()
    assert NumpyAccelerator  # the stand-in used above is the one ember.testing provides
