"""`load(path)`: open any alae_hf model folder (or Hub repo id) as the class its config names.

A `config.json` written by `save_pretrained` carries `_class_name` (`StyleALAE` or `MLPALAE`);
`load` reads it and hands the folder to that class's strict `from_pretrained` (`alae_hf.models.base`).
"""

from __future__ import annotations

import os
from typing import Any

from .base import ALAEModel
from .hub import check_local_folder, read_config
from .mlp import MLPALAE
from .style import StyleALAE

# config.json `_class_name` -> the model class it names.
MODEL_CLASSES: dict[str, type[ALAEModel]] = {"StyleALAE": StyleALAE, "MLPALAE": MLPALAE}


def model_class(name: str | None) -> type[ALAEModel]:
    """The model class a config's `_class_name` names (None: a StyleALAE config from before the field)."""
    name = name or "StyleALAE"
    if name not in MODEL_CLASSES:
        raise ValueError(f"unknown model class {name!r}; alae_hf opens {sorted(MODEL_CLASSES)}")
    return MODEL_CLASSES[name]


def model_class_for(arch: Any) -> type[ALAEModel]:
    """The model class whose architecture config `arch` is (`ALAEModel.arch_class`)."""
    for cls in MODEL_CLASSES.values():
        if type(arch) is cls.arch_class:
            return cls
    raise ValueError(f"no alae_hf model class has a {type(arch).__name__} config")


def load(pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any) -> ALAEModel:
    """Open a StyleALAE or MLPALAE folder (or Hub repo id) as the class its config names.

    Args:
        pretrained_model_name_or_path: local folder or Hub repo id.
        kwargs: passed to that class's strict `from_pretrained`.
    """
    path = os.fspath(pretrained_model_name_or_path)
    check_local_folder(path, kwargs.get("subfolder"))
    what = " folder nor an ".join(MODEL_CLASSES)  # "... folder" follows in the message
    name = read_config(ALAEModel, path, kwargs, what).get("_class_name") or "StyleALAE"
    if name not in MODEL_CLASSES:
        raise ValueError(f"{path} holds a {name!r}, not a {' or '.join(MODEL_CLASSES)} checkpoint")
    return model_class(name).from_pretrained(path, **kwargs)
