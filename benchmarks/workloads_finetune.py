"""Fine-tuning workloads: one step of ``ember finetune``'s loop on EfficientNet-Lite0 at batch 32, with the
body frozen (head only, the body's BatchNorm layers in eval mode, as ``--freeze all-but-head`` runs it) and
with everything training (``--freeze none``). ``setup(lib)`` takes ``ember`` or ``torch``; the architecture
is written here once in ``lib.nn`` (EfficientNet-Lite0: MBConv blocks without squeeze-excitation, ReLU6,
BatchNorm eps 1e-3; symmetric padding instead of TensorFlow's "same", which costs the same), so both
libraries run the same model. Images are 64x64 (not 224) to keep a step of the NumPy backend in seconds."""
from __future__ import annotations

from workloads import Workload

# (expand ratio, kernel, stride, in channels, out channels, repeats) of EfficientNet-Lite0's seven stages.
LITE0_STAGES = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
                (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]
BATCH, SIZE, CLASSES = 32, 64, 10


def _conv_bn(nn, c_in, c_out, k, stride=1, groups=1, act=True):
    layers = [nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(c_out, eps=1e-3)]
    return layers + ([nn.ReLU6()] if act else [])


def efficientnet_lite0(lib, num_classes: int = CLASSES):
    nn = lib.nn

    class MBConv(nn.Module):
        def __init__(self, expand, k, stride, c_in, c_out):
            super().__init__()
            hidden = c_in * expand
            layers = _conv_bn(nn, c_in, hidden, 1) if expand != 1 else []
            layers += _conv_bn(nn, hidden, hidden, k, stride, groups=hidden)
            layers += _conv_bn(nn, hidden, c_out, 1, act=False)
            self.block = nn.Sequential(*layers)
            self.residual = stride == 1 and c_in == c_out

        def forward(self, x):
            out = self.block(x)
            return out + x if self.residual else out

    blocks = []
    for expand, k, stride, c_in, c_out, n in LITE0_STAGES:
        blocks += [MBConv(expand, k, stride if i == 0 else 1, c_in if i == 0 else c_out, c_out) for i in range(n)]
    features = nn.Sequential(*_conv_bn(nn, 3, 32, 3, 2), *blocks, *_conv_bn(nn, 320, 1280, 1))
    return nn.Sequential(features, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                         nn.Linear(1280, num_classes))


def _finetune_step(lib, frozen: bool):
    lib.manual_seed(0)
    model = efficientnet_lite0(lib)
    body, head = model[0], model[4]
    if frozen:
        for p in body.parameters():
            p.requires_grad_(False)
    model.train()
    if frozen:
        body.eval()      # frozen BatchNorm keeps its pretrained statistics
    params = [p for p in model.parameters() if p.requires_grad]
    opt = lib.optim.AdamW(params, lr=1e-3)
    x = lib.randn(BATCH, 3, SIZE, SIZE)
    y = lib.randint(0, CLASSES, (BATCH,))

    def step():
        opt.zero_grad()
        lib.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def lite0_frozen_body(lib):
    return _finetune_step(lib, frozen=True)


def lite0_full(lib):
    return _finetune_step(lib, frozen=False)


ALL = [
    Workload("fine-tune step of EfficientNet-Lite0 (frozen body), batch 32 at 64x64", lite0_frozen_body, 2.0),
    Workload("fine-tune step of EfficientNet-Lite0 (full), batch 32 at 64x64", lite0_full, 2.0),
]
