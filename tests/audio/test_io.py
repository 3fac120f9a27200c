"""ember_audio.load / save / info: torchaudio's semantics on WAV (every PCM width, float, mu-law, A-law), FLAC and
OGG/Vorbis, paths and file objects, and clear errors on bad files.

torchaudio 2.11's own I/O needs torchcodec (not installable offline), so the expected metadata is torchaudio's
documented table (``AudioMetaData`` fields of its soundfile/ffmpeg backends), and integer samples are checked
against the standard library's ``wave`` module, an independent WAV reader.
"""
import io
import pathlib
import wave

import numpy as np
import pytest

import ember
import ember_audio
from ember_audio import AudioDecodeError

RATE = 16000


def signal(channels=2, frames=1000, seed=0):
    """A deterministic test signal in (-0.9, 0.9): a sine per channel plus a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)
    x = np.stack([0.6 * np.sin(t / (5 + 3 * c)) + 0.2 * rng.uniform(-1, 1, frames) for c in range(channels)])
    return ember.from_numpy(x.astype(np.float32))


# (format, encoding, bits_per_sample) -> (torchaudio's bits_per_sample, encoding, max round-trip error)
CASES = {
    ("wav", None, 8): (8, "PCM_U", 1 / 128),
    ("wav", None, 16): (16, "PCM_S", 1 / 2**15),
    ("wav", "PCM_S", 24): (24, "PCM_S", 1 / 2**23),
    ("wav", "PCM_S", 32): (32, "PCM_S", 1 / 2**31),
    ("wav", "PCM_U", None): (8, "PCM_U", 1 / 128),
    ("wav", "PCM_F", None): (32, "PCM_F", 0.0),
    ("wav", "PCM_F", 64): (64, "PCM_F", 0.0),
    ("wav", "ULAW", None): (8, "ULAW", 0.02),
    ("wav", "ALAW", 8): (8, "ALAW", 0.02),
    ("flac", None, None): (16, "FLAC", 1 / 2**15),
    ("flac", None, 8): (8, "FLAC", 1 / 128),
    ("flac", None, 24): (24, "FLAC", 1 / 2**23),
}


@pytest.mark.parametrize("fmt,encoding,bits", list(CASES))
def test_round_trip_and_metadata(tmp_path, fmt, encoding, bits):
    want_bits, want_encoding, tol = CASES[fmt, encoding, bits]
    x = signal()
    path = tmp_path / f"a.{fmt}"
    ember_audio.save(path, x, RATE, encoding=encoding, bits_per_sample=bits)
    meta = ember_audio.info(path)
    assert (meta.sample_rate, meta.num_frames, meta.num_channels, meta.bits_per_sample, meta.encoding) == \
        (RATE, 1000, 2, want_bits, want_encoding)
    y, sr = ember_audio.load(str(path))
    assert sr == RATE and y.dtype == ember.float32 and y.shape == (2, 1000)
    assert float((y - x).abs().max()) <= tol * 1.01
    assert not list(tmp_path.glob(".tmp-*"))  # the atomic write left no temporary file


def test_ogg_vorbis_is_lossy_but_close(tmp_path):
    x = signal(channels=1, frames=8000)
    path = tmp_path / "a.ogg"
    ember_audio.save(path, x, RATE)
    meta = ember_audio.info(path)
    assert (meta.num_frames, meta.num_channels, meta.bits_per_sample, meta.encoding) == (8000, 1, 0, "VORBIS")
    y, sr = ember_audio.load(path)
    assert y.shape == (1, 8000) and y.dtype == ember.float32
    assert np.corrcoef(y.numpy()[0], x.numpy()[0])[0, 1] > 0.95
    assert ember_audio.load(path, normalize=False)[0].dtype == ember.float32  # no effect outside integer WAV


def wave_ints(path):
    """Integer samples [channels, frames] of a PCM WAV, read with the standard library."""
    with wave.open(str(path)) as w:
        width, channels, raw = w.getsampwidth(), w.getnchannels(), w.readframes(w.getnframes())
    if width == 1:
        a = np.frombuffer(raw, np.uint8)
    elif width == 3:  # little-endian 24-bit, as torchaudio returns it: in the upper bits of an int32
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        a = (b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)
    else:
        a = np.frombuffer(raw, {2: "<i2", 4: "<i4"}[width])
    return a.reshape(-1, channels).T


@pytest.mark.parametrize("bits,dtype,scale", [(8, ember.uint8, None), (16, ember.int16, 2**15),
                                              (24, ember.int32, 2**31), (32, ember.int32, 2**31)])
def test_normalize_false_gives_integer_pcm(tmp_path, bits, dtype, scale):
    path = tmp_path / "a.wav"
    ember_audio.save(path, signal(), RATE, bits_per_sample=bits)
    raw, _ = ember_audio.load(path, normalize=False)
    assert raw.dtype == dtype and raw.shape == (2, 1000)
    np.testing.assert_array_equal(raw.numpy(), wave_ints(path))
    norm = ember_audio.load(path)[0].numpy()
    expected = (raw.numpy().astype(np.float64) - 128) / 128 if scale is None else raw.numpy() / scale
    np.testing.assert_allclose(norm, expected, rtol=0, atol=1e-7)


def test_float_wav_ignores_normalize(tmp_path):
    path = tmp_path / "a.wav"
    x = signal() * 3  # float WAV keeps values outside [-1, 1]
    ember_audio.save(path, x.double(), RATE)
    y = ember_audio.load(path, normalize=False)[0]
    assert y.dtype == ember.float32
    np.testing.assert_allclose(y.numpy(), x.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype,subtype_bits", [(ember.uint8, 8), (ember.int16, 16), (ember.int32, 32),
                                                 (ember.float32, 32), (ember.float64, 64)])
def test_wav_format_follows_the_dtype(tmp_path, dtype, subtype_bits):
    path = tmp_path / "a.wav"
    data = (ember.arange(12).reshape(2, 6) * 9).to(dtype)
    ember_audio.save(path, data, RATE)
    assert ember_audio.info(path).bits_per_sample == subtype_bits
    if not dtype.is_floating_point:
        back = ember_audio.load(path, normalize=False)[0]
        assert back.dtype == dtype
        np.testing.assert_array_equal(back.numpy(), data.numpy())


def test_offsets_lengths_and_layout(tmp_path):
    x = signal(channels=3, frames=500)
    path = tmp_path / "a.wav"
    ember_audio.save(path, x, RATE, encoding="PCM_F")
    y, _ = ember_audio.load(path, frame_offset=120, num_frames=200)
    np.testing.assert_array_equal(y.numpy(), x.numpy()[:, 120:320])
    assert ember_audio.load(path, frame_offset=450)[0].shape == (3, 50)
    assert ember_audio.load(path, frame_offset=450, num_frames=100)[0].shape == (3, 50)
    assert ember_audio.load(path, frame_offset=600)[0].shape == (3, 0)  # past the end: empty, like torchaudio
    assert ember_audio.load(path, num_frames=0)[0].shape == (3, 0)
    tf, _ = ember_audio.load(path, channels_first=False)
    assert tf.shape == (500, 3) and tf.is_contiguous()
    np.testing.assert_array_equal(tf.numpy(), x.numpy().T)


def test_save_takes_non_contiguous_views(tmp_path):
    base = signal(channels=4, frames=600)
    views = {"transposed": (base.t(), False), "strided": (base[::2, ::3], True),
             "expanded": (base[0:1].expand(3, 600), True)}
    for label, (view, first) in views.items():
        path = tmp_path / f"{label}.wav"
        ember_audio.save(path, view, RATE, channels_first=first, encoding="PCM_F")
        expected = view.numpy() if first else view.numpy().T
        np.testing.assert_array_equal(ember_audio.load(path)[0].numpy(), expected, err_msg=label)


def test_file_objects_and_pathlib(tmp_path):
    x = signal()
    buf = io.BytesIO()
    ember_audio.save(buf, x, RATE, format="flac")
    buf.seek(0)
    assert ember_audio.info(buf).encoding == "FLAC"
    buf.seek(0)
    y, sr = ember_audio.load(buf, frame_offset=10, num_frames=20)
    assert sr == RATE and y.shape == (2, 20)
    path = pathlib.Path(tmp_path) / "b.wav"
    path.write_bytes(_wav_bytes(x))
    with open(path, "rb") as fh:
        z, _ = ember_audio.load(fh)
    np.testing.assert_array_equal(z.numpy(), ember_audio.load(path)[0].numpy())
    with pytest.raises(RuntimeError, match="format"):
        ember_audio.save(io.BytesIO(), x, RATE)


def test_non_seekable_streams(tmp_path):
    import subprocess
    import sys
    path = tmp_path / "a.flac"
    x = signal()
    ember_audio.save(path, x, RATE)

    class ReadOnly:  # only read(): what torchaudio accepts as a file-like object
        def __init__(self, data):
            self.buf = io.BytesIO(data)

        def read(self, n=-1):
            return self.buf.read(n)
    y, _ = ember_audio.load(ReadOnly(path.read_bytes()))
    np.testing.assert_array_equal(y.numpy(), ember_audio.load(path)[0].numpy())
    with subprocess.Popen([sys.executable, "-c", f"import sys; sys.stdout.buffer.write(open({str(path)!r}, 'rb').read())"],
                          stdout=subprocess.PIPE) as proc:                  # a pipe: can't seek
        z, _ = ember_audio.load(proc.stdout, num_frames=10)
    np.testing.assert_array_equal(z.numpy(), y.numpy()[:, :10])


def test_empty_audio_round_trips(tmp_path):
    path = tmp_path / "empty.wav"
    ember_audio.save(path, ember.zeros(1, 0), RATE)
    assert ember_audio.info(path).num_frames == 0
    assert ember_audio.load(path)[0].shape == (1, 0)


def _wav_bytes(x, **kw):
    buf = io.BytesIO()
    ember_audio.save(buf, x, RATE, format="wav", **kw)
    return buf.getvalue()


def _flac_bytes(x):
    buf = io.BytesIO()
    ember_audio.save(buf, x, RATE, format="flac")
    return buf.getvalue()


BAD_FILES = {
    "empty": lambda: b"",
    "text": lambda: b"label,text\n1,not audio at all\n",
    "truncated-wav": lambda: _wav_bytes(signal(), bits_per_sample=16)[:1500],
    "truncated-flac": lambda: _flac_bytes(signal(frames=20000))[:3000],
    "header-only-wav": lambda: _wav_bytes(signal(), encoding="PCM_F")[:60],
    "corrupt-flac": lambda: _flac_bytes(signal())[:42] + bytes(200) + _flac_bytes(signal())[242:],
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
@pytest.mark.parametrize("reader", ["load", "info"])
def test_bad_files_raise_a_clear_error_naming_the_file(tmp_path, kind, reader):
    import soundfile
    path = tmp_path / f"bad-{kind}.wav"
    path.write_bytes(BAD_FILES[kind]())
    if kind.endswith("-flac") and reader == "info":  # the header is intact: only decoding finds the damage
        assert ember_audio.info(path).encoding == "FLAC"
        return
    with pytest.raises(AudioDecodeError) as err:
        getattr(ember_audio, reader)(path)
    assert str(path) in str(err.value) and "could not decode audio" in str(err.value)
    assert not isinstance(err.value, soundfile.SoundFileError) and err.value.__cause__ is None
    assert isinstance(err.value, RuntimeError)  # what torchaudio raises


def test_truncated_file_object_is_named_by_its_name(tmp_path):
    path = tmp_path / "cut.wav"
    path.write_bytes(_wav_bytes(signal())[:700])
    with open(path, "rb") as fh, pytest.raises(AudioDecodeError, match="truncated") as err:
        ember_audio.load(fh)
    assert str(path) in str(err.value)
    with pytest.raises(AudioDecodeError, match="BytesIO file object"):
        ember_audio.load(io.BytesIO(b"RIFF"))


def test_missing_paths_and_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.wav"):
        ember_audio.load(tmp_path / "nope.wav")
    with pytest.raises(FileNotFoundError, match="nope.wav"):
        ember_audio.info(tmp_path / "nope.wav")
    with pytest.raises(IsADirectoryError):
        ember_audio.load(tmp_path)
    with pytest.raises(TypeError, match="path or a binary file object"):
        ember_audio.load(123)
    path = tmp_path / "a.wav"
    ember_audio.save(path, signal(), RATE)
    with pytest.raises(ValueError, match="frame_offset"):
        ember_audio.load(path, frame_offset=-1)
    with pytest.raises(ValueError, match="num_frames"):
        ember_audio.load(path, num_frames=-2)
    with pytest.raises(ValueError, match="unsupported audio format"):
        ember_audio.load(path, format="xyz")


@pytest.mark.parametrize("kwargs,match", [
    ({"src": ember.zeros(10)}, "Expected 2D Tensor, got 1D"),
    ({"src": ember.zeros(1, 4, dtype=ember.int64)}, "int64"),
    ({"encoding": "PCM_S", "bits_per_sample": 8}, "PCM_S supports bits_per_sample 16, 24, 32"),
    ({"encoding": "PCM_U", "bits_per_sample": 16}, "PCM_U supports bits_per_sample 8"),
    ({"encoding": "PCM_F", "bits_per_sample": 16}, "PCM_F supports bits_per_sample 32, 64"),
    ({"encoding": "VORBIS"}, "WAV does not support encoding 'VORBIS'"),
    ({"bits_per_sample": 12}, "invalid bits_per_sample 12"),
    ({"path": "a.flac", "bits_per_sample": 32}, "FLAC supports bits_per_sample 8, 16 and 24"),
    ({"path": "a.flac", "encoding": "PCM_S"}, "FLAC does not support encoding"),
    ({"path": "a.ogg", "bits_per_sample": 16}, "OGG does not support bits_per_sample"),
    ({"path": "a.xyz"}, "unsupported audio format 'xyz'"),
    ({"path": "noext"}, "no extension"),
    ({"sample_rate": 0}, "sample_rate must be a positive integer"),
    ({"sample_rate": 2**31}, "sample_rate must be a positive integer"),
])
def test_save_argument_errors(tmp_path, kwargs, match):
    kwargs = dict(kwargs)
    path = tmp_path / kwargs.pop("path", "a.wav")
    src = kwargs.pop("src", signal(frames=10))
    rate = kwargs.pop("sample_rate", RATE)
    with pytest.raises(ValueError, match=match):
        ember_audio.save(path, src, rate, **kwargs)
    assert not path.exists()


def test_save_failure_in_libsndfile_is_a_runtime_error_naming_the_file(tmp_path):
    path = tmp_path / "a.ogg"
    with pytest.raises(RuntimeError, match="a.ogg.*Opus only supports sample rates") as err:
        ember_audio.save(path, signal(frames=10), 44100, encoding="OPUS")
    assert type(err.value) is RuntimeError and not path.exists() and not list(tmp_path.iterdir())


def test_metadata_prints_as_torchaudio():
    meta = ember_audio.AudioMetaData(16000, 10, 1, 16, "PCM_S")
    assert str(meta) == ("AudioMetaData(sample_rate=16000, num_frames=10, num_channels=1, bits_per_sample=16, "
                         "encoding=PCM_S)")


def test_docstring_examples():
    from ember.testing import check_docstring_examples
    assert check_docstring_examples("ember_audio._io", extraglobs={"ember_audio": ember_audio}) >= 20
