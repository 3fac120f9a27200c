"""Every `ember` command: human tables and --json, exit statuses, plugin subcommands, strict mode."""
import json
import os
import subprocess
import sys

import pytest

from ember import cli

BROKEN = "import ember_module_that_does_not_exist\n"
CLASH = '''
    def ember_register_metrics(registry):
        registry.add("accuracy", dict, functional=len, higher_is_better=True)
'''


def run(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_plugins_table_json_and_verbose(example_site, capsys):
    example_site.add("broken", BROKEN, dist="ember-broken", version="0.2")
    status, out, err = run(capsys, "plugins")
    assert status == 0 and err == ""           # failures are shown in the table, not warned about
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "DISTRIBUTION", "VERSION", "STATUS", "REGISTERED"]
    assert lines[1].split()[:4] == ["broken", "ember-broken", "0.2", "failed"]
    assert " ".join(lines[2].split()) == "toy ember-toy 0.1.0 loaded 1 model, 1 dataset, 1 transform, 1 metric, 1 command"
    assert "error (import): ModuleNotFoundError: No module named 'ember_module_that_does_not_exist'" in out

    status, out, _ = run(capsys, "plugins", "-v")
    assert "Traceback (most recent call last)" in out and "models: toy:mlp" in out and "commands: toy:toy-predict" in out

    status, out, _ = run(capsys, "plugins", "--json")
    docs = {d["name"]: d for d in json.loads(out)}
    assert docs["toy"]["distribution"] == "ember-toy" and docs["toy"]["status"] == "loaded"
    assert docs["toy"]["registered"]["models"] == ["mlp"] and docs["toy"]["value"] == "ember_toy._plugin"
    assert docs["broken"]["status"] == "failed" and "ember_module_that_does_not_exist" in docs["broken"]["error"]
    assert "traceback" not in docs["broken"]
    status, out, _ = run(capsys, "plugins", "--json", "-v")
    assert "Traceback" in json.loads(out)[0]["traceback"]


def test_plugins_works_in_strict_mode_with_a_broken_plugin(site, capsys, monkeypatch):
    site.add("broken", BROKEN)
    monkeypatch.setenv("EMBER_STRICT_PLUGINS", "1")
    status, out, _ = run(capsys, "plugins")
    assert status == 0 and "failed" in out
    status, _, err = run(capsys, "models")            # other commands stop on failures in strict mode
    assert status == 1 and "plugin 'broken'" in err and "EMBER_STRICT_PLUGINS=1" in err
    assert "warning:" not in err


def test_no_plugins(site, capsys):
    assert run(capsys, "plugins")[1].startswith("No Ember plugins are installed")
    assert json.loads(run(capsys, "plugins", "--json")[1]) == []
    assert run(capsys, "models")[1].startswith("No models registered")
    assert run(capsys, "plugins", "check")[0] == 0


def test_plugins_check(example_site, capsys):
    status, out, _ = run(capsys, "plugins", "check")
    assert status == 0 and out.startswith("ok: 1 plugin loaded")
    assert json.loads(run(capsys, "plugins", "check", "--json")[1]) == {"ok": True, "problems": []}


@pytest.mark.parametrize("source, expected", [
    (BROKEN, "plugin 'bad' (distribution ember-bad 1.0) failed (import): ModuleNotFoundError"),
    ("def ember_register_metric(registry): pass\n", "unknown hook(s) 'ember_register_metric' (did you mean"),
    (CLASH, "metric name 'accuracy' is provided by several plugins: bad:accuracy, toy:accuracy"),
])
def test_plugins_check_fails_on_problems(example_site, capsys, source, expected):
    example_site.add("bad", source)
    status, out, _ = run(capsys, "plugins", "check")
    assert status == 1 and expected in out
    doc = json.loads(run(capsys, "plugins", "check", "--json")[1])
    assert doc["ok"] is False and any(expected in p for p in doc["problems"])


