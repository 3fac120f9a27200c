"""The hooks that make ember-toy an Ember plugin (named by the entry point ``toy`` in pyproject.toml).

Each registration hook hands one of the package's tables to Ember; everything registered is stamped
with the plugin's name: ``toy:mlp``, ``toy:blobs``, ...
"""
from ember.plugins import hookimpl

import ember_toy as toy


@hookimpl
def ember_register_models(registry):
    registry.add_all(toy.MODELS)


@hookimpl
def ember_register_datasets(registry):
    registry.add_all(toy.DATASETS)


@hookimpl
def ember_register_transforms(registry):
    registry.add_all(toy.TRANSFORMS)


@hookimpl
def ember_register_metrics(registry):
    registry.add_all(toy.METRICS)


@hookimpl
def ember_register_commands(cli):
    parser = cli.add("toy-predict", _predict, help="classify a 2-D point with the pretrained toy model")
    parser.add_argument("x", type=float)
    parser.add_argument("y", type=float)


@hookimpl
def ember_env_info():
    return {"ember-toy": toy.__version__}


def _predict(args) -> int:
    import ember
    weights = toy.ToyMLP_Weights.DEFAULT
    model = toy.toy_mlp(weights=weights).eval()
    x = weights.transforms()(ember.tensor([[args.x, args.y]]))
    print(toy.CATEGORIES[int(model(x).argmax(1).item())])
    return 0
