"""Silero VAD in Ember against the real one (``silero-vad`` 6.2.3's ``silero_vad.onnx`` run by onnxruntime):
per-chunk speech probabilities, ``get_speech_timestamps`` and ``VADIterator``.

The reference (``data/silero_reference.npz``, made by ``data/make_silero_reference.py``) holds espeak-ng
speech, silence and noise with the package's outputs on them. The pretrained tests need the weights file:
``ember weights fetch audio:silero_vad`` (and the ``onnx`` package); they skip without them.
"""
import json
from pathlib import Path

import numpy as np
import pytest

import ember
import ember_audio
from ember.plugins.weights import file_status
from ember_audio.models import SileroVAD_Weights, silero_vad
from ember_audio.vad import get_speech_timestamps_from_probs

DATA = np.load(Path(__file__).with_name("data") / "silero_reference.npz")
EXPECTED = json.loads(str(DATA["expected"]))
SPEECH = [k for k in DATA.files if k.startswith("speech_")]
STREAMS = SPEECH + ["silence", "noise"]
TOL = 1e-4   # the bound on |Ember - onnxruntime| per chunk

try:
    import onnx  # noqa: F401
    HAVE_ONNX = True
except ImportError:
    HAVE_ONNX = False

needs_weights = pytest.mark.skipif(
    not HAVE_ONNX or file_status(SileroVAD_Weights.DEFAULT) == "missing",
    reason="needs the onnx package and Silero VAD's weights: pip install 'ember-audio[onnx]'; "
           "ember weights fetch audio:silero_vad")


def audio(name: str) -> ember.Tensor:
    return ember.from_numpy(DATA[name].astype(np.float32) / 32768)


@pytest.fixture(scope="module")
def model():
    return ember.hub.get_model("audio:silero_vad", weights="DEFAULT")   # the hub's path to the weights


@needs_weights
def test_builder_loads_the_same_weights(model):
    direct = silero_vad(weights="DEFAULT").state_dict()
    assert set(direct) == set(model.state_dict())
    assert all(ember.equal(direct[k], v) for k, v in model.state_dict().items())
    assert not model.training   # dropout off: the pretrained model is ready for inference


def stream_probs(model, x: ember.Tensor, sr: int) -> np.ndarray:
    """Per-chunk probabilities of ``x`` ``[batch, samples]`` by successive calls, as the package's streams."""
    n = 512 if sr == 16000 else 256
    model.reset_states()
    x = ember.nn.functional.pad(x, (0, (-x.shape[1]) % n))
    with ember.no_grad():
        return np.concatenate([model(x[:, i:i + n], sr).numpy() for i in range(0, x.shape[1], n)], axis=1)


@pytest.fixture(scope="module")
def ember_probs(model):
    """Ember's per-chunk probabilities of every stream, one stream after another on the same model
    (``reset_states`` must forget the previous stream)."""
    return {name: stream_probs(model, audio(name)[None], 16000)[0] for name in STREAMS}


# ---- probabilities ---------------------------------------------------------------------------------------

@needs_weights
def test_probabilities_match_onnxruntime(ember_probs):
    errors = {}
    for name, probs in ember_probs.items():
        assert probs.dtype == np.float32 and probs.shape == DATA[f"probs_{name}"].shape
        errors[name] = float(np.abs(probs - DATA[f"probs_{name}"]).max())
    assert max(errors.values()) < TOL, errors
    # the data holds speech the model is sure of, and silence/noise it is sure is not speech
    assert DATA["probs_speech_0"].max() > 0.99 and DATA["probs_noise"].max() < 0.1


@needs_weights
def test_batch_and_8k(model):
    # the first 60 chunks of each (a stream's probabilities depend only on the chunks before them)
    n = 60 * 512
    both = ember.stack([audio("speech_0")[:n], audio("speech_1")[:n]])
    assert np.abs(stream_probs(model, both, 16000) - DATA["probs_batch"][:, :60]).max() < TOL
    at_8k = audio("speech_0")[:2 * n:2][None]   # a strided view, as the reference decimated it
    assert np.abs(stream_probs(model, at_8k, 8000)[0] - DATA["probs8k_speech_0"][:120]).max() < TOL


