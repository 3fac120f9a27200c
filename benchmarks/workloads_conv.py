"""Convolutional workloads: LeNet-5 training step, a ResNet basic block forward+backward, small-CNN
inference, and mobile vision models: MobileNetV2 inference and EfficientNet-Lite0-shaped fine-tuning
steps (frozen body / full), plus the real ``ember_vision`` models against the same architectures
written here for PyTorch (torchvision is not installed in the benchmark environment). As in
``workloads.py``, ``setup(lib)`` takes ``ember`` or ``torch`` and the code is identical."""
from __future__ import annotations

from workloads import Workload, dense_train_flops


def conv_flops(batch: int, c_in: int, c_out: int, k: int, out_hw: int) -> float:
    """FLOPs of one forward convolution (a multiply-add is two)."""
    return 2.0 * batch * c_out * out_hw * out_hw * c_in * k * k


# LeNet-5 at batch 64: forward, weight gradients, and input gradients of all but conv1.
_LENET_CONV1, _LENET_CONV2 = conv_flops(64, 1, 6, 5, 28), conv_flops(64, 6, 16, 5, 10)
LENET_FLOPS = 2 * _LENET_CONV1 + 3 * _LENET_CONV2 + dense_train_flops(64, [(400, 120), (120, 84), (84, 10)], True)
# ResNet basic block: two 3x3 convs 64->64 at 32x32, batch 32; x requires grad, so 3 GEMM passes each.
RESNET_BLOCK_FLOPS = 2 * 3 * conv_flops(32, 64, 64, 3, 32)
SMALL_CNN_FLOPS = conv_flops(64, 3, 32, 3, 32) + conv_flops(64, 32, 64, 3, 16) + conv_flops(64, 64, 128, 3, 8)


def _seeded(lib, seed: int = 0):
    lib.manual_seed(seed)
    return lib.nn, lib.nn.functional


def lenet5_train_step(lib):
    nn, F = _seeded(lib)

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(self.conv1(x).relu(), 2)
            x = F.max_pool2d(self.conv2(x).relu(), 2)
            x = x.flatten(1)
            return self.fc3(self.fc2(self.fc1(x).relu()).relu())

    model = LeNet5()
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = lib.randn(64, 1, 32, 32)
    y = lib.randint(0, 10, (64,))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def resnet_block_fwd_bwd(lib):
    """conv3x3-bn-relu-conv3x3-bn + identity, relu (torchvision's BasicBlock without downsampling)."""
    nn, _ = _seeded(lib)

    class BasicBlock(nn.Module):
        def __init__(self, channels: int):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(channels)
            self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)

        def forward(self, x):
            out = self.bn1(self.conv1(x)).relu()
            out = self.bn2(self.conv2(out))
            return (out + x).relu()

    block = BasicBlock(64)
    x = lib.randn(32, 64, 32, 32, requires_grad=True)

    def step():
        block.zero_grad(set_to_none=True)
        x.grad = None
        block(x).sum().backward()
    return step


def small_cnn_inference(lib):
    nn, F = _seeded(lib)
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(128, 10),
    ).eval()
    x = lib.randn(64, 3, 32, 32)

    def step():
        with lib.no_grad():
            return model(x)
    return step


# ---- mobile vision models (MobileNetV2 / EfficientNet-Lite0 layouts, written once for both libraries) ----
_MBV2_STAGES = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                (6, 320, 1, 1)]  # expansion, channels, repeats, first stride
_LITE0_STAGES = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
                 (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]  # t, k, s, in, out, n


def _conv_bn(nn, cin, cout, k=3, stride=1, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*(layers + [nn.ReLU6(inplace=True)] if act else layers))


def _inverted_residual(nn, cin, cout, k, stride, t):
    """Expansion 1x1, depthwise kxk, linear 1x1 projection (MobileNetV2's block, Lite0's MBConv)."""
    hidden = cin * t

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            layers = [_conv_bn(nn, cin, hidden, 1)] if t != 1 else []
            layers += [_conv_bn(nn, hidden, hidden, k, stride, hidden), _conv_bn(nn, hidden, cout, 1, act=False)]
            self.conv = nn.Sequential(*layers)
            self.residual = stride == 1 and cin == cout

        def forward(self, x):
            return x + self.conv(x) if self.residual else self.conv(x)
    return Block()


