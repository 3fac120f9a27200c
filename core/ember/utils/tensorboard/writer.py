"""``SummaryWriter``: scalars, histograms, images and text into TensorBoard event files, as PyTorch's.

The event files are written by the ``tensorboard`` package's own ``EventFileWriter`` (TFRecord files of
``Event`` protocol buffers, read by ``tensorboard --logdir runs``); ``_summary.py`` builds the
``Summary`` messages. ``add_graph`` needs graph capture, which Ember does not have yet.
"""
from __future__ import annotations

import os
import socket
import time
from datetime import datetime
from typing import Any

__all__ = ["SummaryWriter"]

_MISSING = ("ember.utils.tensorboard.SummaryWriter writes TensorBoard event files with the tensorboard package, "
            "which is not installed: `pip install tensorboard`")


def _event_file_writer():
    """tensorboard's ``EventFileWriter`` class; ``ImportError`` naming the package when it is missing."""
    try:
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError as e:
        raise ModuleNotFoundError(_MISSING, name="tensorboard") from e
    return EventFileWriter


def _default_log_dir(comment: str) -> str:
    """``runs/<Mon>DD_HH-MM-SS_<hostname><comment>``, PyTorch's default."""
    return os.path.join("runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname() + comment)


class SummaryWriter:
    """Write entries for TensorBoard to event files in ``log_dir`` (PyTorch's ``SummaryWriter``).

    ``log_dir`` defaults to ``runs/<date>_<hostname><comment>``. ``purge_step`` marks a restart at that
    step (TensorBoard hides later events of the previous run). Events are queued (``max_queue``) and
    written in the background at least every ``flush_secs`` seconds; :meth:`flush` and :meth:`close` write
    them now. Values may be Ember tensors, NumPy arrays or Python numbers.

    >>> writer = SummaryWriter("runs/mnist")
    >>> for step in range(3):
    ...     writer.add_scalar("loss", 1.0 / (step + 1), step)
    >>> writer.close()
    """

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "", purge_step: int | None = None,
                 max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = "") -> None:
        self._writer_cls = _event_file_writer()
        self.log_dir = os.fspath(log_dir) if log_dir is not None else _default_log_dir(comment)
        self.purge_step, self.max_queue, self.flush_secs = purge_step, max_queue, flush_secs
        self.filename_suffix = filename_suffix
        self._writers: dict[str, Any] = {}
        self.file_writer = self._file_writer(self.log_dir)
        if purge_step is not None:
            from . import _summary
            self.file_writer.add_event(_summary.session_start(purge_step))

    def _file_writer(self, log_dir: str):
        writer = self._writers.get(log_dir)
        if writer is None:
            writer = self._writer_cls(log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self._writers[log_dir] = writer
        return writer

    def get_logdir(self) -> str:
        """The directory the event files are written to."""
        return self.log_dir

    def _add(self, summary, global_step, walltime, log_dir: str | None = None) -> None:
        from . import _summary
        event = _summary.event(summary, global_step, time.time() if walltime is None else walltime)
        self._file_writer(log_dir or self.log_dir).add_event(event)

    def add_scalar(self, tag: str, scalar_value, global_step: int | None = None, walltime: float | None = None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        """One scalar (``loss``, ``accuracy``) at ``global_step``."""
        from . import _summary
        self._add(_summary.scalar(tag, scalar_value, new_style, double_precision), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """Several scalars on one chart: each ``tag`` goes to its own run, ``<log_dir>/<main_tag>_<tag>``."""
        from . import _summary
        for tag, value in tag_scalar_dict.items():
            run = os.path.join(self.log_dir, main_tag.replace("/", "_") + "_" + tag)
            self._add(_summary.scalar(main_tag, value), global_step, walltime, log_dir=run)

    def add_histogram(self, tag: str, values, global_step: int | None = None, bins="tensorflow",
                      walltime: float | None = None, max_bins: int | None = None) -> None:
        """A histogram of ``values``; ``bins`` is ``"tensorflow"`` (TensorFlow's exponential buckets) or
        anything ``numpy.histogram`` takes (``"auto"``, a count, edges)."""
        from . import _summary
        self._add(_summary.histogram(tag, values, bins, max_bins), global_step, walltime)

    def add_image(self, tag: str, img_tensor, global_step: int | None = None, walltime: float | None = None,
                  dataformats: str = "CHW") -> None:
        """One image: floats in [0, 1] or uint8 in [0, 255]; ``dataformats`` ``"CHW"``, ``"HWC"``, ``"HW"``.
        PNG encoding uses Pillow."""
        from . import _summary
        self._add(_summary.image(tag, img_tensor, dataformats), global_step, walltime)

    def add_images(self, tag: str, img_tensor, global_step: int | None = None, walltime: float | None = None,
                   dataformats: str = "NCHW") -> None:
        """A batch of images shown as one grid of up to 8 columns (``dataformats`` ``"NCHW"`` or ``"NHWC"``)."""
        from . import _summary
        self._add(_summary.images(tag, img_tensor, dataformats), global_step, walltime)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """A text (Markdown) entry."""
        from . import _summary
        self._add(_summary.text(tag, text_string), global_step, walltime)

    def add_graph(self, model, input_to_model=None, verbose: bool = False, use_strict_trace: bool = True) -> None:
        """Not implemented: drawing the model's graph needs graph capture (``ember.jit.trace``), which is
        planned, not available."""
        raise NotImplementedError("SummaryWriter.add_graph needs graph capture (ember.jit.trace), which Ember does "
                                  "not have yet; the other add_* methods work")

    def flush(self) -> None:
        """Write everything queued to disk."""
        for writer in self._writers.values():
            writer.flush()

    def close(self) -> None:
        """Flush and close the event files; the writer can't be used afterwards."""
        for writer in self._writers.values():
            writer.flush()
            writer.close()
        self._writers.clear()

    def __enter__(self) -> "SummaryWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
