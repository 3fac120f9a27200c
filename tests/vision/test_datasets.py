"""ember_vision.datasets: IDX / CIFAR readers and their validation, folders, FakeData, Digits,
local-copy-then-network downloads, real Fashion-MNIST, and the plugin's registration hooks."""
import gzip
import hashlib
import importlib.metadata
import io
import os
import pickle
import struct
import subprocess
import sys
import tarfile
import types
import zipfile

import numpy as np
import pytest
from PIL import Image

import ember
from ember.serialization import UnsafeUnpicklingError
from ember.utils.data import DataLoader, Dataset

import ember_vision
from ember_vision import _plugin
from ember_vision.datasets import (CIFAR10, CIFAR100, EMNIST, KMNIST, MNIST, DatasetFolder, DatasetFormatError,
                                   DatasetNotFoundError, Digits, FakeData, FashionMNIST, ImageFolder, VisionDataset)
from ember_vision.datasets import _registry as dataset_registry
from ember_vision.datasets import cifar, utils
from ember_vision.datasets.mnist import read_idx, read_image_file, read_label_file

# ---- IDX files written by the test ----------------------------------------------------------------

_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B, np.dtype(np.int32): 0x0C,
          np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def idx_bytes(arr: np.ndarray) -> bytes:
    """The IDX encoding of ``arr``, written independently of the reader: header, then big-endian data."""
    header = bytes([0, 0, _CODES[arr.dtype], arr.ndim]) + b"".join(struct.pack(">I", n) for n in arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write(path, data: bytes, compress: bool = False, mtime: int = 0) -> str:
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(gzip.compress(data, mtime=mtime) if compress else data)
    return path


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def fake_split(rng, n, classes=10, size=28):
    return rng.integers(0, 256, (n, size, size), dtype=np.uint8), rng.integers(0, classes, n, dtype=np.uint8)


def make_mnist_tree(root, name="MNIST", n_train=12, n_test=7, gz_train=True, gz_test=False, prefix=None, classes=10):
    """``root/<name>/raw`` with train (gzip) and test (plain) IDX files; returns the arrays written."""
    rng = np.random.default_rng(0)
    raw = os.path.join(root, name, "raw")
    out = {}
    for split, n, compress in (("train", n_train, gz_train), ("t10k" if prefix is None else "test", n_test, gz_test)):
        images, labels = fake_split(rng, n, classes)
        stem = f"{split}" if prefix is None else f"{prefix}-{split}"
        write(os.path.join(raw, f"{stem}-images-idx3-ubyte" + (".gz" if compress else "")), idx_bytes(images), compress)
        write(os.path.join(raw, f"{stem}-labels-idx1-ubyte" + (".gz" if compress else "")), idx_bytes(labels), compress)
        out[split] = (images, labels)
    return out


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype, shape", [(np.uint8, (5,)), (np.uint8, (3, 4, 2)), (np.int8, (6,)),
                                          (np.int16, (2, 3)), (np.int32, (4, 2)), (np.float32, (3,)),
                                          (np.float64, (2, 2))])
def test_read_idx_round_trip(tmp_path, compress, dtype, shape):
    arr = (np.arange(np.prod(shape)) * 37 - 50).reshape(shape).astype(dtype)
    path = write(tmp_path / "x.idx", idx_bytes(arr), compress)
    got = read_idx(path)
    assert got.dtype == np.dtype(dtype).newbyteorder("=") and got.dtype.isnative and got.flags.writeable
    np.testing.assert_array_equal(got, arr)


@pytest.mark.parametrize("compress", [False, True])
def test_read_image_and_label_files(tmp_path, compress):
    images, labels = fake_split(np.random.default_rng(1), 9)
    img = read_image_file(write(tmp_path / "i", idx_bytes(images), compress))
    lab = read_label_file(write(tmp_path / "l", idx_bytes(labels), compress))
    assert img.dtype == ember.uint8 and tuple(img.shape) == (9, 28, 28)
    assert lab.dtype == ember.int64 and tuple(lab.shape) == (9,)
    np.testing.assert_array_equal(img.numpy(), images)
    np.testing.assert_array_equal(lab.numpy(), labels)


_LABELS = idx_bytes(np.arange(4, dtype=np.uint8))
_IMAGES = idx_bytes(np.zeros((2, 3, 3), np.uint8))


@pytest.mark.parametrize("data, expected, match", [
    (b"\x00\x00", 2049, r"too short for an IDX header \(2 bytes\)"),
    (b"PK\x03\x04" + _LABELS[4:], 2049, r"bad magic number 0x504b0304: not an IDX file"),
    (_IMAGES, 2049, r"bad magic number 2051 \(uint8, 3 dimensions\); expected 2049 \(uint8, 1 dimension\); the file "
                    r"holds images, not labels \(were the files swapped\?\)"),
    (_LABELS, 2051, r"bad magic number 2049 .* expected 2051 .*holds labels, not images"),
    (b"\x00\x00\x07\x01" + _LABELS[4:], None, r"unknown element type 0x07"),
    (b"\x00\x00\x08\x00", None, r"the header declares 0 dimensions"),
    (_IMAGES[:10], 2051, r"truncated header: 3 dimensions need 16 bytes, the file has 10"),
    (_IMAGES[:-1], 2051, r"size mismatch \(truncated\): the header declares 2 x 3 x 3 uint8 = 18 bytes of data, "
                         r"the file holds 17"),
    (_LABELS + b"\x00\x00", 2049, r"size mismatch \(2 unexpected trailing bytes\).* 4 bytes of data, the file holds 6"),
])
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_validation_errors_name_file_and_problem(tmp_path, data, expected, match, compress):
    path = write(tmp_path / "broken-idx1-ubyte", data, compress)
    with pytest.raises(DatasetFormatError, match=match) as info:
        read_idx(path, expected)
    assert f"malformed IDX file {path!r}" in str(info.value)


