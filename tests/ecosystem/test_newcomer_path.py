"""What a new user meets first: torch.hub's shape (load/list/help), canonical weight names, the one task
vocabulary, failed lookups that say why (a missing first-party plugin, a plugin that failed to load), and
the ``ember`` command's plugin column, weight status, ``weights fetch`` on a model without weights and
``weights hash``."""
import hashlib
import json

import pytest

from ember import cli, hub, plugins
from ember.plugins import AmbiguousNameError, NotFoundError, PluginWarning, UnknownTaskError
from ember.plugins.tasks import TASKS, check_task

BROKEN = "import ember_module_that_does_not_exist\n"


def run(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# ---- torch.hub's shape --------------------------------------------------------------------------------------

def test_hub_load_in_both_spellings(example_site):
    a = hub.load("toy", "mlp", weights="DEFAULT")
    b = hub.load("toy:mlp", weights="DEFAULT")
    c = hub.load("mlp", weights="DEFAULT", trust_repo=True, force_reload=True, verbose=False)  # a unique bare name
    assert type(a).__name__ == type(b).__name__ == type(c).__name__ == "ToyMLP"
    for m in (b, c):
        for (k, v), w in zip(a.state_dict().items(), m.state_dict().values()):
            assert (v == w).all().item(), k
    assert hub.load("toy", "mlp", weights="DEFAULT", num_classes=5).head.out_features == 5


def test_hub_load_refuses_what_torch_hub_means_by_a_repository(example_site):
    with pytest.raises(ValueError, match="not from GitHub repositories or directories: got 'pytorch/vision'"):
        hub.load("pytorch/vision", "resnet18")
    with pytest.raises(ValueError, match="source='github'"):
        hub.load("toy", "mlp", source="github")
    with pytest.raises(ValueError, match=r"give either hub.load\('toy:mlp'\) or hub.load\('<plugin>', 'mlp'\)"):
        hub.load("toy:mlp", "mlp")
    with pytest.raises(TypeError, match="keyword arguments only"):
        hub.load("toy", "mlp", 3)
    with pytest.raises(NotFoundError, match="unknown model 'toy:nope'"):
        hub.load("toy", "nope")


def test_hub_list_and_help(example_site):
    assert hub.list("toy") == ["mlp"]
    import inspect
    doc = hub.help("toy", "mlp")
    assert doc == inspect.getdoc(hub.get_model_builder("toy:mlp")) + \
        "\n\nPretrained weights: ToyMLP_Weights.BLOBS_V1 (DEFAULT)"
    with pytest.raises(NotFoundError, match=r"plugin 'nobody' provides no models; installed plugins: toy"):
        hub.list("nobody")


def test_get_weight_accepts_canonical_names(site, example_site):
    E = hub.get_model_weights("toy:mlp")
    assert hub.get_weight("toy:ToyMLP_Weights.BLOBS_V1") is E.BLOBS_V1
    assert hub.get_weight("ToyMLP_Weights.DEFAULT") is E.BLOBS_V1
    with pytest.raises(NotFoundError, match="no registered model of plugin 'other' has weights named 'ToyMLP_Weights'"):
        hub.get_weight("other:ToyMLP_Weights.BLOBS_V1")
    with pytest.raises(ValueError, match="expected '<EnumName>.<MEMBER>' or '<plugin>:<EnumName>.<MEMBER>'"):
        hub.get_weight("toy:ToyMLP_Weights")
    # a second plugin with an enum of the same name: the bare spelling is ambiguous, the canonical one is not
    site.add("twin", '''
        from ember.plugins import Weights, WeightsEnum
        class ToyMLP_Weights(WeightsEnum):
            BLOBS_V1 = Weights(url="/nowhere.ember", sha256="''' + "0" * 64 + '''")
        def ember_register_models(registry):
            registry.add("mlp2", dict, weights=ToyMLP_Weights)
    ''')
    plugins.reset(search_path=[site.root])
    with pytest.raises(AmbiguousNameError, match="'toy:ToyMLP_Weights.BLOBS_V1', 'twin:ToyMLP_Weights.BLOBS_V1'"):
        hub.get_weight("ToyMLP_Weights.BLOBS_V1")
    assert hub.get_weight("twin:ToyMLP_Weights.BLOBS_V1").url == "/nowhere.ember"


# ---- the task vocabulary ------------------------------------------------------------------------------------

def test_the_vocabulary_holds_the_documented_names():
    for name in ("image-classification", "text-classification", "sentence-embedding", "text-generation",
                 "audio-classification", "keyword-spotting", "voice-activity-detection", "classification",
                 "regression", "tabular-classification", "object-detection"):
        assert name in TASKS and TASKS[name]
    assert check_task(None) is None and check_task("image-classification") == "image-classification"
    with pytest.raises(TypeError):
        TASKS["made-up"] = "x"          # read-only: one vocabulary, defined in the core
    with pytest.raises(UnknownTaskError, match="unknown task 'Image_Classification'; did you mean "
                                               "'image-classification'\\? Tasks are one vocabulary"):
        check_task("Image_Classification")
    with pytest.raises(ValueError, match="task must be a string"):
        check_task(3)


def test_an_unknown_task_fails_the_registration(site):
    site.add("typo", '''
        def ember_register_models(registry):
            registry.add("net", dict, task="image_classification")
    ''')
    with pytest.warns(PluginWarning, match=r"model 'net': unknown task 'image_classification'; did you mean "
                                           r"'image-classification'\?.*image-classification, object-detection"):
        plugins.load()
    assert {p.name: p.status for p in plugins.list_plugins()} == {"typo": "failed"}


def test_filtering_by_an_unknown_task_is_an_error(example_site, capsys):
    assert hub.list_models(task="tabular-classification") == ["toy:mlp"]
    assert hub.list_datasets(task="tabular-classification") == ["toy:blobs"]
    with pytest.raises(UnknownTaskError, match="did you mean 'tabular-classification'"):
        hub.list_models(task="tabular_classification")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["models", "--task", "image_classification"])
    assert exit_info.value.code == 2
    assert "argument --task: unknown task 'image_classification'; did you mean 'image-classification'" in \
        capsys.readouterr().err


