"""Hook specifications: what an Ember plugin can implement.

A plugin is any importable object (usually a module) named by an entry point in the group
``ember`` of its distribution; the entry point's name is the plugin's name::

    # pyproject.toml of the distribution "ember-toy"
    [project.entry-points.ember]
    toy = "ember_toy._plugin"

Hooks are functions named ``ember_<hook>`` marked with :data:`ember.plugins.hookimpl`. An
implementation may take any subset of the arguments below (pluggy matches them by name). The
registration hooks receive a registry bound to the plugin, so every ``registry.add(name, obj,
**metadata)`` is stamped with the plugin's name: the entry's canonical name is
``"<plugin>:<name>"`` (``"toy:mlp"``). Names are unique within a plugin; a bare name resolves
when only one plugin provides it, otherwise lookup raises an error naming every provider.

Each plugin is imported and registered on its own: if importing it or one of its hooks raises,
the plugin is marked failed, its registrations are withdrawn, one warning names it with its
distribution and error, and the other plugins load (``EMBER_STRICT_PLUGINS=1`` re-raises
instead). A hook name with no specification here (a typo) is reported by ``check_pending``.
"""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("ember")
hookimpl = pluggy.HookimplMarker("ember")


@hookspec
def ember_register_models(registry) -> None:
    """Register model builders: ``registry.add(name, builder, weights=None, task=None, head=None, **meta)``.

    ``builder(**cfg)`` returns an :class:`ember.nn.Module`. It should accept ``num_classes``
    when the model has a classifier; builders need not know about weights: ``ember.hub.get_model``
    builds the architecture and loads the weights itself. ``weights`` is the model's
    :class:`ember.plugins.WeightsEnum` subclass (or ``None``); when it is not given it is read from
    the builder's ``weights`` annotation (``weights: MyNet_Weights | None = None``), and a registration
    that names another enum than the annotation is an error. Plugins usually write their models in a
    :class:`ember.plugins.RegistrationTable` and hand it over: ``registry.add_all(MODELS)``.
    ``task`` is a name from the core's
    task vocabulary, :data:`ember.plugins.tasks.TASKS` (``"image-classification"``,
    ``"text-classification"``, ``"sentence-embedding"``, ``"text-generation"``,
    ``"audio-classification"``, ``"keyword-spotting"``, ``"voice-activity-detection"``, ...): any
    other name fails the registration with an error that lists the vocabulary. Users filter by it
    (``ember.hub.list_models(task="image-classification")``, ``ember models --task ...``).

    Classifier-head protocol (what ``get_model(name, weights=..., num_classes=N)`` does when ``N``
    differs from the number of categories of the weights, the first step of fine-tuning): the
    builder is called with the weights' number of classes, the weights are loaded, then the head
    is re-initialised for ``N`` classes:

    1. if the model has a method ``reset_classifier(num_classes)``, it is called; otherwise
    2. the head is the submodule named by ``head=`` in the registration, or else by the model's
       attribute ``classifier_head`` (a dotted path such as ``"fc"`` or ``"classifier.1"``); it must
       be an :class:`ember.nn.Linear` and is replaced by a freshly initialised ``Linear`` with the
       same ``in_features``, bias, dtype and device and ``N`` outputs.

    A model that declares neither cannot change its number of classes with pretrained weights.

    Fine-tuning (``ember finetune``, :mod:`ember.finetune`) reads the same metadata: the head (above;
    ``get_classifier()`` when the model has it) is what ``--freeze all-but-head`` keeps training and
    ``--head-lr`` applies to; ``input_size=(C, H, W)`` lets grey images feed a colour model (the channel
    is repeated); the weights' ``transforms()`` is the preprocessing of every sample. A preprocessing
    whose outputs differ in size (token ids of texts) batches them itself with a ``collate(batch)``
    method on the object ``transforms()`` returns.

    Example::

        @hookimpl
        def ember_register_models(registry):
            registry.add("mlp", toy_mlp, weights=ToyMLP_Weights, task="tabular-classification", head="head")
            registry.add_all(MODELS)   # or a whole table (see ember.plugins.RegistrationTable)
    """


