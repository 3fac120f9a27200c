"""The plugin's own tests: run them with the plugin installed (``pip install -e .[test] && pytest``)."""
import pytest

import ember
from ember import hub
from ember.testing import assert_close
from ember.utils.data import DataLoader

import ember_toy as toy


def test_plugin_is_discovered_through_its_entry_point():
    info = {p.name: p for p in ember.plugins.list_plugins()}["toy"]
    assert info.status == "loaded", info.error
    assert info.distribution == "ember-toy"
    assert info.registered == {"models": ["mlp"], "datasets": ["blobs"], "transforms": ["standardize"],
                               "metrics": ["accuracy"], "commands": ["toy-predict"]}
    assert "toy:mlp" in hub.list_models(plugin="toy")


def test_pretrained_weights_reach_their_recorded_accuracy():
    weights = hub.get_model_weights("toy:mlp").DEFAULT
    model = hub.get_model("toy:mlp", weights="DEFAULT").eval()
    test_set = hub.get_dataset("toy:blobs", train=False, transform=weights.transforms())
    metric = hub.get_metric("toy:accuracy")
    with ember.no_grad():
        for x, y in DataLoader(test_set, batch_size=128):
            metric.update(model(x), y)
    assert metric.compute() == pytest.approx(weights.meta["metrics"]["accuracy"], abs=1e-3)
    assert metric.compute() > 0.9


def test_fine_tuning_keeps_the_body_and_replaces_the_head():
    pretrained = hub.get_model("toy:mlp", weights="DEFAULT")
    tuned = hub.get_model("toy:mlp", weights="DEFAULT", num_classes=5)
    assert tuned.head.out_features == 5
    assert_close(tuned.body[0].weight, pretrained.body[0].weight)
    assert tuned(ember.zeros(4, 2)).shape == (4, 5)


def test_functional_forms_match_the_classes():
    x = ember.tensor([[1.0, 2.0], [3.0, -1.0]])
    assert_close(hub.get_transform("toy:standardize", (1.0, 0.0), (2.0, 4.0))(x),
                 hub.get_transform_function("toy:standardize")(x, (1.0, 0.0), (2.0, 4.0)))
    preds, target = ember.tensor([0, 2, 1, 1]), ember.tensor([0, 2, 2, 1])
    assert hub.get_metric_function("toy:accuracy")(preds, target) == 0.75


def test_the_library_works_without_the_hub():
    model = toy.toy_mlp(weights="DEFAULT")
    assert model.head.out_features == len(toy.CATEGORIES)
    with pytest.raises(ValueError, match="fine-tune"):
        toy.toy_mlp(weights="DEFAULT", num_classes=5)
