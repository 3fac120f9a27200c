"""Speech segments from a voice-activity model: :func:`get_speech_timestamps` for a whole recording and
:class:`VADIterator` for a stream, with the semantics of the ``silero-vad`` package's utilities of the same
names (the same segments and events for the same probabilities).

The model is any callable ``model(chunk, sampling_rate) -> [1, 1] probability`` with ``reset_states()``;
:func:`ember_audio.models.silero_vad` is the one they are made for.

>>> from ember_audio.models import silero_vad
>>> model = silero_vad()                           # weights="DEFAULT" for the pretrained detector
>>> get_speech_timestamps(ember.zeros(16000), model, threshold=1.0)     # a probability is never above 1
[]
"""
from __future__ import annotations

import warnings
from typing import Callable, Sequence

import numpy as np

import ember

__all__ = ["get_speech_timestamps", "get_speech_timestamps_from_probs", "VADIterator"]


def _window_size(sampling_rate: int) -> int:
    return 512 if sampling_rate == 16000 else 256


def _as_mono(audio) -> ember.Tensor:
    """``audio`` as a 1-D float32 tensor (leading dimensions of size one dropped)."""
    if not isinstance(audio, ember.Tensor):
        try:
            audio = ember.tensor(np.asarray(audio, dtype=np.float32))
        except (TypeError, ValueError):
            raise TypeError("Audio cannot be casted to tensor. Cast it manually") from None
    while audio.dim() > 1 and audio.shape[0] == 1:
        audio = audio.squeeze(0)
    if audio.dim() > 1:
        raise ValueError("More than one dimension in audio. Are you trying to process audio with 2 channels?")
    return audio


@ember.no_grad()
def get_speech_timestamps(audio, model, threshold: float = 0.5, sampling_rate: int = 16000,
                          min_speech_duration_ms: int = 250, max_speech_duration_s: float = float("inf"),
                          min_silence_duration_ms: int = 100, speech_pad_ms: int = 30, return_seconds: bool = False,
                          time_resolution: int = 1, visualize_probs: bool = False,
                          progress_tracking_callback: Callable[[float], None] | None = None,
                          neg_threshold: float | None = None, window_size_samples: int = 512,
                          min_silence_at_max_speech: int = 98,
                          use_max_poss_sil_at_max_speech: bool = True) -> list[dict]:
    """The speech segments of a recording: ``[{"start": s, "end": e}, ...]`` in samples (or seconds with
    ``return_seconds``), from ``model``'s probability on each chunk (512 samples at 16 kHz, 256 at 8 kHz).

    A segment starts at the first chunk whose probability reaches ``threshold`` and ends once the
    probability has stayed below ``neg_threshold`` (default ``threshold - 0.15``) for
    ``min_silence_duration_ms``; segments shorter than ``min_speech_duration_ms`` are dropped, longer than
    ``max_speech_duration_s`` are split (at the longest pause over ``min_silence_at_max_speech`` ms when
    there is one), and each is padded by ``speech_pad_ms`` on both sides (half the gap when two are closer).
    ``sampling_rate`` is 8000, 16000 or a multiple of 16000 (decimated to 16 kHz; the timestamps are in the
    original rate). ``window_size_samples`` is ignored, as in the package; ``visualize_probs`` is not
    supported (it needs pandas and matplotlib).

    >>> from ember_audio.models import silero_vad
    >>> get_speech_timestamps(ember.zeros(8000), silero_vad(), threshold=1.0, return_seconds=True)
    []
    """
    if visualize_probs:
        raise NotImplementedError("visualize_probs is not supported; plot the probabilities yourself "
                                  "(model(chunk, sampling_rate) per chunk)")
    audio = _as_mono(audio)
    step = 1
    if sampling_rate > 16000 and sampling_rate % 16000 == 0:
        step = sampling_rate // 16000
        sampling_rate = 16000
        audio = audio[::step]
        warnings.warn("Sampling rate is a multiply of 16000, casting to 16000 manually!")
    if sampling_rate not in (8000, 16000):
        raise ValueError("Currently silero VAD models support 8000 and 16000 (or multiply of 16000) sample rates")
    window = _window_size(sampling_rate)
    model.reset_states()
    length = audio.shape[0]
    probs = []
    for start in range(0, length, window):
        chunk = audio[start:start + window]
        if chunk.shape[0] < window:
            chunk = ember.nn.functional.pad(chunk, (0, window - chunk.shape[0]))
        probs.append(model(chunk, sampling_rate).item())
        if progress_tracking_callback:
            progress_tracking_callback(min(start + window, length) / length * 100)
    return get_speech_timestamps_from_probs(
        probs, sampling_rate=sampling_rate, threshold=threshold, min_speech_duration_ms=min_speech_duration_ms,
        max_speech_duration_s=max_speech_duration_s, min_silence_duration_ms=min_silence_duration_ms,
        speech_pad_ms=speech_pad_ms, return_seconds=return_seconds, time_resolution=time_resolution,
        neg_threshold=neg_threshold, min_silence_at_max_speech=min_silence_at_max_speech,
        use_max_poss_sil_at_max_speech=use_max_poss_sil_at_max_speech, audio_length_samples=length, step=step)