@hookspec
def ember_register_datasets(registry) -> None:
    """Register datasets: ``registry.add(name, DatasetClass, **meta)``.

    ``ember.hub.get_dataset(name, *args, **kwargs)`` instantiates ``DatasetClass(*args, **kwargs)``
    (usually an :class:`ember.utils.data.Dataset`). Metadata is filterable (``task=``, ``modality=``,
    ``num_classes=``); ``task`` must come from :data:`ember.plugins.tasks.TASKS`.

    Fine-tuning (``ember finetune MODEL DATA``) reads: the dataset's ``classes`` attribute (else the
    ``num_classes`` metadata) for the head; ``train=``/``split=`` constructor arguments for the test split
    used as validation data; ``image_size=(C, H, W)``. A dataset that reads the user's own files
    registers ``data_spec="<scheme>"`` (its class is built as ``DatasetClass(PATH)`` for
    ``<scheme>:PATH``; ember-vision: ``imagefolder``; the text and audio plugins: ``textcsv``,
    ``audiofolder``) and ``reader=fn`` (``fn(path)`` reads one input file, as ``ember predict`` needs).

    Example::

        @hookimpl
        def ember_register_datasets(registry):
            registry.add("blobs", Blobs, task="tabular-classification", modality="tabular")
            registry.add("image_folder", ImageFolder, modality="image", data_spec="imagefolder",
                         reader=default_loader)
    """


@hookspec
def ember_register_transforms(registry) -> None:
    """Register transforms: ``registry.add(name, TransformClass, functional=fn, modality=...)``.

    ``get_transform(name, *args, **kwargs)`` instantiates the class; ``functional`` (optional) is the
    function form (``ember.hub.get_transform_function(name)``); ``modality`` is ``"image"``,
    ``"audio"``, ``"text"``, ``"tabular"``, ...

    Example::

        @hookimpl
        def ember_register_transforms(registry):
            registry.add("standardize", Standardize, functional=standardize, modality="tabular")
    """


@hookspec
def ember_register_metrics(registry) -> None:
    """Register metrics: ``registry.add(name, MetricClass, functional=fn, higher_is_better=True)``.

    ``get_metric(name, *args, **kwargs)`` instantiates the class; ``functional`` (optional) is the
    function form (``ember.hub.get_metric_function(name)``); ``task`` (optional, from
    :data:`ember.plugins.tasks.TASKS`) says what the metric evaluates (``"classification"``,
    ``"regression"``, ``"translation"``, ...).

    Example::

        @hookimpl
        def ember_register_metrics(registry):
            registry.add("accuracy", Accuracy, functional=accuracy, higher_is_better=True)
    """


@hookspec
def ember_register_backends(registry) -> None:
    """Register device backends: ``registry.add(device_type, backend)``.

    ``backend`` is an :class:`ember.backend.Backend` instance; it is registered with
    :func:`ember.backend.register_backend` under ``device_type``, so ``ember.device("<type>:0")``
    works once plugins are loaded (``ember.plugins.load()`` or any ``ember.hub`` call). A device type
    is global: taking one that already exists (``"cpu"``, ``"cuda"`` or another plugin's) is an error
    that fails the plugin.

    Example::

        @hookimpl
        def ember_register_backends(registry):
            registry.add("mydev", MyDeviceBackend())
    """


@hookspec
def ember_register_commands(cli) -> None:
    """Add ``ember <command>`` subcommands: ``parser = cli.add(name, func, help="...")``.

    ``parser`` is an :class:`argparse.ArgumentParser` to add the command's arguments to;
    ``func(args)`` receives the parsed :class:`argparse.Namespace` and returns an exit status
    (``None`` means 0). The command is available as ``ember <plugin>:<name>`` and, when no built-in
    or other plugin uses the name, as ``ember <name>``.

    Example::

        @hookimpl
        def ember_register_commands(cli):
            p = cli.add("toy-hello", hello, help="print a greeting")
            p.add_argument("--name", default="world")
    """


@hookspec
def ember_env_info() -> dict:
    """Versions and capabilities for ``ember env``: a JSON-serialisable dict.

    Example::

        @hookimpl
        def ember_env_info():
            return {"ember-toy": ember_toy.__version__, "fast-path": False}
    """
