"""Convolutional workloads: LeNet-5 training step, a ResNet basic block forward+backward and small-CNN
inference. As in ``workloads.py``, ``setup(lib)`` takes ``ember`` or ``torch`` and the code is identical."""
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


ALL = [
    Workload("LeNet-5 train step, batch 64 (SGD)", lenet5_train_step, 1.3, flops=LENET_FLOPS),
    Workload("ResNet basic block fwd+bwd 32x64x32x32", resnet_block_fwd_bwd, 2.0, flops=RESNET_BLOCK_FLOPS),
    Workload("small CNN inference 64x3x32x32", small_cnn_inference, 2.0, flops=SMALL_CNN_FLOPS),
]
