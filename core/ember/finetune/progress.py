"""Progress display: a tqdm bar on a terminal when tqdm is installed (``pip install ember[progress]``), a
plain line with throughput and ETA otherwise; nothing per batch when the output is not a terminal (logs
get one line per epoch), nothing at all when quiet.

>>> import io
>>> stream = io.StringIO()
>>> bar = progress_bar(3, "epoch 1/1", stream=stream, interactive=False)
>>> for _ in range(3): bar.update(1, samples=32)
>>> bar.close()
>>> stream.getvalue()
''
"""
from __future__ import annotations

import sys
import time

__all__ = ["progress_bar", "Reporter"]


class _Silent:
    def update(self, n: int = 1, samples: int = 0, **postfix) -> None:
        pass

    def close(self) -> None:
        pass


class _Plain:
    """One line rewritten in place: ``epoch 2/5  37/120 [ 412 samples/s, ETA 0:00:12] loss 0.31``."""

    def __init__(self, total: int, desc: str, stream):
        self.total, self.desc, self.stream = total, desc, stream
        self.done = self.samples = 0
        self.start = time.perf_counter()
        self.postfix = ""

    def update(self, n: int = 1, samples: int = 0, **postfix) -> None:
        self.done += n
        self.samples += samples
        self.postfix = " ".join(f"{k} {v:.4g}" for k, v in postfix.items())
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        eta = (self.total - self.done) * elapsed / self.done if self.done else 0.0
        m, s = divmod(int(eta), 60)
        self.stream.write(f"\r{self.desc} {self.done}/{self.total} [{self.samples / elapsed:.0f} samples/s, "
                          f"ETA {m // 60}:{m % 60:02d}:{s:02d}] {self.postfix}")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


class _Tqdm:
    def __init__(self, total: int, desc: str, stream):
        from tqdm import tqdm
        self.bar = tqdm(total=total, desc=desc, file=stream, unit="batch", dynamic_ncols=True, leave=True)

    def update(self, n: int = 1, samples: int = 0, **postfix) -> None:
        if postfix:
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in postfix.items()}, refresh=False)
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


def progress_bar(total: int, desc: str, stream=None, interactive: bool | None = None, quiet: bool = False):
    """A bar over ``total`` batches: ``update(n, samples=, **postfix)`` then ``close()``."""
    stream = stream if stream is not None else sys.stderr
    interactive = stream.isatty() if interactive is None else interactive
    if quiet or not interactive:
        return _Silent()
    try:
        return _Tqdm(total, desc, stream)
    except ImportError:
        return _Plain(total, desc, stream)


class Reporter:
    """The run's messages on stderr: per-epoch summaries and notes, unless quiet."""

    def __init__(self, quiet: bool = False, stream=None, interactive: bool | None = None):
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = interactive

    def bar(self, total: int, desc: str):
        return progress_bar(total, desc, self.stream, self.interactive, self.quiet)

    def say(self, message: str) -> None:
        if not self.quiet:
            print(message, file=self.stream, flush=True)