def test_models_and_filters(example_site, capsys):
    example_site.add("other", '''
        def ember_register_models(registry):
            registry.add("big", dict, task="object-detection")
    ''')
    status, out, _ = run(capsys, "models")
    lines = out.splitlines()
    assert status == 0 and lines[0].split() == ["NAME", "PLUGIN", "TASK", "WEIGHTS", "(*DEFAULT)", "OBJECT"]
    assert lines[1].split() == ["other:big", "other", "object-detection", "-", "builtins.dict"]
    assert lines[2].split() == ["toy:mlp", "toy", "tabular-classification", "BLOBS_V1*", "ember_toy.toy_mlp"]
    assert [line.split()[0] for line in run(capsys, "models", "--plugin", "toy")[1].splitlines()[1:]] == ["toy:mlp"]
    assert "toy:mlp" not in run(capsys, "models", "--task", "object-detection")[1]
    assert "other:big" not in run(capsys, "models", "--include", "ml*")[1]
    assert "other:big" not in run(capsys, "models", "--exclude", "other:*")[1]
    assert "No models registered matching" in run(capsys, "models", "--plugin", "nobody")[1]
    docs = json.loads(run(capsys, "models", "--json")[1])
    assert docs[1] == {"name": "toy:mlp", "plugin": "toy", "distribution": "ember-toy", "object": "ember_toy.toy_mlp",
                       "weights": ["BLOBS_V1"], "default_weights": "BLOBS_V1", "weights_enum": "ToyMLP_Weights",
                       "metadata": {"task": "tabular-classification"}}


def test_datasets_transforms_metrics(example_site, capsys):
    out = run(capsys, "datasets")[1].splitlines()
    assert out[0].split() == ["NAME", "PLUGIN", "TASK", "MODALITY", "OBJECT"]
    assert out[1].split() == ["toy:blobs", "toy", "tabular-classification", "tabular", "ember_toy.Blobs"]
    assert json.loads(run(capsys, "datasets", "--json", "--modality", "tabular")[1])[0]["metadata"] == {
        "task": "tabular-classification", "modality": "tabular", "num_classes": 3}
    out = run(capsys, "transforms")[1].splitlines()
    assert out[0].split() == ["NAME", "PLUGIN", "MODALITY", "FUNCTIONAL", "OBJECT"]
    assert out[1].split() == ["toy:standardize", "toy", "tabular", "yes", "ember_toy.Standardize"]
    doc = json.loads(run(capsys, "transforms", "--json")[1])[0]
    assert doc["metadata"] == {"functional": "ember_toy.standardize", "modality": "tabular"}
    out = run(capsys, "metrics")[1].splitlines()
    assert out[0].split() == ["NAME", "PLUGIN", "TASK", "HIGHER_IS_BETTER", "FUNCTIONAL", "OBJECT"]
    assert out[1].split() == ["toy:accuracy", "toy", "-", "True", "yes", "ember_toy.Accuracy"]
    assert json.loads(run(capsys, "metrics", "--json")[1])[0]["metadata"]["higher_is_better"] is True


def test_weights_list_and_verify(example_site, capsys, tmp_path):
    status, out, _ = run(capsys, "weights")
    assert status == 0 and out.splitlines()[0].split() == ["MODEL", "WEIGHTS", "STATUS", "SIZE", "SHA256", "PATH"]
    assert out.splitlines()[1].split()[:5] == ["toy:mlp", "ToyMLP_Weights.BLOBS_V1", "installed", "1228", "823fd9815a21"]
    status, out, _ = run(capsys, "weights", "verify")
    assert status == 0 and out.splitlines()[1].split()[:3] == ["toy:mlp", "ToyMLP_Weights.BLOBS_V1", "ok"]
    assert "1 file: 1 ok" in out
    doc = json.loads(run(capsys, "weights", "verify", "toy:mlp", "--json")[1])
    assert doc[0]["status"] == "ok" and doc[0]["sha256"].startswith("823fd9815a21")
    assert doc[0]["path"].endswith(os.path.join("ember_toy", "weights", "mlp_blobs_v1.ember"))
    # Flags may precede the model names, and `fetch` is verify --download.
    doc = json.loads(run(capsys, "weights", "verify", "--json", "toy:mlp")[1])
    assert [d["model"] for d in doc] == ["toy:mlp"]
    status, out, _ = run(capsys, "weights", "fetch", "toy:mlp")
    assert status == 0 and "1 file: 1 ok" in out


