"""Convolutional workloads: LeNet-5 training step, a ResNet basic block forward+backward and small-CNN
inference. As in ``workloads.py``, ``setup(lib)`` takes ``ember`` or ``torch`` and the code is identical."""
from __future__ import annotations

from workloads import Workload


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


ALL = [
    Workload("LeNet-5 train step, batch 64 (SGD)", lenet5_train_step, 2.0),
    Workload("ResNet basic block fwd+bwd 32x64x32x32", resnet_block_fwd_bwd, 2.0),
    Workload("small CNN inference 64x3x32x32", small_cnn_inference, 2.0),
]
