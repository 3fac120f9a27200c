"""Reading and writing audio files through soundfile (libsndfile): torchaudio's ``load``, ``save`` and ``info``.

    >>> import io
    >>> import ember_audio
    >>> buf = io.BytesIO()
    >>> wave = ember.linspace(-0.5, 0.5, 800).reshape(1, 800)      # [channels, frames]
    >>> ember_audio.save(buf, wave, 8000, format="wav", bits_per_sample=16)
    >>> _ = buf.seek(0)
    >>> ember_audio.info(buf)
    AudioMetaData(sample_rate=8000, num_frames=800, num_channels=1, bits_per_sample=16, encoding=PCM_S)
    >>> _ = buf.seek(0)
    >>> waveform, sample_rate = ember_audio.load(buf, frame_offset=100, num_frames=300)
    >>> waveform.shape, waveform.dtype, sample_rate
    (ember.Size([1, 300]), ember.float32, 8000)

Formats: WAV (8-bit unsigned, 16/24/32-bit signed integer, 32/64-bit float, mu-law and A-law), FLAC and
OGG/Vorbis (and whatever else the installed libsndfile reads); sources are paths or binary file objects.

``load`` follows torchaudio's documented semantics: ``normalize=True`` gives float32 in [-1, 1];
``normalize=False`` on an integer-PCM WAV gives the samples in the whole range of an integer dtype (uint8
for 8-bit, int16, int32 for 32-bit and for 24-bit, whose samples fill the upper 24 bits), and has no effect
on other encodings and formats.

Errors: a path that doesn't exist raises ``FileNotFoundError``; data that can't be decoded (empty, truncated,
corrupt, not audio) raises :class:`AudioDecodeError`, a ``RuntimeError`` like torchaudio's, whose message
names the file and the problem; libsndfile's own exceptions never escape. Bad arguments raise ``ValueError``
(or ``TypeError``) as torchaudio does.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from typing import BinaryIO, Iterator

import numpy as np

import ember

__all__ = ["load", "save", "info", "AudioMetaData", "AudioDecodeError"]

# Samples decoded per read. Reading in blocks bounds what a corrupt header's frame count can make us
# allocate: memory follows the data actually decoded, never the count a header claims.
_BLOCK_SAMPLES = 1 << 20

# libsndfile subtype -> (torchaudio's encoding name, bits per sample); unknown subtypes: ("UNKNOWN", 0).
_SUBTYPES = {
    "PCM_S8": ("PCM_S", 8), "PCM_16": ("PCM_S", 16), "PCM_24": ("PCM_S", 24), "PCM_32": ("PCM_S", 32),
    "PCM_U8": ("PCM_U", 8), "FLOAT": ("PCM_F", 32), "DOUBLE": ("PCM_F", 64), "ULAW": ("ULAW", 8),
    "ALAW": ("ALAW", 8), "VORBIS": ("VORBIS", 0), "OPUS": ("OPUS", 0), "MPEG_LAYER_III": ("MP3", 0),
    "ALAC_16": ("ALAC", 16), "ALAC_20": ("ALAC", 20), "ALAC_24": ("ALAC", 24), "ALAC_32": ("ALAC", 32),
}
# Containers whose encoding torchaudio names after the codec rather than the sample format.
_CODEC_FORMATS = {"FLAC": "FLAC"}
_WAV_FORMATS = ("WAV", "WAVEX", "RF64")
# normalize=False on integer-PCM WAV: libsndfile subtype -> the NumPy dtype soundfile reads it as, and the
# dtype torchaudio returns (8-bit WAV is unsigned; soundfile reads it through int16).
_NATIVE_INTS = {"PCM_U8": (np.int16, np.uint8), "PCM_16": (np.int16, np.int16), "PCM_24": (np.int32, np.int32),
                "PCM_32": (np.int32, np.int32)}
# Data-chunk sizes that mean "length unknown" (a streaming writer's placeholders), not truncation.
_UNKNOWN_LENGTHS = (0, 0xFFFFFFFF, 0x7FFFFFFF)
_DATA_SHOULD_BE = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)

_FORMATS = {"wav": "WAV", "wave": "WAV", "flac": "FLAC", "ogg": "OGG", "vorbis": "OGG", "opus": "OGG",
            "mp3": "MP3", "aiff": "AIFF", "aif": "AIFF", "au": "AU", "w64": "W64", "rf64": "RF64"}


class AudioDecodeError(RuntimeError):
    """Audio data could not be decoded; the message names the file and the problem."""


@dataclass
class AudioMetaData:
    """What :func:`info` reports (torchaudio's ``AudioMetaData``).

    ``bits_per_sample`` is 0 for lossy codecs; ``encoding`` is one of ``"PCM_S"``, ``"PCM_U"``,
    ``"PCM_F"``, ``"ULAW"``, ``"ALAW"``, ``"FLAC"``, ``"VORBIS"``, ``"OPUS"``, ``"MP3"``, ``"UNKNOWN"``.
    """

    sample_rate: int
    num_frames: int
    num_channels: int
    bits_per_sample: int = 0
    encoding: str = "UNKNOWN"

    def __str__(self) -> str:
        return (f"AudioMetaData(sample_rate={self.sample_rate}, num_frames={self.num_frames}, "
                f"num_channels={self.num_channels}, bits_per_sample={self.bits_per_sample}, "
                f"encoding={self.encoding})")

    __repr__ = __str__


# ---- opening a source -------------------------------------------------------------------------------

def _source_name(uri) -> str:
    """How messages name the source: the path, a file object's ``name``, else its type."""
    if isinstance(uri, (str, os.PathLike)):
        return os.fspath(uri)
    name = getattr(uri, "name", None)
    return name if isinstance(name, str) else f"<{type(uri).__name__} file object>"


def _check_source(uri) -> None:
    if isinstance(uri, (str, os.PathLike)):
        path = os.fspath(uri)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such audio file")
        if os.path.isdir(path):
            raise IsADirectoryError(f"{path}: is a directory, not an audio file")
    elif not hasattr(uri, "read"):
        raise TypeError(f"uri should be a path or a binary file object with read(), got {type(uri).__name__}")


def _message(e: BaseException) -> str:
    """libsndfile's text without soundfile's ``Error opening <object>:`` prefix (we name the file ourselves)."""
    text = getattr(e, "error_string", None) or str(e) or type(e).__name__
    return text.strip().rstrip(".")


@contextlib.contextmanager
def _decoding(name: str) -> Iterator[None]:
    """Turn whatever libsndfile or soundfile raise on bad data into :class:`AudioDecodeError` naming ``name``."""
    import soundfile
    try:
        yield
    except AudioDecodeError:
        raise
    except MemoryError:
        raise AudioDecodeError(f"could not decode audio {name}: not enough memory for its samples") from None
    # SoundFileError: libsndfile's errors; the rest are what soundfile's Python side raises on inconsistent
    # headers (a frame count or channel count that makes no sense, a failed seek on the file object).
    except (soundfile.SoundFileError, RuntimeError, ValueError, TypeError, OverflowError, EOFError, OSError) as e:
        raise AudioDecodeError(f"could not decode audio {name}: {_message(e)}") from None


def _seekable(fileobj) -> bool:
    try:
        return bool(fileobj.seekable()) if hasattr(fileobj, "seekable") else hasattr(fileobj, "seek")
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def _open(uri, name: str):
    import soundfile
    _check_source(uri)
    if not isinstance(uri, (str, os.PathLike)) and not _seekable(uri):
        uri = io.BytesIO(uri.read())  # libsndfile seeks in its input: a pipe or socket is read into memory first
    with _decoding(name):
        f = soundfile.SoundFile(os.fspath(uri) if isinstance(uri, os.PathLike) else uri)
    try:
        yield f
    finally:
        with contextlib.suppress(Exception):
            f.close()


def _check_complete(f, name: str) -> None:
    """libsndfile reads a WAV whose data chunk is cut short without complaint (it shrinks the frame count to
    the bytes present); its log says so, and a truncated file is an error here."""
    if f.format not in _WAV_FORMATS:
        return
    found = _DATA_SHOULD_BE.search(f.extra_info or "")
    if found:
        declared, present = int(found.group(1)), int(found.group(2))
        if declared > present and declared not in _UNKNOWN_LENGTHS:
            raise AudioDecodeError(f"could not decode audio {name}: truncated: its data chunk declares {declared} "
                                   f"bytes and the file holds {present}")


# ---- info ---------------------------------------------------------------------------------------------

def _metadata(f) -> AudioMetaData:
    encoding, bits = _SUBTYPES.get(f.subtype, ("UNKNOWN", 0))
    encoding = _CODEC_FORMATS.get(f.format, encoding)
    return AudioMetaData(int(f.samplerate), int(f.frames), int(f.channels), bits, encoding)


def info(uri: BinaryIO | str | os.PathLike, format: str | None = None, buffer_size: int = 4096,
         backend: str | None = None) -> AudioMetaData:
    """The sample rate, number of frames and channels, bits per sample and encoding of an audio file.

    Args:
        uri: a path or a binary file object (read from its current position).
        format: a hint, accepted for torchaudio compatibility (libsndfile identifies files from their header).
        buffer_size, backend: accepted for torchaudio compatibility; unused.

    >>> import io
    >>> buf = io.BytesIO()
    >>> ember_audio.save(buf, ember.zeros(2, 480), 48000, format="flac", bits_per_sample=24)
    >>> _ = buf.seek(0)
    >>> meta = ember_audio.info(buf)
    >>> meta.num_channels, meta.num_frames, meta.bits_per_sample, meta.encoding
    (2, 480, 24, 'FLAC')
    """
    _check_format(format)
    name = _source_name(uri)
    with _open(uri, name) as f:
        _check_complete(f, name)
        return _metadata(f)


# ---- load ---------------------------------------------------------------------------------------------

def _read_dtype(f, normalize: bool):
    """``(dtype soundfile decodes to, dtype returned)``: float32 unless integer WAV samples are asked for."""
    if not normalize and f.format in _WAV_FORMATS and f.subtype in _NATIVE_INTS:
        return _NATIVE_INTS[f.subtype]
    return np.float32, np.float32


def _read_frames(f, num_frames: int, dtype) -> np.ndarray:
    """Up to ``num_frames`` frames (all that are left when negative) as a ``[frames, channels]`` array,
    decoded block by block."""
    block = max(1, _BLOCK_SAMPLES // f.channels)
    chunks, left = [], num_frames if num_frames >= 0 else None
    while left is None or left > 0:
        want = block if left is None else min(block, left)
        got = f.read(want, dtype=dtype, always_2d=True)
        chunks.append(got)
        if left is not None:
            left -= len(got)
        if len(got) < want:
            break
    if len(chunks) == 1:
        return chunks[0]
    return np.concatenate(chunks) if chunks else np.zeros((0, f.channels), dtype)


def _to_native(samples: np.ndarray, out_dtype) -> np.ndarray:
    if out_dtype == np.uint8:  # soundfile gives 8-bit unsigned PCM as (u - 128) << 8
        return ((samples.astype(np.int32) >> 8) + 128).astype(np.uint8)
    return samples


def load(uri: BinaryIO | str | os.PathLike, frame_offset: int = 0, num_frames: int = -1, normalize: bool = True,
         channels_first: bool = True, format: str | None = None, buffer_size: int = 4096,
         backend: str | None = None) -> tuple[ember.Tensor, int]:
    """Read an audio file: ``(waveform, sample_rate)``, the waveform ``[channels, frames]`` (``[frames,
    channels]`` when ``channels_first=False``).

    Args:
        uri: a path or a binary file object.
        frame_offset: frames to skip from the start.
        num_frames: the most frames to read; ``-1`` reads to the end.
        normalize: float32 samples in [-1, 1] (True), or integer-PCM WAV samples in their integer dtype (False;
            no effect on other encodings and formats).
        channels_first: the layout of the result.
        format, buffer_size, backend: accepted for torchaudio compatibility (libsndfile identifies files
            from their header).

    >>> import io
    >>> buf = io.BytesIO()
    >>> ember_audio.save(buf, ember.tensor([[0, 16384, -32768]], dtype=ember.int16), 16000, format="wav")
    >>> _ = buf.seek(0)
    >>> ember_audio.load(buf)[0]
    tensor([[ 0.0000,  0.5000, -1.0000]])
    >>> _ = buf.seek(0)
    >>> ember_audio.load(buf, normalize=False)[0]
    tensor([[     0,  16384, -32768]], dtype=ember.int16)
    """
    _check_format(format)
    if not isinstance(frame_offset, int) or frame_offset < 0:
        raise ValueError(f"frame_offset must be a non-negative integer, got {frame_offset!r}")
    if not isinstance(num_frames, int) or num_frames < -1:
        raise ValueError(f"num_frames must be -1 (read to the end) or a non-negative integer, got {num_frames!r}")
    name = _source_name(uri)
    with _open(uri, name) as f, _decoding(name):
        _check_complete(f, name)
        read_as, out_dtype = _read_dtype(f, normalize)
        if frame_offset:  # past the end: nothing is left to read, as torchaudio gives
            f.seek(min(frame_offset, f.frames))
        samples = _to_native(_read_frames(f, num_frames, read_as), out_dtype)
        sample_rate = int(f.samplerate)
    samples = samples.T if channels_first else samples
    return ember.from_numpy(np.ascontiguousarray(samples)), sample_rate


# ---- save ---------------------------------------------------------------------------------------------

def _check_format(format: str | None) -> str | None:
    """libsndfile's major format for torchaudio's ``format`` name (``"wav"``, ``"flac"``, ``"ogg"``, ...)."""
    if format is None:
        return None
    if not isinstance(format, str) or format.lower() not in _FORMATS:
        raise ValueError(f"unsupported audio format {format!r}; expected one of {', '.join(sorted(_FORMATS))}")
    return _FORMATS[format.lower()]


_DEFAULT_WAV_SUBTYPES = {"uint8": "PCM_U8", "int16": "PCM_16", "int32": "PCM_32", "float32": "FLOAT",
                         "float64": "DOUBLE"}


def _wav_subtype(dtype: str, encoding: str | None, bits: int | None) -> str:
    if encoding is None:
        if bits is None:
            if dtype not in _DEFAULT_WAV_SUBTYPES:
                raise ValueError(f"can't save a {dtype} tensor as WAV; use uint8, int16, int32, float32 or float64, "
                                 "or pass encoding=/bits_per_sample=")
            return _DEFAULT_WAV_SUBTYPES[dtype]
        encoding = "PCM_U" if bits == 8 else "PCM_S"
    choices = {"PCM_S": {None: "PCM_32", 16: "PCM_16", 24: "PCM_24", 32: "PCM_32"},
               "PCM_U": {None: "PCM_U8", 8: "PCM_U8"},
               "PCM_F": {None: "FLOAT", 32: "FLOAT", 64: "DOUBLE"},
               "ULAW": {None: "ULAW", 8: "ULAW"}, "ALAW": {None: "ALAW", 8: "ALAW"}}
    if encoding not in choices:
        raise ValueError(f"WAV does not support encoding {encoding!r}; expected one of {', '.join(choices)}")
    if bits not in choices[encoding]:
        allowed = ", ".join(str(b) for b in choices[encoding] if b is not None)
        raise ValueError(f"WAV with encoding {encoding} supports bits_per_sample {allowed}, got {bits}")
    return choices[encoding][bits]


def _subtype(major: str, dtype: str, encoding: str | None, bits: int | None) -> str:
    """libsndfile's subtype for torchaudio's ``encoding``/``bits_per_sample`` in format ``major``."""
    if bits not in (None, 8, 16, 24, 32, 64):
        raise ValueError(f"invalid bits_per_sample {bits!r}; expected 8, 16, 24, 32 or 64")
    if major in _WAV_FORMATS:
        return _wav_subtype(dtype, encoding, bits)
    if major == "FLAC":
        if encoding not in (None, "FLAC"):
            raise ValueError(f"FLAC does not support encoding {encoding!r} (it is always FLAC)")
        if bits is not None and bits > 24:
            raise ValueError(f"FLAC supports bits_per_sample 8, 16 and 24, got {bits}")
        return {None: "PCM_16", 8: "PCM_S8", 16: "PCM_16", 24: "PCM_24"}[bits]
    if major == "OGG":
        if bits is not None:
            raise ValueError("OGG does not support bits_per_sample (Vorbis and Opus are lossy)")
        codec = (encoding or "VORBIS").upper()
        if codec not in ("VORBIS", "OPUS"):
            raise ValueError(f"OGG supports the encodings VORBIS and OPUS, got {encoding!r}")
        return codec
    raise ValueError(f"saving {major} is not supported; use wav, flac or ogg")


def _samples(src, channels_first: bool) -> tuple[np.ndarray, str]:
    """``src`` as a ``[frames, channels]`` array soundfile can write (8-bit unsigned goes through int16),
    and the name of its dtype."""
    if not isinstance(src, ember.Tensor):
        raise TypeError(f"src should be a Tensor, got {type(src).__name__}")
    if src.dim() != 2:
        raise ValueError(f"Expected 2D Tensor, got {src.dim()}D (save takes [channels, frames], or [frames, "
                         "channels] with channels_first=False)")
    arr = src.detach().cpu().numpy()
    arr, dtype = (arr.T if channels_first else arr), str(arr.dtype)
    if arr.dtype == np.uint8:
        arr = (arr.astype(np.int16) - 128) << 8
    return np.ascontiguousarray(arr), dtype


def save(uri: BinaryIO | str | os.PathLike, src: ember.Tensor, sample_rate: int, channels_first: bool = True,
         format: str | None = None, encoding: str | None = None, bits_per_sample: int | None = None,
         buffer_size: int = 4096, backend: str | None = None, compression=None) -> None:
    """Write ``src`` (``[channels, frames]``, or ``[frames, channels]`` with ``channels_first=False``) as an
    audio file.

    The format comes from ``format`` or the path's extension (``format`` is required for a file object):
    ``"wav"``, ``"flac"``, ``"ogg"``/``"vorbis"``. ``encoding``/``bits_per_sample`` pick the sample format as
    torchaudio does: WAV takes ``"PCM_S"`` (16/24/32 bits), ``"PCM_U"`` (8), ``"PCM_F"`` (32/64), ``"ULAW"``,
    ``"ALAW"`` (8); without either it follows the tensor's dtype (uint8 -> 8-bit unsigned, int16, int32,
    float32, float64). FLAC takes 8/16/24 bits (default 16); OGG is Vorbis (or ``encoding="OPUS"``). Files
    at a path are written atomically (a temporary file renamed into place).

    >>> import io
    >>> buf = io.BytesIO()
    >>> ember_audio.save(buf, ember.zeros(1, 100), 16000, format="wav", encoding="ULAW")
    >>> _ = buf.seek(0)
    >>> ember_audio.info(buf).encoding
    'ULAW'
    """
    import soundfile
    data, dtype = _samples(src, channels_first)
    if compression is not None:
        warnings.warn("save: compression is not supported by the soundfile backend and is ignored", stacklevel=2)
    if not isinstance(sample_rate, (int, np.integer)) or not 0 < sample_rate < 2**31:
        raise ValueError(f"sample_rate must be a positive integer below 2**31 (libsndfile's int), got {sample_rate!r}")
    is_path = isinstance(uri, (str, os.PathLike))
    if format is None:
        if not is_path:
            raise RuntimeError("`format` is required when saving to a file object")
        ext = os.path.splitext(os.fspath(uri))[1].lstrip(".")
        if not ext:
            raise ValueError(f"{os.fspath(uri)}: no extension to tell the format; pass format='wav', 'flac' or 'ogg'")
        format = ext
    major = _check_format(format)
    subtype = _subtype(major, dtype, encoding, bits_per_sample)
    name = _source_name(uri)
    try:
        if is_path:
            _write_atomic(os.fspath(uri), data, int(sample_rate), major, subtype)
        else:
            soundfile.write(uri, data, int(sample_rate), subtype=subtype, format=major)
    except (soundfile.SoundFileError, RuntimeError) as e:
        raise RuntimeError(f"could not write audio {name} ({major} {subtype}, {sample_rate} Hz): {_message(e)}") \
            from None


def _write_atomic(path: str, data: np.ndarray, sample_rate: int, major: str, subtype: str) -> None:
    import soundfile
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    try:
        with os.fdopen(fd, "wb") as fh:
            soundfile.write(fh, data, sample_rate, subtype=subtype, format=major)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
