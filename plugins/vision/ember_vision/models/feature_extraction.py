"""Intermediate outputs of a model by node name: torchvision's ``create_feature_extractor``.

Nodes are named as torchvision names them for module outputs: the module's qualified name
(``"layer1"``, ``"layer4.1.conv2"``, ``"avgpool"``, ``"fc"``); a module called more than once per
forward gets ``_1``, ``_2``, ... on its later calls (the second ``relu`` of a ResNet basic block is
``"layer1.0.relu_1"``); the forward's input is its argument's name (``"x"``). A container such as
``"layer1"`` gives its output, which is what torchvision returns for that (prefix) name.

torchvision traces the forward with torch.fx and so also names functional operations (``"flatten"``,
``"layer1.0.add"``); Ember records module outputs with forward hooks, so only module outputs can be
asked for, and naming anything else is an error that says so. As in torchvision, the forward stops
once every requested output is computed (later layers do not run).

>>> from ember_vision.models import resnet18
>>> from ember_vision.models.feature_extraction import create_feature_extractor
>>> body = create_feature_extractor(resnet18(), return_nodes={"layer2": "c3", "layer4": "c5"})
>>> out = body(ember.randn(1, 3, 224, 224))    # {"c3": (1, 128, 28, 28), "c5": (1, 512, 7, 7)}
"""
from __future__ import annotations

import inspect
import re
from collections import OrderedDict
from typing import Any

from ember import nn

__all__ = ["create_feature_extractor", "get_graph_node_names", "FeatureExtractor"]

_REPEAT = re.compile(r"^(?P<base>.+)_(?P<call>[1-9][0-9]*)$")


class _Collected(Exception):
    """Raised from a hook once every requested output is in: the rest of the forward is skipped."""


