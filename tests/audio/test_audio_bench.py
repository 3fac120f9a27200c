"""The audio benchmark rows (benchmarks/workloads_audio.py): Ember's steps run, and the torchaudio side
reports itself unavailable (a skipped side, not a failed run) when torchaudio is missing."""
import importlib.util
import pathlib
import types

import pytest

import ember

BENCHMARKS = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def workloads_audio(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import workloads_audio
    return workloads_audio


def test_rows_and_ember_steps(workloads_audio):
    names = [w.name for w in workloads_audio.ALL]
    assert names == ["audio: MelSpectrogram of 10 s at 16 kHz, batch 16 (vs torchaudio)",
                     "audio: resample 44.1k -> 16k, 1 s, batch 16 (vs torchaudio)"]
    with pytest.warns(UserWarning, match="all zero values"):  # torchaudio's default 128 mels on 201 bins warn too
        mel = workloads_audio.melspectrogram_10s(ember)
    assert mel().shape == (16, 128, 801)
    assert workloads_audio.resample_44k_16k(ember)().shape == (16, 16000)


@pytest.mark.skipif(importlib.util.find_spec("torchaudio") is not None, reason="torchaudio is installed here")
def test_torch_side_is_unavailable_without_torchaudio(workloads_audio):
    from workloads import Unavailable
    with pytest.raises(Unavailable, match="torchaudio is not installed"):
        workloads_audio.resample_44k_16k(types.SimpleNamespace(__name__="torch"))