def test_weights_verify_reports_mismatch_missing_and_not_downloaded(site, capsys, tmp_path):
    (tmp_path / "bad.ember").write_bytes(b"not the weights")
    site.add("w", f'''
        from ember.plugins import Weights, WeightsEnum
        class M_Weights(WeightsEnum):
            BAD = Weights(url={str(tmp_path / "bad.ember")!r}, sha256="{'a' * 64}")
            GONE = Weights(url={str(tmp_path / "gone.ember")!r}, sha256="{'b' * 64}")
            REMOTE = Weights(url="https://example.invalid/m.ember", sha256="{'c' * 64}")
        def ember_register_models(registry):
            registry.add("m", dict, weights=M_Weights)
    ''')
    status, out, _ = run(capsys, "weights", "verify")
    assert status == 1
    rows = {line.split()[1]: line.split()[2] for line in out.splitlines()[1:4]}
    assert rows == {"M_Weights.BAD": "mismatch", "M_Weights.GONE": "missing", "M_Weights.REMOTE": "not"}
    assert f"checksum mismatch for weights file {tmp_path / 'bad.ember'}: expected sha256 {'a' * 64}" in out
    assert f"expected it at {tmp_path / 'gone.ember'}" in out
    assert "3 files: 1 mismatch, 1 missing, 1 not downloaded" in out
    doc = {d["weights"]: d for d in json.loads(run(capsys, "weights", "verify", "--json")[1])}
    assert doc["M_Weights.REMOTE"]["status"] == "not downloaded"
    assert doc["M_Weights.REMOTE"]["path"] == os.path.join(os.environ["EMBER_HOME"], "weights", "m.ember")
    status, _, err = run(capsys, "weights", "verify", "nope")
    assert status == 2 and "unknown model 'nope'" in err


def test_env(example_site, capsys, monkeypatch):
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    status, out, _ = run(capsys, "env")
    assert status == 0
    for needle in ("ember      0.1.0", "numpy", "pluggy", "Devices and backends", "cpu   yes", "cuda", "Plugins",
                   "toy   ember-toy", "ember-toy: 0.1.0", "EMBER_OFFLINE=1", "cache ($EMBER_HOME)"):
        assert needle in out, needle
    doc = json.loads(run(capsys, "env", "--json")[1])
    assert doc["ember"] == "0.1.0" and doc["packages"]["pluggy"]
    assert {b["type"]: b["available"] for b in doc["backends"]}["cpu"] is True
    assert doc["plugins"] == [{"name": "toy", "distribution": "ember-toy", "version": "0.1.0", "status": "loaded"}]
    assert doc["plugin_info"] == {"toy": {"ember-toy": "0.1.0"}}
    assert doc["env"]["EMBER_OFFLINE"] == "1"


def test_plugin_subcommands(example_site, capsys):
    assert run(capsys, "toy-predict", "0", "3") == (0, "top\n", "")
    assert run(capsys, "toy:toy-predict", "--", "-2.5", "0")[:2] == (0, "left\n")
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "toy-predict" in capsys.readouterr().out


def test_plugin_command_names_never_shadow_builtins(site, capsys):
    site.add("sh", '''
        def ember_register_commands(cli):
            cli.add("models", lambda args: print("plugin models"))
    ''')
    assert run(capsys, "models")[1].startswith("No models registered")   # the built-in command
    assert run(capsys, "sh:models") == (0, "plugin models\n", "")


def test_warnings_go_to_stderr_for_other_commands(site, capsys):
    site.add("broken", BROKEN)
    status, out, err = run(capsys, "models")
    assert status == 0 and err.startswith("warning: ember plugin 'broken'")


def test_no_command_prints_help(site, capsys):
    status, out, _ = run(capsys)
    assert status == 0 and "plugins" in out and "weights" in out


def test_python_dash_m_ember(tmp_path):
    env = dict(os.environ, EMBER_HOME=str(tmp_path))
    env.pop("EMBER_STRICT_PLUGINS", None)
    proc = subprocess.run([sys.executable, "-m", "ember", "plugins", "--json"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert isinstance(json.loads(proc.stdout), list)
    proc = subprocess.run([sys.executable, "-m", "ember", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip().startswith("ember ")
