"""Make the offline speech set: ``python -m ember_audio.datasets generate espeak_commands [--root DIR] [--force]``.

Writes ``$EMBER_HOME/datasets/espeak_commands`` (or ``--root``/espeak_commands) with espeak-ng; exits with
status 1 and says what to install when espeak-ng is missing.

    $ python -m ember_audio.datasets generate espeak_commands
    espeak_commands: 640 clips (32 speakers, 20 words) in /root/.cache/ember/datasets/espeak_commands
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from .espeak import generate_espeak_commands

GENERATORS = {"espeak_commands": generate_espeak_commands}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ember_audio.datasets", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["generate"])
    parser.add_argument("name", choices=sorted(GENERATORS))
    parser.add_argument("--root", help="the datasets folder (default $EMBER_HOME/datasets)")
    parser.add_argument("--voices", type=int, default=16, help="distinct voices (accent + variant; default 16)")
    parser.add_argument("--per-voice", type=int, default=2, help="speeds/pitches per voice (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="replace an existing set")
    args = parser.parse_args(argv)
    try:
        folder = GENERATORS[args.name](args.root, num_voices=args.voices, per_voice=args.per_voice, seed=args.seed,
                                       force=args.force)
    except (RuntimeError, OSError, ValueError) as e:
        print(f"{args.name}: {e}", file=sys.stderr)
        return 1
    with open(os.path.join(folder, "speakers.json")) as f:
        manifest = json.load(f)
    n_speakers, n_words = len(manifest["speakers"]), len(manifest["words"])
    print(f"{args.name}: {n_speakers * n_words} clips ({n_speakers} speakers, {n_words} words) in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