# ---- failed lookups say why ------------------------------------------------------------------------------

def test_a_metric_without_ember_metrics_says_what_to_install(site, good_source):
    site.add("good", good_source)      # provides a metric named 'metric', not 'accuracy'
    with pytest.raises(NotFoundError, match=r"unknown metric 'accuracy'.*install ember-metrics "
                                            r"\(`pip install ./plugins/metrics`"):
        hub.get_metric("accuracy")
    with pytest.raises(NotFoundError, match=r"install ember-vision \(`pip install ./plugins/vision`"):
        hub.get_model("resnet18")
    with pytest.raises(NotFoundError) as info:      # another plugin's prefix: no first-party hint
        hub.get_model("good:resnet18")
    assert "ember-vision" not in str(info.value)


def test_no_hint_when_the_first_party_plugin_is_there(site):
    site.add("metrics", '''
        def ember_register_metrics(registry):
            registry.add("accuracy", dict)
    ''', dist="ember-metrics")
    with pytest.raises(NotFoundError) as info:
        hub.get_metric("accuracy_score")
    assert "did you mean 'accuracy'" in str(info.value) and "pip install" not in str(info.value)


def test_a_lookup_that_fails_while_a_plugin_failed_says_so(site, good_source):
    site.add("broken", BROKEN, dist="ember-broken", version="0.3")
    site.add("good", good_source)
    with pytest.warns(PluginWarning):
        plugins.load()
    with pytest.raises(NotFoundError, match=r"unknown model 'resnet9'.*Note: plugin 'broken' \(distribution "
                                            r"ember-broken 0.3\) failed to load \(import: ModuleNotFoundError: No "
                                            r"module named 'ember_module_that_does_not_exist'\).*ember plugins -v"):
        hub.get_model("resnet9")


def test_a_lookup_mentions_disabled_plugins(site, good_source, monkeypatch):
    site.add("good", good_source)
    site.add("off", good_source.replace('"net"', '"offnet"'))
    monkeypatch.setenv("EMBER_DISABLE_PLUGINS", "off")
    plugins.reset(search_path=[site.root])
    with pytest.raises(NotFoundError, match="plugin 'off' is disabled by EMBER_DISABLE_PLUGINS"):
        hub.get_model("offnet")


def test_cli_with_no_metrics_says_what_to_install(site, capsys):
    status, out, _ = run(capsys, "metrics")
    assert status == 0 and out.startswith("No metrics registered")
    assert "note: Ember's metrics come from the 'metrics' plugin, which is not installed: install ember-metrics " \
           "(`pip install ./plugins/metrics`, run in Ember's source tree)" in out


def test_cli_plugin_column_shows_who_provides_a_bare_name(example_site, capsys):
    example_site.add("bad", '''
        def ember_register_metrics(registry):
            registry.add("accuracy", dict, functional=len, higher_is_better=True, task="classification")
    ''')
    rows = [line.split() for line in run(capsys, "metrics")[1].splitlines()]
    assert rows[0][:3] == ["NAME", "PLUGIN", "TASK"]
    assert [r[:3] for r in rows[1:]] == [["bad:accuracy", "bad", "classification"], ["toy:accuracy", "toy", "-"]]


# ---- ember weights ---------------------------------------------------------------------------------------

def test_weights_fetch_on_a_model_without_weights_fails(site, example_site, capsys):
    site.add("bare", '''
        def ember_register_models(registry):
            registry.add("resnet18", dict, task="image-classification")
    ''')
    for action in ("fetch", "verify", "list"):
        status, out, err = run(capsys, "weights", action, "resnet18")
        assert status == 1 and out == ""
        assert err.strip() == "error: bare:resnet18 has no pretrained weights (`ember weights` lists the models " \
                              "that have some)"
    status, out, _ = run(capsys, "weights", "fetch", "toy:mlp")
    assert status == 0 and "1 file: 1 ok" in out


def test_weights_hash_prints_what_a_record_needs(tmp_path, site, capsys):
    f = tmp_path / "w.ember"
    f.write_bytes(b"some weights" * 100)
    digest = hashlib.sha256(f.read_bytes()).hexdigest()
    status, out, _ = run(capsys, "weights", "hash", str(f))
    assert status == 0 and out == f'{f}:\n    sha256="{digest}", size=1200,\n'
    status, out, _ = run(capsys, "weights", "hash", str(f), "--json")
    assert json.loads(out) == [{"path": str(f), "sha256": digest, "size": 1200}]
    status, _, err = run(capsys, "weights", "hash", str(tmp_path / "missing.ember"))
    assert status == 1 and "missing.ember: no such file" in err
    assert run(capsys, "weights", "hash")[0] == 2