@needs_weights
def test_multiple_of_16k_is_decimated(model):
    # 32 kHz audio is read every other sample: the same probabilities as the 16 kHz stream it came from.
    x = audio("speech_2")[None]
    doubled = ember.stack([x, x], dim=-1).reshape(1, -1)   # each sample twice: 32 kHz
    model.reset_states()
    with ember.no_grad():
        probs = [model(doubled[:, i:i + 1024], 32000).item() for i in range(0, 20 * 1024, 1024)]
    assert np.abs(np.array(probs) - DATA["probs_speech_2"][:20]).max() < TOL


@needs_weights
def test_state_carries_across_calls(model):
    # a chunk's probability depends on the stream before it (LSTM state and context), until reset_states
    x = audio("speech_0")
    model.reset_states()
    with ember.no_grad():
        for i in range(0, 40 * 512, 512):
            model(x[i:i + 512], 16000)
        warm = model(x[40 * 512:41 * 512], 16000).item()
        model.reset_states()
        cold = model(x[40 * 512:41 * 512], 16000).item()
    assert abs(warm - DATA["probs_speech_0"][40]) < TOL and abs(warm - cold) > 1e-3


def test_weights_come_from_the_onnx_file():
    w = SileroVAD_Weights.DEFAULT
    assert w.value.distribution == "silero-vad" and w.value.member.endswith("silero_vad.onnx")
    assert "ember weights fetch audio:silero_vad" in w.value.fetch_command()


# ---- the calling convention's errors -----------------------------------------------------------------------

@pytest.mark.parametrize("shape, sr, message", [
    ((1, 1, 512), 16000, "Too many dimensions"),
    ((1, 512), 22050, "Supported sampling rates"),
    ((1, 1024), 16000, "Provided number of samples is 1024"),
    ((1, 512), 8000, "Provided number of samples is 512"),
    ((1, 400), 16000, "Input audio chunk is too short"),   # 16000 / 400 > 31.25 chunks a second
    ((1, 128), 8000, "Input audio chunk is too short"),
])
def test_errors(shape, sr, message):
    with pytest.raises(ValueError, match=message):
        silero_vad()(ember.zeros(*shape), sr)


def test_random_model_streams_and_backprops():
    model = silero_vad()
    model.train()
    x = ember.randn(3, 512, requires_grad=True)
    p = model(x, 16000)
    assert p.shape == (3, 1) and p.dtype == ember.float32
    p.sum().backward()
    assert x.grad is not None and model._model.decoder.rnn.weight_ih.grad is not None
    # the kept state is detached: the next chunk's graph does not reach into the previous one
    assert not model._state.requires_grad and model._context.shape == (3, 64)
    model(ember.zeros(2, 512), 16000)        # another batch size: a new stream
    assert model._state.shape == (2, 2, 128)


def test_audio_forward_is_successive_chunks():
    model = silero_vad()
    x = ember.randn(2, 1300)   # two chunks and a zero-padded third
    with ember.no_grad():
        whole = model.audio_forward(x, 16000)
        ember.testing.assert_close(whole, ember.from_numpy(stream_probs(model, x, 16000)))
    assert whole.shape == (2, 3)


def test_missing_onnx_names_the_extra(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "onnx", None)   # "import onnx" raises ImportError
    from ember_audio.models._onnx_weights import import_onnx
    with pytest.raises(ImportError, match=r"ember-audio\[onnx\]"):
        import_onnx()


# ---- get_speech_timestamps and VADIterator ----------------------------------------------------------------

class Replay:
    """A stand-in model replaying fixed probabilities, to test the segmentation without weights."""

    def __init__(self, probs):
        self.probs, self.i = list(probs), 0

    def reset_states(self):
        self.i = 0

    def __call__(self, chunk, sr):
        self.i += 1
        return ember.tensor([[self.probs[self.i - 1]]])


@needs_weights
@pytest.mark.parametrize("name", SPEECH)
def test_speech_timestamps(model, ember_probs, name):
    # the default settings with the model itself; the others replay the model's probabilities (the same
    # numbers, without running the network seven times)
    assert ember_audio.get_speech_timestamps(audio(name), model) == EXPECTED["timestamps"][name]["default"]
    for key, settings in EXPECTED["settings"]["timestamps"].items():
        got = ember_audio.get_speech_timestamps(audio(name), Replay(ember_probs[name]), **settings)
        assert got == EXPECTED["timestamps"][name][key], key


