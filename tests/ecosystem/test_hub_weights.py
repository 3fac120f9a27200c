"""Weights records and enums: checksums, the cache, offline mode, and get_model's weights/num_classes."""
import functools
import hashlib
import http.server
import threading

import numpy as np
import pytest

import ember
from ember import hub, nn, plugins
from ember.plugins import ChecksumError, Weights, WeightsEnum, WeightsNotFoundError, ember_home
from ember.testing import assert_close


class TinyNet(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.body = nn.Linear(4, 5)
        self.fc = nn.Linear(5, num_classes)

    def forward(self, x):
        return self.fc(self.body(x).relu())


def _write_weights(path, num_classes=3, seed=0):
    ember.manual_seed(seed)
    net = TinyNet(num_classes)
    ember.save(net.state_dict(), path)
    data = path.read_bytes()
    return net, hashlib.sha256(data).hexdigest(), len(data)


@pytest.fixture
def weights_file(tmp_path):
    net, digest, size = _write_weights(tmp_path / "tiny.ember")
    return tmp_path / "tiny.ember", net, digest, size


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):   # no request log on stderr (tests read stderr)
        pass


@pytest.fixture
def http_root(tmp_path):
    """A local HTTP server over a directory (downloads without network)."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_weights_require_a_full_sha256():
    with pytest.raises(ValueError, match="full 64-digit hex digest"):
        Weights(url="/x.ember", sha256="abc123")
    w = Weights(url="/x.ember", sha256="AB" * 32)
    assert w.sha256 == "ab" * 32   # normalised to lower case
    with pytest.raises(TypeError):
        Weights("/x.ember", "ab" * 32)    # keyword-only: no positional mix-ups


def test_verify_and_load_a_local_file(weights_file):
    path, net, digest, size = weights_file
    w = Weights(url=str(path), sha256=digest, size=size, meta={"categories": ["a", "b", "c"]})
    assert w.num_classes == 3 and w.file_name == "tiny.ember" and not w.is_remote
    state = w.get_state_dict()
    assert set(state) == set(net.state_dict())
    assert_close(state["fc.weight"], net.fc.weight)
    assert Weights(url=path.as_uri(), sha256=digest).path() == path      # file:// URLs too


def test_a_checksum_mismatch_names_the_file_and_the_expected_hash(weights_file):
    path, _, digest, size = weights_file
    wrong = "0" * 64
    with pytest.raises(ChecksumError, match=rf"checksum mismatch for weights file {path}: expected sha256 {wrong}, "
                                            rf"got {digest}"):
        Weights(url=str(path), sha256=wrong).get_state_dict()
    with pytest.raises(ChecksumError, match=rf"{path} has {size} bytes, expected {size + 1} .*sha256 {digest}"):
        Weights(url=str(path), sha256=digest, size=size + 1).get_state_dict()
    Weights(url=str(path), sha256=wrong).get_state_dict(check_hash=False)   # explicitly skipped


def test_a_missing_file_prints_the_expected_path(tmp_path):
    missing = tmp_path / "nope" / "w.ember"
    with pytest.raises(WeightsNotFoundError, match=rf"expected it at {missing} \(sha256 {'1' * 64}\)"):
        Weights(url=str(missing), sha256="1" * 64).get_state_dict()
    w = Weights(url="package://ember/no_such_dir/w.ember", sha256="1" * 64)
    with pytest.raises(FileNotFoundError, match=r"expected it at .*ember/no_such_dir/w.ember.*reinstall the plugin"):
        w.get_state_dict()
    with pytest.raises(WeightsNotFoundError, match="package 'no_such_pkg_xyz' is not installed"):
        Weights(url="package://no_such_pkg_xyz/w.ember", sha256="1" * 64).path()


def test_remote_weights_download_into_ember_home_once(weights_file, http_root, tmp_path, monkeypatch):
    path, net, digest, size = weights_file
    root, base = http_root
    (root / "tiny-1234.ember").write_bytes(path.read_bytes())
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    w = Weights(url=f"{base}/tiny-1234.ember", sha256=digest, size=size)
    expected = tmp_path / "home" / "weights" / "tiny-1234.ember"
    assert ember_home() == tmp_path / "home" and w.is_remote and w.path() == expected
    assert_close(w.get_state_dict()["body.weight"], net.body.weight)
    assert expected.read_bytes() == path.read_bytes()
    (root / "tiny-1234.ember").unlink()          # the cached copy is used from now on
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    assert_close(w.get_state_dict()["body.weight"], net.body.weight)


def test_offline_mode_forbids_downloads_and_prints_the_expected_path(weights_file, http_root, tmp_path, monkeypatch):
    path, _, digest, _ = weights_file
    root, base = http_root
    (root / "tiny.ember").write_bytes(path.read_bytes())
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    expected = tmp_path / "home" / "weights" / "tiny.ember"
    with pytest.raises(WeightsNotFoundError, match=rf"EMBER_OFFLINE=1 forbids downloading {base}/tiny.ember; "
                                                   rf"expected the file at {expected}"):
        Weights(url=f"{base}/tiny.ember", sha256=digest).get_state_dict()
    assert not expected.exists()


def test_a_corrupt_download_is_not_kept(weights_file, http_root, tmp_path, monkeypatch):
    path, _, digest, _ = weights_file
    root, base = http_root
    (root / "tiny.ember").write_bytes(path.read_bytes()[:-3] + b"xyz")
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    with pytest.raises(ChecksumError, match=rf"downloaded from {base}/tiny.ember .*expected sha256 {digest}"):
        Weights(url=f"{base}/tiny.ember", sha256=digest).get_state_dict()
    assert list((tmp_path / "home" / "weights").iterdir()) == []   # no partial or corrupt file left behind
    with pytest.raises(WeightsNotFoundError, match=r"could not download .*missing.ember.*expected the file at"):
        Weights(url=f"{base}/missing.ember", sha256=digest).get_state_dict()


def _enum(path, digest, size, n=3):
    class Tiny_Weights(WeightsEnum):
        V1 = Weights(url=str(path), sha256=digest, size=size, meta={"categories": [str(i) for i in range(n)]},
                     transforms=functools.partial(dict, kind="tiny"))
        V2 = Weights(url=str(path), sha256=digest, size=size, meta={"num_classes": n})
        DEFAULT = V2
    return Tiny_Weights


def test_weights_enum_members_and_verify(weights_file):
    path, _, digest, size = weights_file
    E = _enum(path, digest, size)
    assert [m.name for m in E] == ["V1", "V2"] and E.DEFAULT is E.V2      # DEFAULT is an alias
    assert E.verify("V1") is E.V1 and E.verify("Tiny_Weights.V2") is E.V2 and E.verify("DEFAULT") is E.V2
    assert E.verify(None) is None and E.verify(E.V1) is E.V1
    assert E.V1.transforms() == {"kind": "tiny"} and E.V1.num_classes == 3 and E.V2.num_classes == 3
    assert repr(E.V1) == "Tiny_Weights.V1" and E.V1.sha256 == digest and E.V1.url == str(path)
    with pytest.raises(ValueError, match="unknown weights 'V9' for Tiny_Weights; expected one of V1, V2, DEFAULT"):
        E.verify("V9")
    with pytest.raises(TypeError, match="members of a WeightsEnum must be Weights records"):
        class Bad_Weights(WeightsEnum):
            A = "http://x"
    assert set(E.V1.get_state_dict()) == {"body.weight", "body.bias", "fc.weight", "fc.bias"}


@pytest.fixture
def model_site(site, weights_file):
    """A plugin registering TinyNet with weights, and variants for each head protocol."""
    path, net, digest, size = weights_file
    site.add("w", f'''
        from ember import nn
        from ember.plugins import Weights, WeightsEnum

        class TinyNet(nn.Module):    # the architecture the weights file was saved from
            def __init__(self, num_classes=3):
                super().__init__()
                self.body = nn.Linear(4, 5)
                self.fc = nn.Linear(5, num_classes)
            def forward(self, x):
                return self.fc(self.body(x).relu())

        class Tiny_Weights(WeightsEnum):
            V1 = Weights(url={str(path)!r}, sha256={digest!r}, size={size}, meta={{"categories": ["a", "b", "c"]}})
            DEFAULT = V1

        class Other_Weights(WeightsEnum):
            X = Weights(url={str(path)!r}, sha256={digest!r})

        class AttrNet(TinyNet):
            classifier_head = "fc"

        class ResetNet(TinyNet):
            def reset_classifier(self, num_classes):
                self.fc = nn.Linear(5, num_classes)
                self.was_reset = num_classes

        def ember_register_models(registry):
            registry.add("meta_head", TinyNet, weights=Tiny_Weights, head="fc")
            registry.add("attr_head", AttrNet, weights=Tiny_Weights)
            registry.add("reset_head", ResetNet, weights=Tiny_Weights)
            registry.add("no_head", TinyNet, weights=Tiny_Weights)
            registry.add("no_weights", TinyNet)
    ''')
    return net


@pytest.mark.parametrize("weights", ["DEFAULT", "V1", "Tiny_Weights.V1", "member", "record"])
def test_get_model_loads_weights_in_every_spelling(model_site, weights):
    E = hub.get_model_weights("w:meta_head")
    weights = {"member": E.V1, "record": E.V1.value}.get(weights, weights)
    model = hub.get_model("meta_head", weights=weights)
    assert_close(model.fc.weight, model_site.fc.weight)
    assert_close(model.body.bias, model_site.body.bias)


def test_get_model_without_weights_is_freshly_initialised(model_site):
    model = hub.get_model("w:no_head", num_classes=6)
    assert model.fc.out_features == 6
    assert not np.allclose(model.body.weight.detach().numpy(), model_site.body.weight.detach().numpy())


@pytest.mark.parametrize("name", ["meta_head", "attr_head"])
def test_num_classes_keeps_the_backbone_and_reinitialises_the_head(model_site, name):
    model = hub.get_model(name, weights="DEFAULT", num_classes=10)
    assert_close(model.body.weight, model_site.body.weight)          # pretrained body
    assert isinstance(model.fc, nn.Linear) and (model.fc.in_features, model.fc.out_features) == (5, 10)
    assert model.fc.weight.dtype is model_site.fc.weight.dtype and model.fc.weight.requires_grad
    assert model(ember.ones(2, 4)).shape == (2, 10)
    same = hub.get_model(name, weights="DEFAULT", num_classes=3)      # equal to the weights': nothing to reset
    assert_close(same.fc.weight, model_site.fc.weight)


def _body_weights(path, state) -> Weights:
    ember.save(state, path)
    return Weights(url=str(path), sha256=hashlib.sha256(path.read_bytes()).hexdigest())


def test_weights_without_categories_are_a_body_under_a_fresh_head(model_site, tmp_path):
    """Weights holding no head (no categories: a sentence encoder's, a feature extractor's) load into the body;
    the head the builder made for num_classes stays, and any other key must still match."""
    body = {k: v for k, v in model_site.state_dict().items() if k.startswith("body.")}
    ember.manual_seed(0)
    model = hub.get_model("meta_head", weights=_body_weights(tmp_path / "body.ember", body), num_classes=7)
    assert_close(model.body.weight, model_site.body.weight)
    assert model.fc.out_features == 7 and model(ember.ones(2, 4)).shape == (2, 7)
    with pytest.raises(RuntimeError, match="extra"):
        hub.get_model("meta_head", weights=_body_weights(tmp_path / "extra.ember", {**body, "extra": ember.zeros(1)}),
                      num_classes=7)
    partial = _body_weights(tmp_path / "partial.ember", {"body.weight": body["body.weight"]})
    with pytest.raises(RuntimeError, match="body.bias"):
        hub.get_model("meta_head", weights=partial, num_classes=7)


def test_num_classes_uses_reset_classifier_when_the_model_has_one(model_site):
    model = hub.get_model("reset_head", weights="DEFAULT", num_classes=4)
    assert model.was_reset == 4 and model.fc.out_features == 4
    assert_close(model.body.weight, model_site.body.weight)


def test_num_classes_without_a_declared_head_is_an_error(model_site):
    with pytest.raises(ValueError, match=r"'w:no_head': can't use weights for 3 classes with num_classes=5.*head='fc'"):
        hub.get_model("no_head", weights="DEFAULT", num_classes=5)


def test_wrong_weights_are_rejected(model_site):
    other = hub.get_model_weights("w:meta_head")
    with pytest.raises(ValueError, match="has no pretrained weights"):
        hub.get_model("no_weights", weights="DEFAULT")
    with pytest.raises(ValueError, match="unknown weights 'V7' for Tiny_Weights"):
        hub.get_model("meta_head", weights="V7")
    import fake_w
    with pytest.raises(ValueError, match=r"Other_Weights.X do not belong to model 'w:meta_head'.*Tiny_Weights"):
        hub.get_model("meta_head", weights=fake_w.Other_Weights.X)
    assert hub.get_model_weights("no_weights") is None
    assert hub.get_model_weights(fake_w.AttrNet) is other
    assert hub.get_weight("Tiny_Weights.V1") is other.V1
    with pytest.raises(plugins.NotFoundError, match="no registered model has weights named 'Nope_Weights'"):
        hub.get_weight("Nope_Weights.V1")


def test_example_plugin_weights_ship_as_package_data(example_site):
    E = hub.get_model_weights("toy:mlp")
    path = E.DEFAULT.verify_file()
    assert path.name == "mlp_blobs_v1.ember" and path.parent.name == "weights"
    assert E.DEFAULT.meta["num_params"] == sum(p.numel() for p in hub.get_model("toy:mlp").parameters())


def test_building_a_model_that_downloads_weights_shows_a_progress_line(site, weights_file, http_root, capsys):
    """What is fetched and where it goes, on stderr; nothing once the file is cached; silent with progress=False."""
    from ember import cli
    from ember.plugins.weights import file_status
    path, net, digest, size = weights_file
    root, base = http_root
    (root / "tiny-remote.ember").write_bytes(path.read_bytes())
    site.add("r", f'''
        from ember import nn
        from ember.plugins import Weights, WeightsEnum

        class TinyNet(nn.Module):
            def __init__(self, num_classes=3):
                super().__init__()
                self.body = nn.Linear(4, 5)
                self.fc = nn.Linear(5, num_classes)

        class R_Weights(WeightsEnum):
            V1 = Weights(url="{base}/tiny-remote.ember", sha256={digest!r}, size={size})
            DEFAULT = V1

        def ember_register_models(registry):
            registry.add("tiny", TinyNet, weights=R_Weights)
    ''')
    E = hub.get_model_weights("r:tiny")
    expected = ember_home() / "weights" / "tiny-remote.ember"
    assert file_status(E.V1) == "missing" and not expected.exists()
    capsys.readouterr()
    model = hub.get_model("r:tiny", weights="DEFAULT")
    err = capsys.readouterr().err
    assert f"Downloading {base}/tiny-remote.ember to {expected}" in err
    assert f"done: {size / 2 ** 20:.1f} MiB 100%" in err
    assert_close(model.fc.weight, net.fc.weight)
    assert file_status(E.V1) == "downloaded" and file_status(E.V1.value) == "downloaded"
    hub.get_model("r:tiny", weights="DEFAULT")
    assert capsys.readouterr().err == ""                        # cached: nothing to say
    expected.unlink()
    hub.get_model("r:tiny", weights="DEFAULT", progress=False)
    assert capsys.readouterr().err == "" and expected.is_file()
    assert cli.main(["weights", "list", "r:tiny"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:3] == ["r:tiny", "R_Weights.V1", "downloaded"]
    assert file_status(Weights(url=str(path), sha256=digest)) == "installed"
    assert file_status(Weights(url="package://no_such_pkg_xyz/w.ember", sha256=digest)) == "missing"