def test_read_idx_corrupt_gzip(tmp_path):
    good = gzip.compress(_IMAGES)
    for data, what in ((good[:-6], "truncated"), (good[:12] + b"\xff" * 20 + good[32:], "corrupt")):
        path = write(tmp_path / f"{what}.gz", data)
        with pytest.raises(DatasetFormatError, match=rf"{path!r}: corrupt or truncated gzip data"):
            read_idx(path)


# ---- MNIST-style datasets --------------------------------------------------------------------------

def test_mnist_reads_torchvision_layout_gzip_or_not(tmp_path):
    written = make_mnist_tree(tmp_path)  # train gzip-compressed, test plain
    for train, (images, labels) in ((True, written["train"]), (False, written["t10k"])):
        ds = MNIST(tmp_path, train=train)
        assert isinstance(ds, Dataset) and len(ds) == len(labels)
        assert ds.data.dtype == ember.uint8 and tuple(ds.data.shape) == images.shape
        assert ds.targets.dtype == ember.int64
        np.testing.assert_array_equal(ds.data.numpy(), images)
        np.testing.assert_array_equal(ds.targets.numpy(), labels)
        img, target = ds[3]
        assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
        assert type(target) is int and target == labels[3]
        np.testing.assert_array_equal(np.asarray(img), images[3])
    assert ds.classes[0] == "0 - zero" and ds.class_to_idx["9 - nine"] == 9
    assert ds.raw_folder == os.path.join(str(tmp_path), "MNIST", "raw")
    assert repr(ds).splitlines() == ["Dataset MNIST", "    Number of datapoints: 7",
                                     f"    Root location: {tmp_path}", "    Split: Test"]


def test_mnist_transforms_and_dataloader(tmp_path):
    images, labels = make_mnist_tree(tmp_path)["train"]
    to_tensor = lambda im: ember.from_numpy(np.asarray(im, dtype=np.float32) / 255)  # noqa: E731
    ds = MNIST(str(tmp_path), transform=to_tensor, target_transform=lambda t: t + 100)
    x, y = ds[0]
    assert y == labels[0] + 100
    np.testing.assert_allclose(x.numpy(), images[0] / 255, rtol=1e-6)
    xb, yb = next(iter(DataLoader(ds, batch_size=5)))
    assert tuple(xb.shape) == (5, 28, 28) and xb.dtype == ember.float32
    np.testing.assert_array_equal(yb.numpy(), labels[:5].astype(np.int64) + 100)
    assert "Transform: <function" in repr(ds) and "Target transform: <function" in repr(ds)


def test_data_attribute_can_be_replaced(tmp_path):  # a common idiom: ds.data, ds.targets = subset
    make_mnist_tree(tmp_path)
    ds = MNIST(tmp_path)
    ds.data, ds.targets = ds.data[:4], ds.targets[:4]
    assert len(ds) == 4 and ds[3][1] == int(ds.targets[3])
    ds.data = ds.data.numpy()
    assert np.asarray(ds[2][0]).tolist() == ds.data[2].tolist()


@pytest.mark.parametrize("cls, n_classes, first", [(FashionMNIST, 10, "T-shirt/top"), (KMNIST, 10, "o")])
def test_mnist_family_layouts(tmp_path, cls, n_classes, first):
    images, labels = make_mnist_tree(tmp_path, name=cls.__name__)["t10k"]
    ds = cls(tmp_path, train=False)
    assert len(ds.classes) == n_classes and ds.classes[0] == first
    np.testing.assert_array_equal(ds.targets.numpy(), labels)


def test_emnist_splits(tmp_path):
    written = make_mnist_tree(tmp_path, name="EMNIST", prefix="emnist-letters", classes=27)
    ds = EMNIST(tmp_path, split="letters", train=False)
    assert ds.classes[:3] == ["N/A", "a", "b"] and len(ds.classes) == 27
    np.testing.assert_array_equal(ds.targets.numpy(), written["test"][1])
    assert len(EMNIST(tmp_path, split="letters")) == len(written["train"][1])
    assert len(EMNIST.classes_split_dict["byclass"]) == 62 and len(EMNIST.classes_split_dict["balanced"]) == 47
    with pytest.raises(ValueError, match=r"Unknown value 'letter' for argument split. Valid values are \{'byclass'"):
        EMNIST(tmp_path, split="letter")
    with pytest.raises(DatasetNotFoundError, match=r"emnist-digits-test-images-idx3-ubyte"):
        EMNIST(tmp_path, split="digits", train=False)


