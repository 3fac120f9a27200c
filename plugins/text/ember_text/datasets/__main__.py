"""Fetch or check the real corpora: ``python -m ember_text.datasets {fetch,verify} [NAME ...] [--root DIR]``.

``fetch`` downloads what is missing (sha256-checked) into ``$EMBER_HOME/datasets`` (or ``--root``); ``verify``
only checks. Both exit with status 1 when a corpus is not there afterwards, naming what is wrong.

    $ python -m ember_text.datasets fetch shakespeare fortunes
    shakespeare: 37 files verified in /root/.cache/ember/datasets/Shakespeare
"""
from __future__ import annotations

import argparse
import sys

from .fortunes import Fortunes
from .shakespeare import Shakespeare
from .utils import DatasetNotFoundError

CORPORA = {cls.name: cls for cls in (Shakespeare, Fortunes)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ember_text.datasets", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["fetch", "verify"])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"corpora (default all: {', '.join(CORPORA)})")
    parser.add_argument("--root", help="the datasets folder (default $EMBER_HOME/datasets)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in CORPORA]
    if unknown:
        parser.error(f"unknown corpus {', '.join(unknown)}; expected {', '.join(CORPORA)}")
    status = 0
    for name in args.names or CORPORA:
        cls = CORPORA[name]
        try:
            if args.action == "fetch":
                cls.download(args.root, progress=True)
            problems = cls.check_integrity(args.root)
        except (DatasetNotFoundError, OSError, ValueError) as e:
            problems = [str(e)]
        if problems:
            status = 1
            print(f"{name}: not available in {cls.folder_for(args.root)}:", *problems, sep="\n  ", file=sys.stderr)
        else:
            print(f"{name}: {len(cls.records)} files verified in {cls.folder_for(args.root)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