class _Segmenter:
    """The state machine of :func:`get_speech_timestamps_from_probs`: fed one probability per chunk, it
    opens and closes segments (unpadded, in samples)."""

    def __init__(self, threshold, neg_threshold, window, min_speech, max_speech, min_silence,
                 min_silence_at_max, use_longest_pause):
        self.threshold, self.neg_threshold, self.window = threshold, neg_threshold, window
        self.min_speech, self.max_speech, self.min_silence = min_speech, max_speech, min_silence
        self.min_silence_at_max, self.use_longest_pause = min_silence_at_max, use_longest_pause
        self.speeches: list[dict] = []
        self.current: dict = {}
        self.triggered = False
        self.temp_end = 0                       # where the current pause began (0: no pause)
        self.prev_end = self.next_start = 0     # the last long-enough pause, for the legacy max-length cut
        self.possible_ends: list[tuple[int, int]] = []   # (pause start, pause length) inside the segment

    def _close(self) -> None:
        self.current = {}
        self.prev_end = self.next_start = self.temp_end = 0
        self.possible_ends = []

    def feed(self, i: int, prob: float) -> None:
        sample = self.window * i
        speech = prob >= self.threshold
        if speech and self.temp_end:   # the pause is over: remember it as a place to cut
            if sample - self.temp_end > self.min_silence_at_max:
                self.possible_ends.append((self.temp_end, sample - self.temp_end))
            self.temp_end = 0
            if self.next_start < self.prev_end:
                self.next_start = sample
        if speech and not self.triggered:
            self.triggered = True
            self.current["start"] = sample
            return
        if self.triggered and sample - self.current["start"] > self.max_speech:
            if self._cut_too_long(sample):
                return
        if prob < self.neg_threshold and self.triggered:
            self._pause(sample)

    def _cut_too_long(self, sample: int) -> bool:
        """End a segment that reached the maximum length; True when the chunk needs nothing more."""
        if self.use_longest_pause and self.possible_ends:
            end, length = max(self.possible_ends, key=lambda p: p[1])
            self.current["end"] = end
            self.speeches.append(self.current)
            next_start = end + length
            self._close()
            if next_start < end + sample:   # the package's test (true unless the pause began at sample 0)
                self.current["start"] = next_start
            else:
                self.triggered = False
            return False
        if self.prev_end:   # the legacy cut: at the last pause longer than min_silence_at_max
            self.current["end"] = self.prev_end
            self.speeches.append(self.current)
            resume, next_start = self.next_start >= self.prev_end, self.next_start
            self._close()
            if resume:
                self.current["start"] = next_start
            else:
                self.triggered = False
            return False
        self.current["end"] = sample
        self.speeches.append(self.current)
        self._close()
        self.triggered = False
        return True

    def _pause(self, sample: int) -> None:
        if not self.temp_end:
            self.temp_end = sample
        pause = sample - self.temp_end
        if not self.use_longest_pause and pause > self.min_silence_at_max:
            self.prev_end = self.temp_end
        if pause < self.min_silence:
            return
        self.current["end"] = self.temp_end
        if self.current["end"] - self.current["start"] > self.min_speech:
            self.speeches.append(self.current)
        self._close()
        self.triggered = False