def _input_name(model: nn.Module) -> str:
    params = [p for p in inspect.signature(model.forward).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return params[0].name if params else "x"


def get_graph_node_names(model: nn.Module, tracer_kwargs: dict | None = None, suppress_diff_warning: bool = False,
                         concrete_args: dict | None = None) -> tuple[list[str], list[str]]:
    """``(train_nodes, eval_nodes)``: the names :func:`create_feature_extractor` accepts, the forward's input
    first, then every submodule in definition order (both lists are the same: module outputs do not change
    with the mode). A module called several times also accepts ``<name>_1``, ``<name>_2``, ...
    The arguments after ``model`` are accepted for torchvision's signature.

    >>> from ember_vision.models import resnet18
    >>> train_nodes, eval_nodes = get_graph_node_names(resnet18())
    >>> train_nodes[:5]
    ['x', 'conv1', 'bn1', 'relu', 'maxpool']
    """
    names = [_input_name(model)] + [name for name, _ in model.named_modules() if name]
    return names, list(names)


def _parse_nodes(return_nodes, what: str) -> "OrderedDict[str, str]":
    """A list of names or a ``{node: output name}`` dict -> an ordered ``{node: output name}``."""
    if return_nodes is None:
        return OrderedDict()
    if isinstance(return_nodes, dict):
        pairs = return_nodes.items()
    elif isinstance(return_nodes, (list, tuple)):
        pairs = ((n, n) for n in return_nodes)
    else:
        raise TypeError(f"{what} must be a list of node names or a dict of node name -> output name, "
                        f"got {type(return_nodes).__name__}")
    out = OrderedDict()
    for node, key in pairs:
        if not isinstance(node, str) or not isinstance(key, str):
            raise TypeError(f"{what}: node and output names must be strings, got {node!r}: {key!r}")
        out[node] = key
    return out


def _resolve(model: nn.Module, nodes: "OrderedDict[str, str]", input_name: str) -> dict[str, tuple[str, int]]:
    """node -> (module name, call number); the input is ``("", 0)``. Unknown or non-module nodes raise."""
    modules = dict(model.named_modules())
    resolved = {}
    for node in nodes:
        if node == input_name:
            resolved[node] = ("", 0)
        elif node and node in modules:
            resolved[node] = (node, 0)
        elif (m := _REPEAT.match(node)) and m["base"] in modules:
            resolved[node] = (m["base"], int(m["call"]))
        else:
            raise ValueError(f"node: {node!r} is not present in model. Hint: use `get_graph_node_names` to make sure "
                             "the `return_nodes` you specified are present. Ember's feature extractor returns module "
                             "outputs (and the input): functional operations such as 'flatten' or 'add' are not "
                             "nodes here; name the module whose output you want.")
    return resolved


class FeatureExtractor(nn.Module):
    """What :func:`create_feature_extractor` returns: calling it runs the model and returns an ordered dict
    ``{output name: tensor}`` in the order the nodes were requested.

    It shares the model's submodules and parameters (its ``state_dict`` keys are the model's), and
    ``train()``/``eval()`` choose between the train and eval node sets.
    """

    def __init__(self, model: nn.Module, train_nodes: "OrderedDict[str, str]", eval_nodes: "OrderedDict[str, str]"):
        super().__init__()
        object.__setattr__(self, "_model", model)   # not a child: its children are registered directly below
        for name, child in model.named_children():
            self.add_module(name, child)
        for name, p in model.named_parameters(recurse=False):
            self.register_parameter(name, p)
        for name, b in model.named_buffers(recurse=False):
            self.register_buffer(name, b, persistent=name not in model._non_persistent_buffers_set)
        self._input = _input_name(model)
        self.train_return_nodes, self.eval_return_nodes = train_nodes, eval_nodes
        self._train_plan = _resolve(model, train_nodes, self._input)
        self._eval_plan = _resolve(model, eval_nodes, self._input)
        self.train(model.training)

    def train(self, mode: bool = True) -> "FeatureExtractor":
        super().train(mode)
        object.__setattr__(self._model, "training", mode)
        return self

    def _apply(self, fn, recurse: bool = True) -> "FeatureExtractor":
        super()._apply(fn, recurse)
        for name in list(self._model._buffers):   # buffers are replaced, not updated: keep the model's in step
            self._model._buffers[name] = self._buffers[name]
        return self

    def forward(self, x, *args, **kwargs) -> "OrderedDict[str, Any]":
        nodes = self.train_return_nodes if self.training else self.eval_return_nodes
        plan = self._train_plan if self.training else self._eval_plan
        wanted: dict[tuple[str, int], list[str]] = {}
        for node, key in plan.items():
            wanted.setdefault(key, []).append(node)
        found: dict[str, Any] = {}
        if ("", 0) in wanted:
            for node in wanted.pop(("", 0)):
                found[node] = x
        handles = []
        if wanted:
            modules = dict(self._model.named_modules())
            calls: dict[str, int] = {}

            def hook_for(name):
                def hook(module, args_, out):
                    n = calls.get(name, 0)
                    calls[name] = n + 1
                    for node in wanted.get((name, n), ()):
                        found[node] = out
                    if len(found) == len(plan):
                        raise _Collected
                return hook
            for name in {name for name, _ in wanted}:
                handles.append(modules[name].register_forward_hook(hook_for(name)))
            try:
                self._model(x, *args, **kwargs)
            except _Collected:
                pass
            finally:
                for h in handles:
                    h.remove()
        missing = [node for node in plan if node not in found]
        if missing:
            raise RuntimeError(f"the forward pass never produced node(s) {', '.join(map(repr, missing))}: the module "
                               "ran fewer times than the '_<n>' suffix asks for, or not at all in this mode")
        return OrderedDict((nodes[node], found[node]) for node in plan)


def create_feature_extractor(model: nn.Module, return_nodes=None, train_return_nodes=None, eval_return_nodes=None,
                             tracer_kwargs: dict | None = None, suppress_diff_warning: bool = False,
                             concrete_args: dict | None = None) -> FeatureExtractor:
    """A module returning the outputs of ``model``'s nodes (see the module docstring for the names).

    ``return_nodes`` is a list of node names, or a dict ``{node name: output name}``; give either it, or
    ``train_return_nodes`` and ``eval_return_nodes`` for different nodes in training and evaluation mode.
    The remaining arguments are accepted for torchvision's signature.

    >>> from ember_vision.models import resnet18
    >>> extractor = create_feature_extractor(resnet18(), {"layer1": "feat1", "layer3": "feat3"})
    >>> {k: v.shape for k, v in extractor(ember.randn(1, 3, 64, 64)).items()}
    {'feat1': ember.Size([1, 64, 16, 16]), 'feat3': ember.Size([1, 256, 4, 4])}
    """
    if return_nodes is not None and (train_return_nodes is not None or eval_return_nodes is not None):
        raise ValueError("If `train_return_nodes` and `eval_return_nodes` are specified, then both should be "
                         "specified, and `return_nodes` should not be specified")
    if return_nodes is None and (train_return_nodes is None) != (eval_return_nodes is None):
        raise ValueError("If any of `train_return_nodes` and `eval_return_nodes` are specified, then both should "
                         "be specified")
    if return_nodes is None and train_return_nodes is None:
        raise ValueError("Either `return_nodes` or `train_return_nodes` and `eval_return_nodes` together, should be "
                         "specified")
    if return_nodes is not None:
        nodes = _parse_nodes(return_nodes, "return_nodes")
        train_nodes, eval_nodes = nodes, OrderedDict(nodes)
    else:
        train_nodes = _parse_nodes(train_return_nodes, "train_return_nodes")
        eval_nodes = _parse_nodes(eval_return_nodes, "eval_return_nodes")
    return FeatureExtractor(model, train_nodes, eval_nodes)
