"""Registration of ember-vision's models, called by the plugin's ``ember_register_models`` hook."""
from __future__ import annotations

from . import efficientnet, lenet, mnistcnn, mobilenetv2, mobilenetv3, resnet, vgg, vit

TASK = "image-classification"   # from the core's vocabulary, ember.plugins.tasks.TASKS

# name -> (builder, weights enum or None, family, input size the model is built for)
MODELS = {
    "lenet5": (lenet.lenet5, lenet.LeNet5_Weights, "lenet", (1, 28, 28)),
    "mnist_cnn": (mnistcnn.mnist_cnn, mnistcnn.MnistCNN_Weights, "mnist_cnn", (1, 28, 28)),
    "resnet18": (resnet.resnet18, None, "resnet", (3, 224, 224)),
    "resnet34": (resnet.resnet34, None, "resnet", (3, 224, 224)),
    "resnet50": (resnet.resnet50, None, "resnet", (3, 224, 224)),
    "vgg11_bn": (vgg.vgg11_bn, None, "vgg", (3, 224, 224)),
    "vgg16_bn": (vgg.vgg16_bn, None, "vgg", (3, 224, 224)),
    "mobilenet_v2": (mobilenetv2.mobilenet_v2, None, "mobilenet", (3, 224, 224)),
    "mobilenet_v3_small": (mobilenetv3.mobilenet_v3_small, None, "mobilenet", (3, 224, 224)),
    "efficientnet_b0": (efficientnet.efficientnet_b0, None, "efficientnet", (3, 224, 224)),
    "efficientnet_lite0": (efficientnet.efficientnet_lite0, efficientnet.EfficientNet_Lite0_Weights, "efficientnet",
                           (3, 224, 224)),
    "vit_b_16": (vit.vit_b_16, None, "vit", (3, 224, 224)),
    "vit_tiny_patch4_32": (vit.vit_tiny_patch4_32, None, "vit", (3, 32, 32)),
}


def register(registry) -> None:
    """Add every model to ``registry`` (a plugin-bound registry of the ``models`` kind)."""
    for name, (builder, weights, family, input_size) in MODELS.items():
        registry.add(name, builder, weights=weights, task=TASK, family=family, input_size=input_size)
