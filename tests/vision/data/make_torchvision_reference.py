"""Regenerate ``torchvision_models.json``: torchvision's state_dict keys and shapes, parameter counts and
reference logits for the models ember-vision mirrors. Run once with torchvision installed (the tests
never import torch):

    python -m venv /tmp/vtv && /tmp/vtv/bin/pip install torch==2.14.1 torchvision==0.29.1
    /tmp/vtv/bin/python tests/vision/data/make_torchvision_reference.py

Reference logits: every model is filled with deterministic pseudo-random values (:func:`fill_value`,
plain NumPy, so the tests rebuild exactly the same weights in Ember), put in eval mode in float64 with
``num_classes=10`` and run on a fixed ``(2, 3, 32, 32)`` input; the logits are stored. This checks the
computation, not just the names.
"""
from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("torchvision_models.json")
SEED = 2024

# name -> (torchvision builder, kwargs); vit_tiny_patch4_32 is ember-vision's own configuration built from
# torchvision's VisionTransformer class (torchvision has no builder for it).
VIT_TINY = dict(image_size=32, patch_size=4, num_layers=12, num_heads=3, hidden_dim=192, mlp_dim=768)
MODELS = {
    "resnet18": {}, "resnet34": {}, "resnet50": {}, "vgg11_bn": {}, "vgg16_bn": {}, "mobilenet_v2": {},
    "mobilenet_v3_small": {}, "efficientnet_b0": {}, "vit_b_16": {}, "vit_tiny_patch4_32": VIT_TINY,
}
# vit_b_16 takes 224x224 inputs only and vgg16_bn is vgg11_bn's code with a longer layer list: too slow for
# the unit tests for what they would add; their keys, shapes and counts are still checked.
NO_LOGITS = {"vit_b_16", "vgg16_bn"}


def fill_value(key: str, shape: tuple[int, ...]) -> np.ndarray:
    """The deterministic float64 value given to state_dict entry ``key``: zero-mean, unit-variance uniform
    noise scaled by 1/sqrt(fan_in) for weights, near-1 norm scales, small biases/means, variances in
    [0.5, 1.5]. (Drawn and scaled in float32, in place: VGG has 10^8 values.)"""
    rng = np.random.default_rng([SEED, zlib.crc32(key.encode())])
    leaf = key.rsplit(".", 1)[-1]
    if leaf == "running_var":
        return rng.uniform(0.5, 1.5, shape)
    noise = rng.random(shape, dtype=np.float32)
    noise -= 0.5
    if len(shape) >= 2:
        # embeddings (class token, positions) get a fixed scale; matrices and kernels 1/sqrt(fan_in)
        fan_in = 50 if key.endswith(("class_token", "pos_embedding")) else int(np.prod(shape[1:]))
        noise *= np.float32(np.sqrt(12.0 / fan_in))
        return noise.astype(np.float64)
    noise *= np.float32(0.1 * np.sqrt(12.0))
    return noise.astype(np.float64) + (1.0 if leaf == "weight" else 0.0)  # norm scales near 1, biases near 0


def fixed_input() -> np.ndarray:
    return np.random.default_rng(SEED).standard_normal((2, 3, 32, 32))


def main() -> None:
    import torch
    import torchvision
    from torchvision.models import get_model
    from torchvision.models.vision_transformer import VisionTransformer

    def build(name: str, **kw):
        if name == "vit_tiny_patch4_32":
            return VisionTransformer(**VIT_TINY, **kw)
        return get_model(name, weights=None, **kw)

    doc = {"torch": torch.__version__, "torchvision": torchvision.__version__, "seed": SEED, "models": {}}
    for name in MODELS:
        model = build(name)
        entry = {"num_params": sum(p.numel() for p in model.parameters()),
                 "state_dict": [[k, list(v.shape)] for k, v in model.state_dict().items()]}
        if name not in NO_LOGITS:
            small = build(name, num_classes=10).double().eval()
            state = {k: (torch.from_numpy(fill_value(k, tuple(v.shape))) if v.is_floating_point() else v)
                     for k, v in small.state_dict().items()}
            small.load_state_dict(state)
            with torch.no_grad():
                entry["logits"] = small(torch.from_numpy(fixed_input())).tolist()
        doc["models"][name] = entry
        print(name, entry["num_params"], len(entry["state_dict"]))
    OUT.write_text(json.dumps(doc, indent=0) + "\n")


if __name__ == "__main__":
    main()