def _mobile_net(nn, stages, stem: int, head: int, num_classes: int):
    """Stem, inverted-residual stages ``(t, k, s, in, out, n)``, 1x1 head, pooled linear classifier."""
    body = [_conv_bn(nn, 3, stem, 3, 2)]
    for t, k, s, cin, cout, n in stages:
        for i in range(n):
            body.append(_inverted_residual(nn, cin if i == 0 else cout, cout, k, s if i == 0 else 1, t))
    body.append(_conv_bn(nn, stages[-1][4], head, 1))
    return nn.Sequential(nn.Sequential(*body), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                         nn.Linear(head, num_classes))


def mobilenet_v2_model(lib, num_classes: int = 1000):
    stages, cin = [], 32
    for t, c, n, s in _MBV2_STAGES:
        stages.append((t, 3, s, cin, c, n))
        cin = c
    return _mobile_net(lib.nn, stages, 32, 1280, num_classes)


def lite0_model(lib, num_classes: int = 1000):
    return _mobile_net(lib.nn, _LITE0_STAGES, 32, 1280, num_classes)


def _real_model(lib, name: str, num_classes: int = 1000):
    """The ember_vision model for Ember; the same architecture from this file for PyTorch."""
    if lib.__name__ == "ember":
        from ember_vision import models
        return getattr(models, name)(num_classes=num_classes)
    return {"mobilenet_v2": mobilenet_v2_model, "efficientnet_lite0": lite0_model}[name](lib, num_classes)


def _inference(lib, model, batch: int, size: int):
    model.eval()
    x = lib.randn(batch, 3, size, size)

    def step():
        with lib.no_grad():
            return model(x)
    return step


def _fine_tune(lib, model, head, batch: int, size: int, frozen: bool):
    """One SGD step on 10 classes; ``frozen``: only ``head`` trains, the body is in eval mode."""
    if frozen:
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        for p in head.parameters():
            p.requires_grad_(True)
        head.train()
    else:
        model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = lib.optim.SGD(params, lr=0.01, momentum=0.9)
    x = lib.randn(batch, 3, size, size)
    y = lib.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        lib.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def mobilenet_v2_inference(lib):
    _seeded(lib)
    return _inference(lib, mobilenet_v2_model(lib), 16, 224)


def lite0_fine_tune_frozen(lib):
    _seeded(lib)
    model = lite0_model(lib, 10)
    return _fine_tune(lib, model, model[4], 16, 160, frozen=True)


def lite0_fine_tune_full(lib):
    _seeded(lib)
    model = lite0_model(lib, 10)
    return _fine_tune(lib, model, model[4], 16, 160, frozen=False)


def real_mobilenet_v2_inference(lib):
    _seeded(lib)
    return _inference(lib, _real_model(lib, "mobilenet_v2"), 16, 224)


def real_lite0_inference(lib):
    _seeded(lib)
    return _inference(lib, _real_model(lib, "efficientnet_lite0"), 16, 224)


def _head(lib, model):
    return model.classifier if lib.__name__ == "ember" else model[4]


def real_lite0_fine_tune_frozen(lib):
    _seeded(lib)
    model = _real_model(lib, "efficientnet_lite0", 10)
    return _fine_tune(lib, model, _head(lib, model), 16, 160, frozen=True)


def real_lite0_fine_tune_full(lib):
    _seeded(lib)
    model = _real_model(lib, "efficientnet_lite0", 10)
    return _fine_tune(lib, model, _head(lib, model), 16, 160, frozen=False)


ALL = [
    Workload("LeNet-5 train step, batch 64 (SGD)", lenet5_train_step, 1.3, flops=LENET_FLOPS),
    Workload("ResNet basic block fwd+bwd 32x64x32x32", resnet_block_fwd_bwd, 2.0, flops=RESNET_BLOCK_FLOPS),
    Workload("small CNN inference 64x3x32x32", small_cnn_inference, 2.0, flops=SMALL_CNN_FLOPS),
    Workload("MobileNetV2 inference 16x3x224x224", mobilenet_v2_inference, 2.0),
    Workload("Lite0-shaped fine-tune step, frozen body, 16x3x160x160", lite0_fine_tune_frozen, 2.0),
    Workload("Lite0-shaped fine-tune step, full, 16x3x160x160", lite0_fine_tune_full, 2.5),
    Workload("ember_vision mobilenet_v2 inference 16x3x224x224", real_mobilenet_v2_inference, 2.0),
    Workload("ember_vision efficientnet_lite0 inference 16x3x224x224", real_lite0_inference, 2.0),
    Workload("ember_vision efficientnet_lite0 fine-tune, frozen body, 16x3x160x160", real_lite0_fine_tune_frozen,
             2.0),
    Workload("ember_vision efficientnet_lite0 fine-tune, full, 16x3x160x160", real_lite0_fine_tune_full, 2.5),
]
