"""The ``ember`` command: plugins, models, datasets, transforms, metrics, weights and the environment.

    ember plugins [--json] [-v]          installed plugins: distribution, version, status, registrations, errors
    ember plugins check [--json]         exit 1 on failed plugins, unknown hooks or name clashes
    ember models [--plugin P] [--task T] [--include PATTERN] [--json]
    ember datasets | transforms | metrics [same filters]
    ember weights [list] [MODEL ...] [--json]                each file's size, sha256 and status (installed,
                                                             downloaded or missing)
    ember weights verify [MODEL ...] [--download] [--json]   check files against their sha256
    ember weights fetch [MODEL ...] [--json]                 download missing files, then verify
    ember weights hash FILE ... [--json]                     the sha256 and size a Weights record needs
    ember env [--json]                   versions, devices and backends, plugins
    ember finetune MODEL DATA [options]  fine-tune a registered model on a registered dataset or your files
                                         (`ember finetune --help` lists every option)
    ember predict OUT INPUT... [--topk K] [--json]   classify inputs with a fine-tuned model

Tables are for people; ``--json`` prints a JSON document for scripts. Plugins add subcommands through
the ``ember_register_commands`` hook. ``ember plugins`` always works, even when plugins fail to load.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import warnings
from typing import Any, Iterable, Sequence

BUILTINS = ("plugins", "models", "datasets", "transforms", "metrics", "weights", "env", "run", "finetune",
            "predict")
_LENIENT = ("plugins", "env")   # commands that show plugin failures instead of stopping on them


# ---- output helpers -------------------------------------------------------------------------------------

def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    rows = [[("-" if c is None or c == "" else str(c)) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    fmt = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt([h.upper() for h in headers])] + [fmt(r) for r in rows])


def _qualname(obj) -> str:
    mod, qn = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if qn is None:
        return f"{type(obj).__module__}.{type(obj).__qualname__}()"
    return f"{mod}.{qn}" if mod else qn


def _jsonable(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, dict) or hasattr(v, "items"):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_jsonable(x) for x in v]
    if isinstance(v, type) or callable(v):
        return _qualname(v)
    return repr(v)


def _print_json(doc) -> None:
    print(json.dumps(_jsonable(doc), indent=2))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# ---- commands -----------------------------------------------------------------------------------------

def _manager():
    from .plugins import get_manager
    return get_manager()


def _cmd_plugins(args) -> int:
    m = _manager()
    if args.action == "check":
        problems = m.problems()
        if args.json:
            _print_json({"ok": not problems, "problems": problems})
        elif problems:
            print("\n".join(f"error: {p}" for p in problems))
        else:
            print(f"ok: {_plural(sum(p.status == 'loaded' for p in m.plugins), 'plugin')} loaded, "
                  "no failures, unknown hooks or name clashes")
        return 1 if problems else 0
    if args.json:
        docs = []
        for p in m.plugins:
            d = p.to_dict()
            if not args.verbose:
                d.pop("traceback")
            docs.append(d)
        _print_json(docs)
        return 0
    if not m.plugins:
        print("No Ember plugins are installed (plugins are distributions with an entry point in the group 'ember').")
        return 0
    rows = []
    for p in m.plugins:
        what = ", ".join(_plural(len(v), k[:-1]) for k, v in p.registered.items())
        rows.append([p.name, p.distribution, p.version, p.status, what])
    print(_table(["name", "distribution", "version", "status", "registered"], rows))
    for p in m.plugins:
        notes = []
        if p.status == "failed":
            notes.append(f"  error ({p.stage}): {p.error}")
            if args.verbose and p.traceback:
                notes.extend("    " + line for line in p.traceback.rstrip().splitlines())
        if p.unknown_hooks:
            notes.append(f"  unknown hooks (never called): {', '.join(p.unknown_hooks)}")
        if args.verbose and p.registered:
            notes.extend(f"  {kind}: {', '.join(f'{p.name}:{n}' for n in names)}" for kind, names in p.registered.items())
        if notes:
            print(f"\n{p.name}:")
            print("\n".join(notes))
    return 0


_COLUMNS = {
    "models": ("task",),
    "datasets": ("task", "modality"),
    "transforms": ("modality",),
    "metrics": ("task", "higher_is_better"),
}


def _entry_doc(e) -> dict:
    doc = {"name": e.canonical, "plugin": e.plugin, "distribution": e.distribution, "object": _qualname(e.obj)}
    meta = dict(e.metadata)
    w = meta.pop("weights", None)
    if e.kind == "models":
        doc["weights"] = [] if w is None else [m.name for m in w]
        doc["default_weights"] = None if w is None or "DEFAULT" not in w.__members__ else w.DEFAULT.name
        doc["weights_enum"] = None if w is None else w.__name__
    doc["metadata"] = meta
    return doc


def _cmd_entries(args) -> int:
    from .plugins import get_registry
    kind = args.command
    filters = {k: getattr(args, k) for k in ("task", "modality") if getattr(args, k, None) is not None}
    entries = get_registry(kind).entries(args.include, args.exclude, plugin=args.plugin, **filters)
    if args.json:
        _print_json([_entry_doc(e) for e in entries])
        return 0
    if not entries:
        print(f"No {kind} registered" + (" matching the filters." if (args.plugin or args.include or filters) else
                                       " (install a plugin that provides some; see `ember plugins`)."))
        for note in _manager().lookup_notes(kind, ""):
            print(f"note: {note}")
        return 0
    cols = _COLUMNS[kind]
    rows = []
    for e in entries:
        # The providing plugin in its own column, so a bare name that resolves to another plugin's object
        # than the one expected is visible.
        row = [e.canonical, e.plugin] + [e.metadata.get(c) for c in cols]
        if kind == "models":
            w = e.metadata.get("weights")
            names = [] if w is None else [m.name + ("*" if "DEFAULT" in w.__members__ and w.DEFAULT is m else "")
                                          for m in w]
            row.append(", ".join(names))
        elif kind in ("transforms", "metrics"):
            row.append("yes" if e.functional is not None else "no")
        row.append(_qualname(e.obj))
        rows.append(row)
    headers = ["name", "plugin", *cols] + (["weights (*default)"] if kind == "models" else []) + \
        (["functional"] if kind in ("transforms", "metrics") else []) + ["object"]
    print(_table(headers, rows))
    return 0


def _weights_items(names: Sequence[str]):
    """(entry, member) for every weights file of the named models (of every model when none is named).

    A named model without pretrained weights is an error: it has nothing to list, verify or fetch.
    """
    from .plugins import get_registry
    reg = get_registry("models")
    entries = [reg.get(n) for n in names] if names else reg.entries()
    if names:
        bare = [e.canonical for e in entries if e.metadata.get("weights") is None]
        if bare:
            raise _NoWeights(f"{', '.join(bare)} {'has' if len(bare) == 1 else 'have'} no pretrained weights "
                             "(`ember weights` lists the models that have some)")
    for e in entries:
        enum_cls = e.metadata.get("weights")
        for member in (enum_cls or ()):
            yield e, member


class _NoWeights(LookupError):
    """A model named on the command line has no pretrained weights."""


def _weights_state(member, download: bool) -> tuple[str, str | None]:
    """(status, detail) of one weights file: ok, missing, mismatch, not downloaded, error."""
    from .plugins.weights import ChecksumError, WeightsError
    w = member.value
    records = w.records()   # the file and its companions (a tokenizer): all are checked
    try:
        absent = [r.path() for r in records if not r.path().is_file()]
    except WeightsError as e:
        return "missing", str(e)
    if absent:
        if w.is_remote and not download:
            return "not downloaded", (f"expected at {', '.join(map(str, absent))} (`ember weights verify --download` "
                                      "fetches it)")
        try:
            w.fetch(progress=True)   # a line on stderr: what is fetched and where it goes
        except WeightsError as e:
            return ("missing" if not w.is_remote else "error"), str(e)
    try:
        for r in records:
            r.verify()
    except ChecksumError as e:
        return "mismatch", str(e)
    except WeightsError as e:
        return "missing", str(e)
    return "ok", None


def _cmd_weights_hash(args) -> int:
    """``ember weights hash FILE ...``: the sha256 and size to put in a ``Weights`` record."""
    from .plugins.weights import sha256_file
    if not args.models:
        print("error: `ember weights hash` needs one or more files", file=sys.stderr)
        return 2
    docs = []
    for name in args.models:
        if not os.path.isfile(name):
            print(f"error: {name}: no such file", file=sys.stderr)
            return 1
        docs.append({"path": name, "sha256": sha256_file(name), "size": os.path.getsize(name)})
    if args.json:
        _print_json(docs)
    else:
        for d in docs:
            print(f'{d["path"]}:\n    sha256="{d["sha256"]}", size={d["size"]},')
    return 0


def _cmd_weights(args) -> int:
    if args.action == "hash":
        return _cmd_weights_hash(args)
    if args.action == "fetch":
        args.action, args.download = "verify", True
    try:
        items = list(_weights_items(args.models))
    except _NoWeights as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    from .plugins.weights import file_status
    rows, docs, bad = [], [], 0
    for entry, member in items:
        w = member.value
        try:
            location = str(w.path())
        except Exception as e:  # noqa: BLE001  (a package that isn't installed)
            location = f"? ({e})"
        doc = {"model": entry.canonical, "weights": f"{type(member).__name__}.{member.name}", "url": w.url,
               "path": location, "sha256": w.sha256, "size": w.size, "meta": w.meta}
        if args.action == "verify":
            status, detail = _weights_state(member, args.download)
            bad += status in ("missing", "mismatch", "error")
            doc.update(status=status, detail=detail)
            rows.append([entry.canonical, doc["weights"], status, location])
        else:
            doc["status"] = file_status(w)
            rows.append([entry.canonical, doc["weights"], doc["status"], w.size, w.sha256[:12], location])
        docs.append(doc)
    if args.json:
        _print_json(docs)
    elif not rows:
        print("No registered model has pretrained weights.")
    elif args.action == "verify":
        print(_table(["model", "weights", "status", "path"], rows))
        for d in docs:
            if d["status"] not in ("ok", "not downloaded"):
                print(f"\n{d['weights']}: {d['detail']}")
        print(f"\n{_plural(len(rows), 'file')}: " + ", ".join(
            f"{sum(d['status'] == s for d in docs)} {s}" for s in sorted({d['status'] for d in docs})))
    else:
        print(_table(["model", "weights", "status", "size", "sha256", "path"], rows))
    return 1 if bad else 0


def _version(package: str) -> str | None:
    """Version of the distribution providing ``package`` (CuPy ships as ``cupy-cuda12x`` and the like)."""
    import importlib.metadata
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        pass
    for dist in importlib.metadata.packages_distributions().get(package, []):
        try:
            return f"{importlib.metadata.version(dist)} ({dist})"
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _cmd_env(args) -> int:
    import ember
    from . import backend
    from .plugins.weights import ember_home
    m = _manager()
    provided = {e.name: e for e in m.registries["backends"].entries()}
    backends = []
    for name, b in sorted(backend.registered_backends().items()):
        try:
            available, count = bool(b.is_available()), int(b.device_count())
        except Exception as e:  # noqa: BLE001  (a broken backend is reported, not fatal)
            available, count = False, 0
            reason = f"{type(e).__name__}: {e}"
        else:
            reason = None if available else b.unavailable_reason()
        backends.append({"type": name, "available": available, "device_count": count if available else 0,
                         "provider": provided[name].canonical if name in provided else "ember (built-in)",
                         "reason": reason})
    doc = {
        "ember": ember.__version__,
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "packages": {d: _version(d) for d in ("numpy", "pluggy", "cupy")},
        "env": {k: v for k, v in sorted(os.environ.items()) if k.startswith("EMBER_")},
        "cache": str(ember_home()),
        "backends": backends,
        "plugins": [{"name": p.name, "distribution": p.distribution, "version": p.version, "status": p.status}
                    for p in m.plugins],
        "plugin_info": m.env_info(),
    }
    if args.json:
        _print_json(doc)
        return 0
    pkgs = [[k, v or "not installed"] for k, v in doc["packages"].items()]
    print(_table(["component", "version"], [["ember", doc["ember"]], ["python", doc["python"]],
                                             ["platform", doc["platform"]], *pkgs]))
    print(f"\ncache ($EMBER_HOME): {doc['cache']}")
    for k, v in doc["env"].items():
        print(f"{k}={v}")
    print("\nDevices and backends")
    print(_table(["type", "available", "devices", "provider", "note"],
                 [[b["type"], "yes" if b["available"] else "no", b["device_count"], b["provider"], b["reason"]]
                  for b in backends]))
    print("\nPlugins")
    if doc["plugins"]:
        print(_table(["name", "distribution", "version", "status"],
                     [[p["name"], p["distribution"], p["version"], p["status"]] for p in doc["plugins"]]))
    else:
        print("none installed")
    for name, info in doc["plugin_info"].items():
        print(f"\n{name}:")
        for k, v in info.items():
            print(f"  {k}: {v}")
    return 0


# ---- finetune and predict ---------------------------------------------------------------------------------

def _cmd_finetune(args) -> int:
    from .finetune import DataError, ModelError, Trainer
    from .finetune.config import config_from_args
    from .plugins import RegistryError
    try:
        trainer = Trainer(config_from_args(args), quiet=args.quiet or args.json)
        summary = trainer.fit()
    except (DataError, ModelError, RegistryError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        _print_json(summary)
    return 0


def _cmd_predict(args) -> int:
    from .finetune import predict
    from .plugins.weights import WeightsError
    try:
        results = predict(args.out, args.inputs, topk=args.topk)
    except (WeightsError, ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        _print_json(results)
        return 0
    for r in results:
        print(f"{r['input']}: " + ", ".join(f"{t['label']} ({t['probability']:.1%})" for t in r["top"]))
    return 0


def _add_finetune_commands(sub) -> None:
    from .finetune.config import add_arguments
    p = sub.add_parser("finetune", help="fine-tune a registered model on a registered dataset or your own files",
                       description="Fine-tune MODEL on DATA: the classes come from the data, the preprocessing from "
                                   "the weights; OUT gets the best and last checkpoints, config.json, metrics.jsonl/"
                                   ".csv, curves.png, the confusion matrix and weights.json (load the result with "
                                   "ember.hub.get_model(MODEL, weights=OUT), classify with `ember predict OUT ...`).",
                       epilog="examples: ember finetune vision:lenet5 vision:digits --epochs 2 --out runs/digits; "
                              "ember finetune vision:efficientnet_lite0 imagefolder:photos/ --freeze all-but-head")
    add_arguments(p)
    p.set_defaults(func=_cmd_finetune)
    p = sub.add_parser("predict", help="classify inputs with a fine-tuned model (the OUT of `ember finetune`)")
    p.add_argument("out", metavar="OUT", help="the output directory of `ember finetune` (or its weights.json)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files (images, ...), texts, or comma-separated "
                                                              "feature values")
    p.add_argument("--topk", type=int, default=1, help="how many classes to show per input (default: 1)")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(func=_cmd_predict)


# ---- parser -----------------------------------------------------------------------------------------------

def _task(name: str) -> str:
    """argparse type of ``--task``: a name from the task vocabulary (a misspelling would match nothing)."""
    from .plugins.tasks import UnknownTaskError, check_task
    try:
        return check_task(name)
    except UnknownTaskError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _add_filters(p: argparse.ArgumentParser, kind: str) -> None:
    p.add_argument("--plugin", action="append", help="only this plugin's entries (repeatable)")
    p.add_argument("--include", action="append", metavar="PATTERN", help="fnmatch pattern on the name (repeatable)")
    p.add_argument("--exclude", action="append", metavar="PATTERN", help="fnmatch pattern to leave out (repeatable)")
    if kind in ("models", "datasets", "metrics"):
        p.add_argument("--task", type=_task, help="only entries registered with this task (a name from "
                                                  "ember.plugins.tasks.TASKS, such as image-classification)")
    if kind in ("datasets", "transforms"):
        p.add_argument("--modality", help="only entries registered with this modality")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")


def build_parser(commands=()) -> argparse.ArgumentParser:
    """The argument parser, with the given plugin :class:`~ember.plugins.Command` objects added."""
    import ember
    parser = argparse.ArgumentParser(prog="ember", description="Ember: plugins, models, weights and environment.")
    parser.add_argument("--version", action="version", version=f"ember {ember.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="<command>")

    p = sub.add_parser("plugins", help="installed plugins and their status")
    p.add_argument("action", nargs="?", choices=["list", "check"], default="list",
                   help="list (default) or check: exit 1 on failed plugins, unknown hooks or name clashes")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.add_argument("-v", "--verbose", action="store_true", help="tracebacks and every registered name")
    p.set_defaults(func=_cmd_plugins)

    for kind, what in (("models", "model builders and their weights"), ("datasets", "datasets"),
                       ("transforms", "transforms"), ("metrics", "metrics")):
        p = sub.add_parser(kind, help=f"registered {what}")
        _add_filters(p, kind)
        p.set_defaults(func=_cmd_entries)

    p = sub.add_parser("weights", help="pretrained weights: list, verify files against their sha256, fetch them, "
                                       "or hash a new file")
    p.add_argument("action", nargs="?", choices=["list", "verify", "fetch", "hash"], default="list",
                   help="fetch = verify --download (into $EMBER_HOME/weights); hash FILE ... prints the sha256 and "
                        "size a Weights record needs")
    p.add_argument("models", nargs="*", metavar="MODEL", help="only these models (default: all); files for hash")
    p.add_argument("--download", action="store_true", help="with verify: download missing remote files first")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(func=_cmd_weights)

    p = sub.add_parser("env", help="versions, devices and backends, plugins")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(func=_cmd_env)
    _add_finetune_commands(sub)

    # `ember run` is dispatched before parsing (its arguments belong to the script); listed here for --help.
    sub.add_parser("run", help="start a distributed job on MPI: ember run -n 4 train.py args... (torchrun's flags)",
                   add_help=False)

    taken = set(BUILTINS)
    counts: dict[str, int] = {}
    for c in commands:
        counts[c.name] = counts.get(c.name, 0) + 1
    for c in commands:
        names = [c.canonical]
        if counts[c.name] == 1 and c.name not in taken:
            names.insert(0, c.name)
            taken.add(c.name)
        p = sub.add_parser(names[0], aliases=names[1:], parents=[c.parser], help=c.help,
                           description=c.parser.description)
        p.set_defaults(func=lambda args, f=c.func: f(args))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ember`` console script (and ``python -m ember``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["run"]:   # the launcher needs no plugins, and everything after the script is the script's
        from .distributed.run import main as run
        return run(argv[1:])
    command = next((a for a in argv if not a.startswith("-")), None)
    # `ember plugins` and `ember env` show failures in their output; other commands warn on stderr,
    # or, with EMBER_STRICT_PLUGINS=1, stop.
    lenient = command is None or command in _LENIENT
    strict = not lenient and os.environ.get("EMBER_STRICT_PLUGINS", "").strip().lower() in ("1", "true", "yes", "on")
    m = _manager()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m.load(strict=False)   # `ember plugins` must work whatever the plugins do
    if not lenient and not strict:
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
    parser = build_parser(m.commands)
    if command == "weights":
        # Flags may come before the MODEL names (`weights verify --download vision:x`); argparse
        # stops collecting a trailing positional list at the first flag, so put flags last.
        argv = [a for a in argv if not a.startswith("-")] + [a for a in argv if a.startswith("-")]
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if strict:
        problems = m.problems(clashes=False)
        if problems:
            print("\n".join(f"error: {p}" for p in problems), file=sys.stderr)
            print("error: EMBER_STRICT_PLUGINS=1 stops on plugin failures; see `ember plugins -v`", file=sys.stderr)
            return 1
    try:
        status = args.func(args)
    except (LookupError, ValueError, TypeError) as e:
        from .plugins import RegistryError
        if not isinstance(e, RegistryError) or args.command not in BUILTINS:
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `ember models | head`
        sys.stderr.close()
        return 0
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