def test_image_and_label_counts_must_match(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    img = write(raw / "t10k-images-idx3-ubyte", idx_bytes(np.zeros((3, 28, 28), np.uint8)))
    lab = write(raw / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(4, np.uint8)), compress=True)
    with pytest.raises(DatasetFormatError, match=rf"MNIST: 3 images in {img!r} but 4 labels in {lab!r}"):
        MNIST(tmp_path, train=False)


def test_labels_must_name_a_class(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write(raw / "t10k-images-idx3-ubyte", idx_bytes(np.zeros((2, 28, 28), np.uint8)))
    lab = write(raw / "t10k-labels-idx1-ubyte", idx_bytes(np.array([3, 12], np.uint8)))
    with pytest.raises(DatasetFormatError, match=rf"{lab!r} holds label 12, but the dataset has only 10 classes"):
        MNIST(tmp_path, train=False)


def test_swapped_files_are_reported(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write(raw / "t10k-labels-idx1-ubyte", idx_bytes(np.zeros((2, 28, 28), np.uint8)))
    write(raw / "t10k-images-idx3-ubyte", idx_bytes(np.zeros(2, np.uint8)))
    with pytest.raises(DatasetFormatError, match=r"t10k-images-idx3-ubyte'.*holds labels, not images"):
        MNIST(tmp_path, train=False)


def test_missing_files_without_download_list_expected_paths(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        FashionMNIST(tmp_path, train=True)
    msg, raw = str(info.value), os.path.join(str(tmp_path), "FashionMNIST", "raw")
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, FileNotFoundError)
    assert "download=True" in msg
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        assert os.path.join(raw, name) in msg and f"{name}.gz" in msg
    assert "t10k" not in msg  # only the files this split needs


# ---- download: local copies first, then the network -------------------------------------------------

def _tiny_mnist_class(src_dir, gz_files, mirrors=(), raw_md5=None):
    """An MNIST subclass whose published md5s are those of the files the test wrote."""
    return type("TinyMNIST", (MNIST,), {
        "resources": [(name, md5(data)) for name, data in gz_files.items()],
        "raw_md5": raw_md5 or {}, "mirrors": list(mirrors), "local_dirs": (str(src_dir),)})


@pytest.fixture
def offline(monkeypatch):
    """No network: every URL fails (and the calls are recorded)."""
    calls = []

    def fail(url, timeout):
        calls.append(url)
        raise utils.urllib.error.URLError("network is unreachable (test)")
    monkeypatch.setattr(utils, "_urlopen", fail)
    monkeypatch.delenv(utils.DATA_PATH_ENV, raising=False)
    return calls


@pytest.fixture
def tiny_files():
    images, labels = fake_split(np.random.default_rng(2), 5)
    plain = {"train-images-idx3-ubyte": idx_bytes(images), "train-labels-idx1-ubyte": idx_bytes(labels),
             "t10k-images-idx3-ubyte": idx_bytes(images[:2]), "t10k-labels-idx1-ubyte": idx_bytes(labels[:2])}
    gz = {name + ".gz": gzip.compress(data, mtime=1) for name, data in plain.items()}
    return plain, gz, (images, labels)


def test_download_copies_verified_local_files(tmp_path, offline, tiny_files):
    plain, gz, (images, labels) = tiny_files
    src = tmp_path / "src"
    for name, data in gz.items():
        write(src / name, data)
    ds = _tiny_mnist_class(src, gz)(tmp_path / "root", download=True)
    np.testing.assert_array_equal(ds.data.numpy(), images)
    raw = tmp_path / "root" / "TinyMNIST" / "raw"
    assert sorted(os.listdir(raw)) == sorted([*plain, *gz])  # .gz kept and extracted, as torchvision does
    assert (raw / "t10k-labels-idx1-ubyte").read_bytes() == plain["t10k-labels-idx1-ubyte"]
    assert offline == []
    umask = os.umask(0o22)
    os.umask(umask)
    assert {os.stat(raw / f).st_mode & 0o777 for f in os.listdir(raw)} == {0o666 & ~umask}  # not private files


def test_download_recognises_recompressed_and_uncompressed_copies_by_content(tmp_path, offline, tiny_files):
    plain, gz, (images, labels) = tiny_files
    src = tmp_path / "src"
    # Debian recompresses the files (a different gzip header): the content md5 identifies them.
    write(src / "train-images-idx3-ubyte.gz", plain["train-images-idx3-ubyte"], compress=True, mtime=12345)
    write(src / "train-labels-idx1-ubyte", plain["train-labels-idx1-ubyte"])  # an uncompressed copy
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        write(src / name, gz[name])
    cls = _tiny_mnist_class(src, gz, raw_md5={n: md5(d) for n, d in plain.items()})
    ds = cls(tmp_path / "root", download=True)
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    # without content checksums the recompressed copy is not trusted
    with pytest.raises(DatasetNotFoundError, match=r"train-images-idx3-ubyte.gz: checksum mismatch"):
        _tiny_mnist_class(src, gz)(tmp_path / "other", download=True)


def test_download_searches_ember_data_path(tmp_path, offline, tiny_files, monkeypatch):
    _, gz, (images, _) = tiny_files
    for name, data in gz.items():
        write(tmp_path / "shared" / "TinyMNIST" / "raw" / name, data)
    monkeypatch.setenv(utils.DATA_PATH_ENV, str(tmp_path / "shared"))
    ds = _tiny_mnist_class(tmp_path / "nowhere", gz)(tmp_path / "root", train=False, download=True)
    np.testing.assert_array_equal(ds.data.numpy(), images[:2])


def test_download_falls_back_to_mirrors_with_md5_check(tmp_path, monkeypatch, tiny_files):
    _, gz, (images, _) = tiny_files
    monkeypatch.delenv(utils.DATA_PATH_ENV, raising=False)
    served = dict(gz, **{"t10k-labels-idx1-ubyte.gz": b"tampered"})
    urls = []

    def fake_urlopen(url, timeout):
        urls.append(url)
        name = url.rsplit("/", 1)[1]
        if url.startswith("https://down.example/"):
            raise utils.urllib.error.URLError("mirror down")
        return io.BytesIO(served[name])
    monkeypatch.setattr(utils, "_urlopen", fake_urlopen)
    cls = _tiny_mnist_class(tmp_path / "empty", gz, mirrors=["https://down.example/", "https://up.example/"])
    with pytest.raises(DatasetNotFoundError) as info:
        cls(tmp_path / "root", download=True)
    msg = str(info.value)
    assert "could not get t10k-labels-idx1-ubyte.gz." in msg
    assert "https://down.example/t10k-labels-idx1-ubyte.gz: skipped (https://down.example/ was unreachable)" in msg
    assert urls.count("https://down.example/train-images-idx3-ubyte.gz") == 1 and len(urls) == 5
    url = "https://up.example/t10k-labels-idx1-ubyte.gz"
    published = md5(gz["t10k-labels-idx1-ubyte.gz"])
    assert f"{url}: RuntimeError: {url}: checksum mismatch (md5 {md5(b'tampered')}, expected {published})" in msg
    raw = tmp_path / "root" / "TinyMNIST" / "raw"
    assert not (raw / "t10k-labels-idx1-ubyte.gz").exists()  # a bad download never lands
    assert not [f for f in os.listdir(raw) if f.endswith(".part")]
    ds = cls(tmp_path / "root", train=True)  # the files that did verify are usable
    np.testing.assert_array_equal(ds.data.numpy(), images)


def test_download_without_network_lists_expected_files(tmp_path, offline):
    with pytest.raises(DatasetNotFoundError) as info:
        KMNIST(tmp_path, download=True)
    msg, raw = str(info.value), os.path.join(str(tmp_path), "KMNIST", "raw")
    assert msg.startswith("KMNIST: could not get train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                          "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz.")
    mirror = "http://codh.rois.ac.jp/kmnist/dataset/kmnist/"
    assert f"{mirror}train-images-idx3-ubyte.gz: URLError" in msg
    # an unreachable host is tried once, not once per file (each try can wait for a timeout)
    assert f"{mirror}t10k-images-idx3-ubyte.gz: skipped ({mirror} was unreachable)" in msg
    assert offline == [f"{mirror}train-images-idx3-ubyte.gz"]
    for name, _ in KMNIST.resources:
        assert f"{os.path.join(raw, name)}  (or {name[:-3]})" in msg
    assert "$EMBER_DATA_PATH" in msg


def serve(monkeypatch, files: dict):
    """Fake network: ``files`` maps URLs to bytes; other URLs fail."""
    def urlopen(url, timeout):
        if url not in files:
            raise utils.urllib.error.HTTPError(url, 404, "Not Found", None, None)
        return io.BytesIO(files[url])
    monkeypatch.setattr(utils, "_urlopen", urlopen)
    monkeypatch.delenv(utils.DATA_PATH_ENV, raising=False)


def test_emnist_download_unpacks_nists_archive(tmp_path, monkeypatch):
    images, labels = fake_split(np.random.default_rng(6), 3)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("gzip/emnist-digits-test-images-idx3-ubyte.gz", gzip.compress(idx_bytes(images)))
        z.writestr("gzip/emnist-digits-test-labels-idx1-ubyte.gz", gzip.compress(idx_bytes(labels)))
    archive = buf.getvalue()
    serve(monkeypatch, {"https://nist.example/emnist/gzip.zip": archive})
    cls = type("TinyEMNIST", (EMNIST,), {"url": "https://nist.example/emnist/gzip.zip", "md5": md5(archive)})
    ds = cls(tmp_path, split="digits", train=False, download=True)
    np.testing.assert_array_equal(ds.data.numpy(), images)
    assert sorted(os.listdir(tmp_path / "TinyEMNIST" / "raw")) == [
        "emnist-digits-test-images-idx3-ubyte", "emnist-digits-test-labels-idx1-ubyte", "gzip.zip"]
    with pytest.raises(DatasetNotFoundError, match=r"(?s)gzip.zip: HTTPError.*Or put this split's files there "
                                                   r"directly:.*emnist-mnist-train-labels-idx1-ubyte"):
        type("OtherEMNIST", (cls,), {"url": "https://nist.example/moved/gzip.zip"})(tmp_path, split="mnist",
                                                                                  download=True)
    with pytest.raises(DatasetFormatError, match=r"gzip.zip' holds no emnist-mnist-train-images-idx3-ubyte or "):
        cls(tmp_path, split="mnist", download=True)


def test_cifar_download_verifies_and_unpacks_the_archive(tmp_path, monkeypatch):
    make_cifar10(tmp_path / "src")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    archive = buf.getvalue()
    serve(monkeypatch, {"https://toronto.example/c10.tar.gz": archive})
    cls = type("TinyCIFAR10", (CIFAR10,), {"url": "https://toronto.example/c10.tar.gz", "filename": "c10.tar.gz",
                                           "tgz_md5": md5(archive)})
    ds = cls(tmp_path / "root", train=False, download=True)
    assert len(ds) == 3 and os.path.isfile(tmp_path / "root" / "c10.tar.gz")
    bad = type("BadCIFAR10", (cls,), {"tgz_md5": "0" * 32})
    with pytest.raises(DatasetNotFoundError, match=r"c10.tar.gz: RuntimeError: .*checksum mismatch"):
        bad(tmp_path / "other", download=True)


def test_extract_archive_refuses_paths_outside_the_target(tmp_path):
    evil_zip = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil_zip, "w") as z:
        z.writestr("../outside.txt", "x")
    with pytest.raises(DatasetFormatError, match=r"refusing to extract '../outside.txt' outside"):
        utils.extract_archive(evil_zip, tmp_path / "out")
    evil_tar = tmp_path / "evil.tar"
    with tarfile.open(evil_tar, "w") as tar:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(tarfile.OutsideDestinationError):
        utils.extract_archive(evil_tar, tmp_path / "out")
    assert not (tmp_path / "outside.txt").exists()


# ---- real Fashion-MNIST (Debian package dataset-fashion-mnist) ---------------------------------------

DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(not os.path.isdir(DEBIAN_FASHION_MNIST),
                    reason=f"real Fashion-MNIST not installed ({DEBIAN_FASHION_MNIST} is missing; "
                           "`apt-get install dataset-fashion-mnist` provides it)")
def test_real_fashion_mnist_from_debian_package(tmp_path, offline):
    test = FashionMNIST(tmp_path, train=False, download=True)  # copied (and verified) from the package
    assert offline == []
    assert len(test) == 10_000 and tuple(test.data.shape) == (10_000, 28, 28)
    counts = np.bincount(test.targets.numpy(), minlength=10)
    assert counts.tolist() == [1000] * 10  # the test set is balanced
    assert test.targets[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    img, target = test[0]
    assert img.mode == "L" and target == 9 and test.classes[target] == "Ankle boot"
    train = FashionMNIST(tmp_path, train=True)
    assert len(train) == 60_000 and np.bincount(train.targets.numpy()).tolist() == [6000] * 10
    # a real signal: a nearest-class-mean classifier on raw pixels is far above chance (~68%)
    x_train = train.data.numpy().reshape(60_000, -1).astype(np.float32)
    means = np.stack([x_train[train.targets.numpy() == c].mean(0) for c in range(10)])
    x_test = test.data.numpy().reshape(10_000, -1).astype(np.float32)
    dists = (x_test ** 2).sum(1, keepdims=True) - 2 * x_test @ means.T + (means ** 2).sum(1)
    assert (dists.argmin(1) == test.targets.numpy()).mean() > 0.6


# ---- CIFAR ------------------------------------------------------------------------------------------

def cifar_batch(rng, n, labels_key="labels", classes=10):
    return {"batch_label": "fake batch", labels_key: [int(v) for v in rng.integers(0, classes, n)],
            "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "filenames": [f"img{i}.png" for i in range(n)]}


def make_cifar10(root, n=3):
    rng = np.random.default_rng(3)
    folder = os.path.join(root, "cifar-10-batches-py")
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batches[name] = cifar_batch(rng, n)
        write(os.path.join(folder, name), pickle.dumps(batches[name], protocol=2))
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    write(os.path.join(folder, "batches.meta"),
          pickle.dumps({"label_names": names, "num_cases_per_batch": n, "num_vis": 3072}, protocol=2))
    return batches


def test_cifar10_fake_batches(tmp_path):
    batches = make_cifar10(tmp_path)
    ds = CIFAR10(tmp_path, train=True)
    assert len(ds) == 15 and ds.data.shape == (15, 32, 32, 3) and ds.data.dtype == np.uint8
    assert ds.targets == sum((batches[f"data_batch_{i}"]["labels"] for i in range(1, 6)), [])
    assert ds.classes[3] == "cat" and ds.class_to_idx["truck"] == 9
    # rows hold 1024 red, then 1024 green, then 1024 blue values, each 32x32 row-major
    row = batches["data_batch_2"]["data"][1]
    np.testing.assert_array_equal(ds.data[4], np.stack([row[:1024], row[1024:2048], row[2048:]], -1).reshape(32, 32, 3))
    img, target = ds[4]
    assert img.mode == "RGB" and img.size == (32, 32) and type(target) is int
    np.testing.assert_array_equal(np.asarray(img), ds.data[4])
    test = CIFAR10(tmp_path, train=False, transform=lambda im: np.asarray(im).sum())
    assert len(test) == 3 and test[0][0] == int(batches["test_batch"]["data"][0].astype(np.int64).sum())
    assert "Split: Test" in repr(test)


def test_cifar100_fake_batches(tmp_path):
    rng = np.random.default_rng(4)
    folder = tmp_path / "cifar-100-python"
    train = cifar_batch(rng, 4, "fine_labels", 100)
    train["coarse_labels"] = [0, 1, 2, 3]
    write(folder / "train", pickle.dumps(train, protocol=2))
    write(folder / "test", pickle.dumps(cifar_batch(rng, 2, "fine_labels", 100), protocol=2))
    write(folder / "meta", pickle.dumps({"fine_label_names": [f"c{i}" for i in range(100)],
                                         "coarse_label_names": [f"s{i}" for i in range(20)]}, protocol=2))
    ds = CIFAR100(tmp_path)
    assert ds.targets == train["fine_labels"] and len(ds.classes) == 100 and len(CIFAR100(tmp_path, train=False)) == 2


def py2_pickle(array: np.ndarray, labels, dtype_spec="u1", byteorder="|") -> bytes:
    """A CIFAR batch pickled the way Python 2 + NumPy 1.x wrote them (str opcodes, numpy.core paths)."""
    def s(text: bytes) -> bytes:  # SHORT_BINSTRING / BINSTRING: a Python 2 str
        return (b"U" + bytes([len(text)]) if len(text) < 256 else b"T" + struct.pack("<i", len(text))) + text
    raw = array.tobytes()
    shape = b"(" + b"".join(b"J" + struct.pack("<i", n) for n in array.shape) + b"t"
    arr = (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + s(b"b") + b"\x87R"
           + b"(K\x01" + shape + b"cnumpy\ndtype\n" + s(dtype_spec.encode()) + b"K\x00K\x01\x87R"
           + b"(K\x03" + s(byteorder.encode()) + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
           + b"\x89" + s(raw) + b"tb")
    labs = b"]" + (b"(" + b"".join(b"K" + bytes([v]) for v in labels) + b"e" if labels else b"")
    return b"\x80\x02}(" + s(b"data") + arr + s(b"labels") + labs + b"u."


def test_cifar_reads_python2_pickles(tmp_path):
    data = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
    path = write(tmp_path / "batch", py2_pickle(data, [3, 7]))
    entry = cifar.load_cifar_pickle(path)
    assert entry["labels"] == [3, 7] and entry["data"].dtype == np.uint8
    np.testing.assert_array_equal(entry["data"], data)
    # multi-byte dtypes get their byte order from the pickle, without touching NumPy's shared dtypes
    big = np.arange(6, dtype=">i4").reshape(2, 3)
    entry = cifar.load_cifar_pickle(write(tmp_path / "big", py2_pickle(big, [], "i4", ">")))
    np.testing.assert_array_equal(entry["data"], big)
    assert np.dtype("i4").byteorder == "=" and np.dtype("u1").byteorder == "|"


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize("payload, match", [
    ({"data": _Evil()}, r"refused to load global '(posix|os|nt)\.system'"),
    ({"data": np.array([object()], dtype=object)}, r"refused numpy dtype 'O8'"),
    ({"data": np.zeros(3, dtype=[("a", "u1")])}, r"refused numpy dtype 'V1'"),
    ({"data": types.SimpleNamespace(a=1)}, r"refused to load global 'types.SimpleNamespace'"),
])
def test_cifar_unpickler_refuses_anything_else(tmp_path, payload, match):
    path = write(tmp_path / "data_batch_1", pickle.dumps(payload, protocol=2))
    with pytest.raises(UnsafeUnpicklingError, match=match):
        cifar.load_cifar_pickle(path)


def test_cifar_unpickler_refuses_state_of_other_objects(tmp_path):
    # BUILD on a shared object (here the restored numpy.dtype placeholder is fine, a list is not)
    evil = b"\x80\x02]q\x00}q\x01X\x01\x00\x00\x00aK\x01sb."
    with pytest.raises(UnsafeUnpicklingError, match=r"refused to set the state of a list object"):
        cifar.load_cifar_pickle(write(tmp_path / "b", evil))


@pytest.mark.parametrize("mutate, match", [
    (lambda d: d.update(data=d["data"][:, :100]), r"'data' must be a uint8 array of shape \(N, 3072\), got uint8 "
                                                 r"array of shape \(3, 100\)"),
    (lambda d: d.update(data=d["data"].astype(np.int16)), r"must be a uint8 array"),
    (lambda d: d["labels"].append(1), r"3 images but 4 labels"),
    (lambda d: d["labels"].__setitem__(0, 10), r"labels must lie in \[0, 10\), got"),
    (lambda d: d.pop("labels"), r"expected a dict with 'data' and 'labels'"),
])
def test_cifar_batch_validation(tmp_path, mutate, match):
    batches = make_cifar10(tmp_path)
    bad = batches["test_batch"]
    mutate(bad)
    path = write(tmp_path / "cifar-10-batches-py" / "test_batch", pickle.dumps(bad, protocol=2))
    with pytest.raises(DatasetFormatError, match=match) as info:
        CIFAR10(tmp_path, train=False)
    assert repr(path) in str(info.value)


def test_cifar_truncated_file(tmp_path):
    make_cifar10(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DatasetFormatError, match=r"test_batch'.*(needs 3072|not a valid CIFAR pickle)"):
        CIFAR10(tmp_path, train=False)


def test_cifar_missing_files(tmp_path, offline):
    with pytest.raises(DatasetNotFoundError) as info:
        CIFAR10(tmp_path)
    folder = os.path.join(str(tmp_path), "cifar-10-batches-py")
    for name in ["data_batch_1", "data_batch_5", "batches.meta"]:
        assert os.path.join(folder, name) in str(info.value)
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    with pytest.raises(DatasetNotFoundError, match=rf"(?s)could not get cifar-100-python.tar.gz.*{url}: URLError"):
        CIFAR100(tmp_path, download=True)


# ---- ImageFolder / DatasetFolder --------------------------------------------------------------------

@pytest.fixture
def image_tree(tmp_path):
    rng = np.random.default_rng(5)
    root = tmp_path / "images"
    files = {"dog/b.png": None, "dog/a.png": None, "dog/nested/c.PNG": None, "cat/z.png": None,
             "bird/only.jpeg": None}
    for rel in files:
        pixels = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
        os.makedirs(root / os.path.dirname(rel), exist_ok=True)
        Image.fromarray(pixels).save(root / rel, format="PNG" if rel.lower().endswith("png") else "JPEG")
        files[rel] = pixels
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / "stray.png").write_bytes(b"")  # files at the top level belong to no class
    return root, files


def test_image_folder(image_tree):
    root, files = image_tree
    ds = ImageFolder(root)
    assert ds.classes == ["bird", "cat", "dog"] and ds.class_to_idx == {"bird": 0, "cat": 1, "dog": 2}
    rel = [os.path.relpath(p, root) for p, _ in ds.samples]
    assert rel == ["bird/only.jpeg", "cat/z.png", "dog/a.png", "dog/b.png", "dog/nested/c.PNG"]
    assert ds.targets == [0, 1, 2, 2, 2] and ds.imgs is ds.samples and len(ds) == 5
    img, target = ds[3]
    assert img.mode == "RGB" and img.size == (5, 4) and target == 2
    np.testing.assert_array_equal(np.asarray(img), files["dog/b.png"])
    gray = ImageFolder(root, loader=lambda p: Image.open(p).convert("L"), target_transform=str)
    assert gray[1][0].mode == "L" and gray[1][1] == "1"


def test_dataset_folder_options(image_tree):
    root, _ = image_tree
    ds = DatasetFolder(root, loader=os.path.getsize, extensions=".txt", allow_empty=True)
    assert [os.path.basename(p) for p, _ in ds.samples] == ["notes.txt"] and ds[0] == (12, 1)
    with pytest.raises(FileNotFoundError, match=r"Found no valid file for the classes bird, dog. "
                                                r"Supported extensions are: .txt"):
        DatasetFolder(root, loader=os.path.getsize, extensions=".txt")
    only_a = DatasetFolder(root, loader=str, is_valid_file=lambda p: os.path.basename(p).startswith("a"),
                           allow_empty=True)
    assert [os.path.basename(p) for p, _ in only_a.samples] == ["a.png"]
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None or not None"):
        DatasetFolder(root, loader=str)
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None or not None"):
        DatasetFolder(root, loader=str, extensions=".png", is_valid_file=bool)

    class OnlyDogs(DatasetFolder):
        def find_classes(self, directory):
            return ["dog"], {"dog": 7}
    dogs = OnlyDogs(root, loader=str, extensions=(".png",))
    assert dogs.classes == ["dog"] and set(dogs.targets) == {7} and len(dogs) == 3


def test_image_folder_without_classes(tmp_path):
    (tmp_path / "x.png").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"Couldn't find any class folder in"):
        ImageFolder(tmp_path)


# ---- FakeData, Digits, VisionDataset ----------------------------------------------------------------

def test_fake_data_is_deterministic_per_index():
    ember.manual_seed(0)
    before = ember.rand(3)
    ember.manual_seed(0)
    ds = FakeData(size=6, image_size=(3, 8, 5), num_classes=4)
    first = [ds[i] for i in range(6)]
    assert ember.equal(ember.rand(3), before)  # the global generator is untouched
    again = FakeData(size=6, image_size=(3, 8, 5), num_classes=4)
    for i in (5, 0, 3):
        img, target = again[i]
        assert img.mode == "RGB" and img.size == (5, 8) and 0 <= target < 4 and type(target) is int
        assert img.tobytes() == first[i][0].tobytes() and target == first[i][1]
    assert first[0][0].tobytes() != first[1][0].tobytes()
    shifted = FakeData(size=6, image_size=(3, 8, 5), num_classes=4, random_offset=1)
    assert shifted[0][0].tobytes() == first[1][0].tobytes()
    assert ds[-1][0].tobytes() == first[5][0].tobytes() and len(ds) == 6
    with pytest.raises(IndexError, match="FakeData index out of range"):
        ds[6]
    assert FakeData(2, (1, 4, 4))[0][0].mode == "L"
    assert len({FakeData(200, (1, 1, 1), 3)[i][1] for i in range(200)}) == 3
    with pytest.raises(ValueError, match=r"image_size must be \(C, H, W\)"):
        FakeData(2, (4, 4))


def test_digits():
    sklearn_datasets = pytest.importorskip("sklearn.datasets", reason="Digits needs scikit-learn")
    train, test = Digits(train=True), Digits(train=False)
    assert len(train) == 1437 and len(test) == 360
    assert train.data.dtype == ember.uint8 and train.targets.dtype == ember.int64
    assert tuple(test.data.shape) == (360, 8, 8)
    img, target = test[0]
    assert img.mode == "L" and img.size == (8, 8) and type(target) is int and 0 <= target <= 9
    # every bundled image exactly once across the split, scaled from 0..16 to 0..255
    ref = sklearn_datasets.load_digits()
    scaled = np.rint(ref.images * 255 / 16).astype(np.uint8).reshape(len(ref.images), -1)
    ours = np.concatenate([train.data.numpy(), test.data.numpy()]).reshape(1797, -1)
    key = lambda x, y: sorted(map(bytes, np.concatenate([x, y[:, None].astype(np.uint8)], 1)))  # noqa: E731
    assert key(ours, np.concatenate([train.targets.numpy(), test.targets.numpy()])) == key(scaled, ref.target)
    assert ours.max() == 255 and ours.min() == 0
    np.testing.assert_array_equal(Digits(train=False).data.numpy(), test.data.numpy())  # a fixed split


def test_digits_without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"Digits needs scikit-learn.*pip install scikit-learn"):
        Digits()


def test_vision_dataset_transform_arguments():
    with pytest.raises(ValueError, match="Only transforms or transform/target_transform can be passed"):
        VisionDataset("x", transforms=lambda a, b: (a, b), transform=str)
    ds = VisionDataset("~/data", transforms=lambda a, b: (b, a))
    assert ds.root == os.path.expanduser("~/data") and ds._apply_transforms(1, 2) == (2, 1)


# ---- the plugin -------------------------------------------------------------------------------------

class RecordingRegistry:
    def __init__(self):
        self.added = []

    def add(self, name, obj, **metadata):
        self.added.append((name, obj, metadata))
        return f"vision:{name}"

    def add_all(self, table):
        return [self.add(name, obj, **metadata) for name, obj, metadata in table]


def test_register_datasets_hook():
    reg = RecordingRegistry()
    _plugin.ember_register_datasets(reg)
    added = {name: (obj, meta) for name, obj, meta in reg.added}
    assert len(added) == len(reg.added)
    assert {obj for obj, _ in added.values()} == {MNIST, FashionMNIST, KMNIST, EMNIST, CIFAR10, CIFAR100, ImageFolder,
                                                  DatasetFolder, FakeData, Digits}
    for obj, meta in added.values():
        assert issubclass(obj, Dataset) and meta["task"] == "image-classification" and meta["modality"] == "image"
    assert added["fashion_mnist"][1]["num_classes"] == 10 and added["cifar100"][1]["num_classes"] == 100


def test_register_datasets_through_the_plugin_manager():
    from ember.plugins import PluginManager
    manager = PluginManager(search_path=[])
    only_datasets = types.SimpleNamespace(ember_register_datasets=_plugin.ember_register_datasets)
    info = manager.register(only_datasets, "vision", strict=True)
    assert info.status == "loaded" and set(info.registered["datasets"]) == set(dataset_registry.DATASETS.names())
    registry = manager.registries["datasets"]
    assert registry.get("vision:fashion_mnist").obj is FashionMNIST and registry.get("cifar10").obj is CIFAR10
    names = [e.canonical for e in registry.entries(num_classes=10)]
    assert names == ["vision:cifar10", "vision:digits", "vision:fashion_mnist", "vision:kmnist", "vision:mnist"]


def test_entry_point_loads_the_plugin():
    eps = [ep for ep in importlib.metadata.entry_points(group="ember") if ep.name == "vision"]
    if not eps:
        pytest.skip("ember-vision is not installed (pip install -e plugins/vision), so it has no entry point")
    from ember.plugins import PluginManager
    (ep,) = eps
    assert ep.value == "ember_vision._plugin" and ep.load() is _plugin
    info = PluginManager(search_path=[]).register(ep.load(), "vision", strict=True)
    assert info.status == "loaded" and "fake_data" in info.registered["datasets"]


def test_register_hooks_hand_over_the_tables():
    from ember.plugins.registry import PluginRegistry, Registry

    from ember_vision.models import MODELS
    from ember_vision.transforms._registry import TRANSFORMS
    for hook, table in ((_plugin.ember_register_transforms, TRANSFORMS), (_plugin.ember_register_models, MODELS)):
        reg = Registry(table.kind)
        hook(PluginRegistry(reg, "vision"))
        assert sorted(e.name for e in reg.entries()) == sorted(table.names()) and len(reg) > 10


def test_env_info():
    import PIL
    assert _plugin.ember_env_info() == {"ember-vision": ember_vision.__version__, "pillow": PIL.__version__}


def test_import_is_lazy():
    code = ("import sys, ember_vision; assert 'ember_vision.datasets' not in sys.modules and 'PIL' not in sys.modules;"
            "ember_vision.datasets.MNIST; assert 'ember_vision.datasets' in sys.modules;"
            "print(sorted(n for n in ember_vision.__all__))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(os.path.dirname(ember_vision.__file__)),
                                                       os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(sorted(["__version__", "datasets", "transforms", "models", "io", "utils", "ops"]))
