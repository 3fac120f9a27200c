"""Audio datasets (torchaudio.datasets names), a folder-per-class reader and batching for clips of any length.

* :class:`SPEECHCOMMANDS` (Speech Commands' layout and splits) and :class:`YESNO`, as torchaudio has them;
* :class:`EspeakCommands`: spoken digits and command words synthesised offline with espeak-ng, in Speech
  Commands' layout (``python -m ember_audio.datasets generate espeak_commands``), split by voice, and
  :class:`EspeakKeywords`, the same clips as ``(waveform, class index)`` samples for classification;
* :class:`AudioFolder` (``root/<class>/<clip>``, optional resampling, mono and fixed length) and
  :class:`ClipFolder` (the same with 1 s of 16 kHz mono: ``ember finetune MODEL audiofolder:DIR``);
* :func:`pad_collate` / :class:`PadCollate`: pad a batch to its longest clip and return the lengths.

Missing datasets raise :class:`DatasetNotFoundError` (a ``RuntimeError`` and a ``FileNotFoundError``) naming
the folder; a class folder without clips raises ``FileNotFoundError`` naming the class.
"""
from .collate import PadCollate, pad_collate, pad_waveforms
from .espeak import EspeakCommands, EspeakKeywords, generate_espeak_commands
from .folder import AUDIO_EXTENSIONS, AudioFolder, ClipFolder, prepare_clip, read_clip
from .speechcommands import SPEECHCOMMANDS
from .utils import DatasetFormatError, DatasetNotFoundError, default_root, fix_length
from .yesno import YESNO

__all__ = ["SPEECHCOMMANDS", "YESNO", "EspeakCommands", "EspeakKeywords", "generate_espeak_commands", "AudioFolder", "ClipFolder",
           "AUDIO_EXTENSIONS", "read_clip", "prepare_clip", "fix_length", "PadCollate", "pad_collate",
           "pad_waveforms", "DatasetNotFoundError", "DatasetFormatError", "default_root"]
