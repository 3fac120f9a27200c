"""From a data spec to training and validation tensors: registry lookup, splits, preprocessing, checks.

A data spec is either a registered dataset (``"vision:digits"``, ``"toy:blobs"``) or ``SCHEME:PATH``
for the user's own files, where SCHEME is declared by a plugin's dataset registration
(``registry.add("image_folder", ImageFolder, data_spec="imagefolder")``): ``imagefolder:DIR``
builds ``ImageFolder(DIR)``. Nothing here knows a plugin: the number of classes and their names come
from the dataset (``classes``, else the registration's ``num_classes``, else the labels), the
preprocessing from the model's weights (``weights.transforms()``).

>>> spec_scheme("imagefolder:/data/flowers")
('imagefolder', '/data/flowers')
>>> spec_scheme("vision:digits")
('vision', 'digits')
"""
from __future__ import annotations

import inspect
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .. import hub
from ..plugins import get_registry
from ..plugins.weights import ember_home, is_offline

__all__ = ["FinetuneData", "resolve_data", "spec_scheme", "data_schemes", "build_dataset", "preprocessing",
           "DataError"]

# Above this many bytes of preprocessed inputs, samples are preprocessed batch by batch instead of once.
_MATERIALIZE_LIMIT = 1 << 29


class DataError(ValueError):
    """The data can't be used for this model; the message says what to do."""


@dataclass
class FinetuneData:
    """What the trainer needs: datasets of preprocessed ``(input, target)`` pairs and the class names."""

    train: Any
    val: Any
    classes: list[str]
    modality: str | None
    collate_fn: Callable | None = None

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def spec_scheme(spec: str) -> tuple[str, str]:
    """Split ``"scheme:rest"`` at the first colon (a Windows drive letter stays in the path)."""
    scheme, sep, rest = spec.partition(":")
    if not sep or not scheme or not rest:
        raise DataError(f"data {spec!r}: expected a registered dataset ('vision:digits') or SCHEME:PATH "
                        f"('imagefolder:photos/'); known schemes: {', '.join(sorted(data_schemes())) or 'none'}")
    return scheme, rest


def data_schemes() -> dict[str, Any]:
    """SCHEME -> the dataset entry that reads ``SCHEME:PATH`` (registered with ``data_spec=SCHEME``)."""
    return {e.metadata["data_spec"]: e for e in get_registry("datasets").entries() if e.metadata.get("data_spec")}