def _pad_segments(speeches: list[dict], pad: float, length: int) -> None:
    """Widen each segment by ``pad`` samples (half the gap between two segments closer than ``2 * pad``)."""
    for i, speech in enumerate(speeches):
        if i == 0:
            speech["start"] = int(max(0, speech["start"] - pad))
        if i == len(speeches) - 1:
            speech["end"] = int(min(length, speech["end"] + pad))
            continue
        following = speeches[i + 1]
        gap = following["start"] - speech["end"]
        if gap < 2 * pad:
            speech["end"] += int(gap // 2)
            following["start"] = int(max(0, following["start"] - gap // 2))
        else:
            speech["end"] = int(min(length, speech["end"] + pad))
            following["start"] = int(max(0, following["start"] - pad))


def get_speech_timestamps_from_probs(speech_probs: Sequence[float], sampling_rate: int = 16000,
                                     threshold: float = 0.5, min_speech_duration_ms: int = 250,
                                     max_speech_duration_s: float = float("inf"), min_silence_duration_ms: int = 100,
                                     speech_pad_ms: int = 30, return_seconds: bool = False, time_resolution: int = 1,
                                     neg_threshold: float | None = None, min_silence_at_max_speech: int = 98,
                                     use_max_poss_sil_at_max_speech: bool = True,
                                     audio_length_samples: int | None = None, step: int = 1) -> list[dict]:
    """The segments of :func:`get_speech_timestamps` from per-chunk probabilities already computed
    (``audio_length_samples`` defaults to ``len(speech_probs)`` chunks; ``step``: the decimation applied
    before, to scale sample positions back).

    >>> get_speech_timestamps_from_probs([0.0] * 5 + [0.9] * 20 + [0.0] * 10)
    [{'start': 2080, 'end': 13280}]
    """
    window = _window_size(sampling_rate)
    length = len(speech_probs) * window if audio_length_samples is None else audio_length_samples
    pad = sampling_rate * speech_pad_ms / 1000
    min_speech = sampling_rate * min_speech_duration_ms / 1000
    segmenter = _Segmenter(
        threshold, max(threshold - 0.15, 0.01) if neg_threshold is None else neg_threshold, window, min_speech,
        max_speech=sampling_rate * max_speech_duration_s - window - 2 * pad,
        min_silence=sampling_rate * min_silence_duration_ms / 1000,
        min_silence_at_max=sampling_rate * min_silence_at_max_speech / 1000,
        use_longest_pause=use_max_poss_sil_at_max_speech)
    for i, prob in enumerate(speech_probs):
        segmenter.feed(i, prob)
    speeches = segmenter.speeches
    if segmenter.current and length - segmenter.current["start"] > min_speech:
        segmenter.current["end"] = length
        speeches.append(segmenter.current)
    _pad_segments(speeches, pad, length)
    if return_seconds:
        seconds = length / sampling_rate
        for s in speeches:
            s["start"] = max(round(s["start"] / sampling_rate, time_resolution), 0)
            s["end"] = min(round(s["end"] / sampling_rate, time_resolution), seconds)
    elif step > 1:
        for s in speeches:
            s["start"] *= step
            s["end"] *= step
    return speeches


class VADIterator:
    """Speech start and end events on a stream, chunk by chunk (the ``silero-vad`` package's iterator).

    Call it on successive chunks (512 samples at 16 kHz, 256 at 8 kHz): it returns ``{"start": sample}``
    when speech begins (``speech_pad_ms`` before the chunk), ``{"end": sample}`` once the probability has
    stayed below ``threshold - 0.15`` for ``min_silence_duration_ms``, else ``None``. Positions count from
    the first chunk since :meth:`reset_states` (in seconds with ``return_seconds``).

    >>> from ember_audio.models import silero_vad
    >>> vad = VADIterator(silero_vad(), threshold=1.0)
    >>> vad(ember.zeros(512)) is None
    True
    """

    def __init__(self, model, threshold: float = 0.5, sampling_rate: int = 16000,
                 min_silence_duration_ms: int = 100, speech_pad_ms: int = 30):
        if sampling_rate not in (8000, 16000):
            raise ValueError("VADIterator does not support sampling rates other than [8000, 16000]")
        self.model = model
        self.threshold = threshold
        self.sampling_rate = sampling_rate
        self.min_silence_samples = sampling_rate * min_silence_duration_ms / 1000
        self.speech_pad_samples = sampling_rate * speech_pad_ms / 1000
        self.reset_states()

    def reset_states(self) -> None:
        """Start a new stream (the model's state too)."""
        self.model.reset_states()
        self.triggered = False
        self.temp_end = 0
        self.current_sample = 0

    def _position(self, sample: float, return_seconds: bool, time_resolution: int):
        return round(sample / self.sampling_rate, time_resolution) if return_seconds else int(sample)

    @ember.no_grad()
    def __call__(self, x, return_seconds: bool = False, time_resolution: int = 1) -> dict | None:
        if not isinstance(x, ember.Tensor):
            try:
                x = ember.tensor(np.asarray(x, dtype=np.float32))
            except (TypeError, ValueError):
                raise TypeError("Audio cannot be casted to tensor. Cast it manually") from None
        window = x.shape[1] if x.dim() == 2 else x.shape[0]
        self.current_sample += window
        prob = self.model(x, self.sampling_rate).item()
        if prob >= self.threshold and self.temp_end:
            self.temp_end = 0
        if prob >= self.threshold and not self.triggered:
            self.triggered = True
            start = max(0, self.current_sample - self.speech_pad_samples - window)
            return {"start": self._position(start, return_seconds, time_resolution)}
        if prob < self.threshold - 0.15 and self.triggered:
            if not self.temp_end:
                self.temp_end = self.current_sample
            if self.current_sample - self.temp_end < self.min_silence_samples:
                return None
            end = self.temp_end + self.speech_pad_samples - window
            self.temp_end = 0
            self.triggered = False
            return {"end": self._position(end, return_seconds, time_resolution)}
        return None