@pytest.mark.parametrize("name", SPEECH)
def test_timestamps_from_reference_probabilities(name):
    # the segmentation alone, on onnxruntime's own probabilities: exactly the package's segments
    for key, settings in EXPECTED["settings"]["timestamps"].items():
        got = get_speech_timestamps_from_probs(DATA[f"probs_{name}"].tolist(),
                                               audio_length_samples=len(DATA[name]), **settings)
        assert got == EXPECTED["timestamps"][name][key], key


def iterator_events(vad, x: ember.Tensor, **kwargs) -> list:
    events = []
    for i in range(0, x.shape[0] - 511, 512):
        if event := vad(x[i:i + 512], **kwargs):
            events.append([i // 512, event])
    return events


@needs_weights
@pytest.mark.parametrize("name", SPEECH)
def test_vad_iterator(model, ember_probs, name):
    vad = ember_audio.VADIterator(model)
    assert iterator_events(vad, audio(name)) == EXPECTED["iterator"][name]["default"]
    for key, settings in EXPECTED["settings"]["iterator"].items():
        vad = ember_audio.VADIterator(Replay(ember_probs[name]), **settings)
        assert iterator_events(vad, audio(name)) == EXPECTED["iterator"][name][key], key
    vad.reset_states()   # replays from the first chunk: the same stream again, now in seconds
    vad = ember_audio.VADIterator(Replay(ember_probs[name]))
    assert iterator_events(vad, audio(name), return_seconds=True) == EXPECTED["iterator_seconds"][name]


@pytest.mark.parametrize("name", SPEECH)
def test_vad_iterator_on_reference_probabilities(name):
    for key, settings in EXPECTED["settings"]["iterator"].items():
        vad = ember_audio.VADIterator(Replay(DATA[f"probs_{name}"]), **settings)
        assert iterator_events(vad, audio(name)) == EXPECTED["iterator"][name][key], key


def test_timestamps_input_checks():
    model = Replay([0.9] * 100)
    with pytest.raises(ValueError, match="More than one dimension"):
        ember_audio.get_speech_timestamps(ember.zeros(2, 1024), model)
    with pytest.raises(ValueError, match="8000 and 16000"):
        ember_audio.get_speech_timestamps(ember.zeros(1024), model, sampling_rate=44100)
    with pytest.raises(ValueError, match="sampling rates"):
        ember_audio.VADIterator(model, sampling_rate=44100)
    # a [1, 1, N] tensor, a list and a 32 kHz recording (decimated, timestamps in 32 kHz samples)
    assert ember_audio.get_speech_timestamps([[[0.0] * 16000]], model) == [{"start": 0, "end": 16000}]
    with pytest.warns(UserWarning, match="multiply of 16000"):
        got = ember_audio.get_speech_timestamps(ember.zeros(32000), Replay([0.9] * 100), sampling_rate=32000)
    assert got == [{"start": 0, "end": 32000}]


def test_docstring_examples(tmp_path, monkeypatch):
    # offline, from a scratch home: the examples that need the weights are marked +SKIP
    from ember.testing import check_docstring_examples
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    assert check_docstring_examples("ember_audio.vad") >= 5
    assert check_docstring_examples("ember_audio.models") >= 5


@pytest.mark.skipif(not HAVE_ONNX, reason="needs the onnx package")
def test_unreadable_onnx_file_names_it(tmp_path):
    from ember.plugins import WeightsError
    from ember_audio.models._onnx_weights import onnx_state_dict
    bad = tmp_path / "silero_vad.onnx"
    bad.write_bytes(b"\x08\x07 not a protobuf \xff\xff")
    with pytest.raises(WeightsError, match="silero_vad.onnx"):
        onnx_state_dict(bad)


def test_missing_weights_say_how_to_fetch(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "home"))   # an empty cache
    if SileroVAD_Weights.DEFAULT.value.path().is_file():
        pytest.skip("silero-vad is installed: its file is used in place")
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    from ember.plugins import WeightsNotFoundError
    with pytest.raises(WeightsNotFoundError, match="ember weights fetch audio:silero_vad"):
        silero_vad(weights="DEFAULT")