def _params(cls) -> dict:
    try:
        return dict(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        return {}


def build_dataset(spec: str, split: str, options: dict | None = None):
    """``(dataset, entry)`` for ``spec``; ``split`` is ``"train"`` or ``"test"``. For ``"test"`` the result is
    ``None`` when the dataset has no test split (folders and files have none)."""
    options = dict(options or {})
    scheme, rest = spec_scheme(spec)
    schemes = data_schemes()
    if scheme in schemes:
        if split != "train":
            return None, schemes[scheme]
        entry = schemes[scheme]
        path = os.path.expanduser(rest)
        if not os.path.exists(path):
            raise FileNotFoundError(f"data {spec!r}: {path} does not exist")
        return _construct(entry, spec, [path], options), entry
    entry = hub.get_entry("datasets", spec)
    params = _params(entry.obj)
    if "train" in params:
        options.setdefault("train", split == "train")
    elif "split" in params:
        names = entry.metadata.get("splits") or ("train", "test")
        wanted = "train" if split == "train" else next((s for s in ("test", "valid", "validation", "val")
                                                        if s in names), None)
        if wanted is None:
            return None, entry
        options.setdefault("split", wanted)
    elif split != "train":
        return None, entry
    if "root" in params and "root" not in options:
        options["root"] = str(ember_home() / "datasets")
    if "download" in params and "download" not in options:
        options["download"] = not is_offline()
    return _construct(entry, spec, [], options), entry


def _construct(entry, spec: str, args: list, options: dict):
    params = _params(entry.obj)
    has_var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
    unknown = [k for k in options if params and k not in params and not has_var_kw]
    if unknown:
        raise DataError(f"data {spec!r}: {entry.canonical} takes no option {', '.join(map(repr, unknown))}; its "
                        f"options are {', '.join(k for k in params if k != 'self')}")
    try:
        return entry.obj(*args, **options)
    except FileNotFoundError as e:   # an empty class folder, a missing file: the plugin's message, then what to do
        raise FileNotFoundError(f"data {spec!r}: {e} Every class needs at least one sample: add files to the "
                                "empty folders or remove them.") from e


# ---- class names and targets ---------------------------------------------------------------------------

def _targets(ds) -> np.ndarray:
    t = getattr(ds, "targets", None)
    if t is not None:
        return np.asarray(t.numpy() if hasattr(t, "numpy") else t).reshape(-1).astype(np.int64)
    return np.array([int(_item(ds, i)[1]) for i in range(len(ds))], dtype=np.int64)


def _item(ds, i):
    sample = ds[i]
    if not isinstance(sample, (tuple, list)) or len(sample) != 2:
        raise DataError(f"fine-tuning needs (input, label) samples; {type(ds).__name__}[{i}] is "
                        f"{type(sample).__name__}")
    return sample


def class_names(ds, entry, targets: np.ndarray) -> list[str]:
    """The dataset's ``classes``, else ``num_classes`` from its registration, else the labels' range."""
    names = getattr(ds, "classes", None)
    if names:
        return [str(c) for c in names]
    n = entry.metadata.get("num_classes")
    if n is None:
        n = int(targets.max()) + 1 if targets.size else 0
    return [str(i) for i in range(n)]


def check_labels(targets: np.ndarray, classes: Sequence[str], spec: str, every_class: bool = True) -> None:
    """Labels must index the classes, and (training data) every class must have samples."""
    if targets.size == 0:
        raise DataError(f"data {spec!r} holds no samples")
    lo, hi = int(targets.min()), int(targets.max())
    if lo < 0 or hi >= len(classes):
        raise DataError(f"data {spec!r}: labels range over {lo}..{hi} but the data names {len(classes)} classes; "
                        f"the classifier head needs labels 0..{len(classes) - 1}: fix the labels or the class "
                        "list (for a CSV: --data-option num_classes=N or classes)")
    if not every_class:
        return
    counts = np.bincount(targets, minlength=len(classes))
    empty = [classes[i] for i in np.flatnonzero(counts == 0)]
    if empty:
        raise DataError(f"data {spec!r}: class(es) {', '.join(map(repr, empty[:5]))} have no samples; remove them "
                        "from the data or add samples (a head can't learn a class it never sees)")


# ---- preprocessing ----------------------------------------------------------------------------------------

def preprocessing(weights, image_size: int | None = None) -> Callable | None:
    """The weights' own transforms (``weights.transforms()``), resized to ``image_size`` when given."""
    if weights is None or weights.transforms is None:
        if image_size is not None:
            raise DataError("--image-size needs weights whose transforms resize (these weights have no transforms)")
        return None
    if image_size is None:
        return weights.transforms()
    try:
        return weights.transforms(crop_size=image_size, resize_size=image_size)
    except TypeError as e:
        raise DataError(f"--image-size: the weights' transforms take no crop_size/resize_size ({e})") from e


def _channels_first(x):
    """An image (PIL image, array or tensor) as a uint8/float tensor ``(C, H, W)``; PIL images are read with
    ``numpy.asarray``, so the core needs no imaging library."""
    from .. import Tensor, from_numpy
    if isinstance(x, Tensor):
        return x.unsqueeze(0) if x.dim() == 2 else x
    a = np.asarray(x)
    if a.ndim == 2:
        a = a[None]
    elif a.ndim == 3 and a.shape[-1] in (1, 3, 4) and a.shape[0] not in (1, 3, 4):
        a = a.transpose(2, 0, 1)     # HWC (PIL's layout) -> CHW
    return from_numpy(np.ascontiguousarray(a))


def adapt_channels(x, channels: int):
    """An image ``(C, H, W)`` with ``channels`` channels: grey repeated for a colour model (the usual way to
    reuse ImageNet weights), colour turned grey (ITU-R 601 luma, as Grayscale transforms do) for a grey one."""
    from .. import tensor, uint8
    x = _channels_first(x)
    have = int(x.shape[0])
    if have == channels:
        return x
    if have == 1:
        return x.expand(channels, *x.shape[1:]).contiguous()
    if have in (3, 4) and channels == 1:
        luma = tensor([0.299, 0.587, 0.114]).reshape(3, 1, 1)
        grey = (x[:3].float() * luma).sum(0, keepdim=True)
        return grey.round().clamp(0, 255).to(uint8) if x.dtype == uint8 else grey
    raise DataError(f"the model takes {channels}-channel images and the data has {have} channels; only grey and "
                    "RGB images are adapted")


def channel_adapter(model_channels: int | None, data_channels: int | None) -> Callable | None:
    """:func:`adapt_channels` for the model's channel count, when the data's differs."""
    if model_channels is None or data_channels is None or model_channels == data_channels:
        return None
    return lambda x: adapt_channels(x, model_channels)


def _to_float_image(x):
    """Without weights' transforms: an image as a float tensor in [0, 1], ``(C, H, W)``."""
    from .. import float32, uint8
    x = _channels_first(x)
    return x.to(float32) / 255.0 if x.dtype == uint8 else x.to(float32)


def _compose(*fns):
    fns = [f for f in fns if f is not None]

    def apply(x):
        for f in fns:
            x = f(x)
        return x
    return apply if fns else None


class Preprocessed:
    """A dataset whose inputs pass through ``fn`` (labels as int64 scalars)."""

    def __init__(self, ds, fn: Callable | None, indices: Sequence[int] | None = None):
        self.ds, self.fn = ds, fn
        self.indices = list(range(len(ds))) if indices is None else list(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i):
        from .. import tensor, int64
        x, y = _item(self.ds, self.indices[i])
        return (self.fn(x) if self.fn is not None else x), tensor(int(y), dtype=int64)


def _materialize(data: Preprocessed, what: str, stack_inputs: bool = True):
    """Preprocess every sample once (fine-tuning reads each many times): into stacked tensors, or, for a
    preprocessing whose outputs vary in size (``stack_inputs=False``: token ids, batched by its own
    ``collate``), into a list of samples."""
    from .. import Tensor, stack
    from ..utils.data import TensorDataset
    first = data[0][0] if len(data) else None
    if not isinstance(first, Tensor):
        return data
    if first.numel() * first.element_size() * len(data) > _MATERIALIZE_LIMIT:
        return data
    samples = [data[i] for i in range(len(data))]
    if not stack_inputs:
        return samples
    xs, ys = zip(*samples)
    check_same_shape(xs, what)
    return TensorDataset(stack(list(xs)), stack(list(ys)))


def check_same_shape(xs, what: str) -> None:
    shapes = {tuple(x.shape) for x in xs}
    if len(shapes) > 1:
        a, b = sorted(shapes)[:2]
        raise DataError(f"{what}: inputs of different sizes after preprocessing ({'x'.join(map(str, a))} and "
                        f"{'x'.join(map(str, b))}); images must be resized to one size: pass --image-size N, or "
                        "use weights whose transforms resize")


def collate(batch):
    """``default_collate`` with the mixed-size error explained for fine-tuning."""
    from ..utils.data import default_collate
    check_same_shape([x for x, _ in batch], "a batch")
    return default_collate(batch)


# ---- putting it together ---------------------------------------------------------------------------------

def _subset(n: int, limit: int | None, seed: int) -> list[int]:
    idx = np.random.default_rng(seed).permutation(n) if limit is not None and limit < n else np.arange(n)
    return sorted(int(i) for i in idx[: limit if limit is not None else n])


def _data_channels(entry, ds) -> int | None:
    size = entry.metadata.get("image_size")
    if size:
        return int(size[0])
    if entry.metadata.get("modality") != "image" or len(ds) == 0:
        return None
    return int(_channels_first(_item(ds, 0)[0]).shape[0])


def resolve_data(cfg, model_entry, weights) -> FinetuneData:
    """Train and validation sets for ``cfg`` (a :class:`FinetuneConfig`), preprocessed for ``weights``."""
    train_ds, entry = build_dataset(cfg.data, "train", cfg.data_options)
    targets = _targets(train_ds)
    classes = class_names(train_ds, entry, targets)
    check_labels(targets, classes, cfg.data)

    if cfg.val_data is not None:
        val_ds, _ = build_dataset(cfg.val_data, "train" if cfg.val_data != cfg.data else "test", cfg.data_options)
        train_idx, val_idx = list(range(len(train_ds))), None
    elif cfg.val_split is None and (val_ds := build_dataset(cfg.data, "test", cfg.data_options)[0]) is not None:
        train_idx, val_idx = list(range(len(train_ds))), None
    else:
        frac = cfg.val_split if cfg.val_split is not None else 0.1
        perm = np.random.default_rng(cfg.seed).permutation(len(train_ds))
        n_val = max(1, int(math.floor(frac * len(train_ds))))
        val_ds, val_idx, train_idx = train_ds, sorted(perm[:n_val].tolist()), sorted(perm[n_val:].tolist())
    if val_idx is None:
        val_idx = list(range(len(val_ds)))
        check_labels(_targets(val_ds), classes, cfg.val_data or cfg.data, every_class=False)
    train_idx = [train_idx[i] for i in _subset(len(train_idx), cfg.max_train_samples, cfg.seed)]
    val_idx = [val_idx[i] for i in _subset(len(val_idx), cfg.max_val_samples, cfg.seed + 1)]

    input_size = model_entry.metadata.get("input_size")
    pre = preprocessing(weights, cfg.image_size)
    if pre is None and entry.metadata.get("modality") == "image":
        pre = _to_float_image
    fn = _compose(channel_adapter(int(input_size[0]) if input_size else None, _data_channels(entry, train_ds)), pre)
    # A preprocessing with variable-size outputs (token ids) batches them itself: ``pre.collate(batch)``.
    own_collate = getattr(pre, "collate", None)
    train = _materialize(Preprocessed(train_ds, fn, train_idx), f"data {cfg.data!r}", own_collate is None)
    val = _materialize(Preprocessed(val_ds, fn, val_idx), f"data {cfg.val_data or cfg.data!r}", own_collate is None)
    return FinetuneData(train, val, classes, entry.metadata.get("modality"), own_collate or collate)
