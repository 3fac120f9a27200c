"""What the ``audio`` plugin registers in Ember's datasets registry (``ember.hub.list_datasets(modality="audio")``)."""
from __future__ import annotations

from ember.plugins import RegistrationTable

from . import SPEECHCOMMANDS, YESNO, AudioFolder, ClipFolder, EspeakCommands, EspeakKeywords, read_clip
from .espeak import WORDS

# Tasks come from ember.plugins.tasks.
DATASETS = RegistrationTable("datasets", modality="audio")
DATASETS.add("speechcommands", SPEECHCOMMANDS, task="keyword-spotting", num_classes=35,
             splits=("training", "validation", "testing"), downloadable=True, sample_rate=16000,
             source="http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz")
DATASETS.add("yesno", YESNO, task="automatic-speech-recognition", num_classes=None, downloadable=True,
             sample_rate=8000, source="http://www.openslr.org/resources/1/waves_yesno.tar.gz")
# Made locally with espeak-ng (download=True synthesises it): python -m ember_audio.datasets generate espeak_commands
DATASETS.add("espeak_commands", EspeakCommands, task="keyword-spotting", num_classes=len(WORDS),
             splits=("training", "validation", "testing"), downloadable=True, sample_rate=16000,
             source="espeak-ng (synthesised locally)")
# The same clips as (waveform, class index) samples: `ember finetune MODEL audio:espeak_keywords`.
DATASETS.add("espeak_keywords", EspeakKeywords, task="keyword-spotting", num_classes=len(WORDS),
             splits=EspeakKeywords.splits, downloadable=True, sample_rate=16000, source="espeak-ng (synthesised locally)")
DATASETS.add("audio_folder", AudioFolder, task="audio-classification", num_classes=None, downloadable=False)
# `ember finetune MODEL audiofolder:DIR` builds ClipFolder(DIR, **data options): 1 s of 16 kHz mono per clip;
# `ember predict` reads an audio file given as input with read_clip (the same conversions).
DATASETS.add("clip_folder", ClipFolder, task="audio-classification", num_classes=None, downloadable=False,
             data_spec="audiofolder", reader=read_clip)
