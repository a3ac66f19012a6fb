"""Hub loading shared by every ALAE model class, and `load(path)`, which opens any of them.

`HubModel` holds what `StyleALAE` and `MLPALAE` have in common on the Hub: strict safetensors
loading (a missing, unexpected or mis-shaped key raises), a `config.json` whose `_class_name`
names the architecture, our own model card on save, and `push_to_hub` through that save.
`load` reads `_class_name` and hands the folder to the matching class.
"""

from __future__ import annotations

import os
import tempfile
from importlib import import_module
from typing import Any

from diffusers.configuration_utils import ConfigMixin
from diffusers.models.modeling_utils import ModelMixin

# config.json `_class_name` -> module (relative to alae_hf) holding that class.
MODEL_CLASSES = {"StyleALAE": "model", "MLPALAE": "mlp"}


class HubModel(ModelMixin, ConfigMixin):
    """Base of the ALAE model classes: strict `from_pretrained`, `save_pretrained` with a
    model card, `push_to_hub`. A subclass returns its card text from `_model_card`."""

    def _model_card(self) -> str:
        raise NotImplementedError

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any) -> "HubModel":
        """Load `config.json` + safetensors from a folder or Hub repo id, strictly.

        Accepts diffusers' keyword arguments (`torch_dtype`, `variant`, `subfolder`,
        `revision`, `local_files_only`, ...). A missing, unexpected or mis-shaped key raises,
        and so does a folder that holds another architecture (see `alae_hf.load`).
        """
        want_info = kwargs.pop("output_loading_info", False)
        path = os.fspath(pretrained_model_name_or_path)
        config = read_config(cls, path, kwargs)
        if config.get("_class_name") not in (None, cls.__name__):
            raise ValueError(f"{path} holds a {config.get('_class_name')!r}, not a {cls.__name__} checkpoint")
        model, info = super().from_pretrained(path, output_loading_info=True, **kwargs)
        problems = {k: v for k, v in info.items() if v}
        if problems:
            raise ValueError(f"{path}: the weights do not match the config: {problems}")
        return (model, info) if want_info else model

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs: Any) -> None:
        """Write config.json, safetensors and (if absent) a model card README.md."""
        super().save_pretrained(save_directory, **kwargs)
        readme = os.path.join(save_directory, "README.md")
        if kwargs.get("is_main_process", True) and not os.path.exists(readme):
            with open(readme, "w", encoding="utf-8") as handle:
                handle.write(self._model_card())

    def push_to_hub(self, repo_id: str, commit_message: str | None = None, private: bool | None = None,
                    token: str | None = None, variant: str | None = None, **kwargs: Any) -> str:
        """Save to a temporary folder (with our model card, not diffusers') and upload it."""
        from huggingface_hub import HfApi

        api = HfApi(token=token)
        repo_id = api.create_repo(repo_id, private=private, exist_ok=True).repo_id
        with tempfile.TemporaryDirectory() as folder:
            self.save_pretrained(folder, variant=variant)
            api.upload_folder(repo_id=repo_id, folder_path=folder,
                              commit_message=commit_message or f"Upload {type(self).__name__}", **kwargs)
        return repo_id


def read_config(cls: type[ConfigMixin], path: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """`config.json` of a folder or Hub repo, or an OSError that says what is missing."""
    what = " or ".join(MODEL_CLASSES) if cls is HubModel else cls.__name__
    keys = ("cache_dir", "force_download", "local_files_only", "token", "revision", "subfolder", "proxies")
    try:
        return cls.load_config(path, **{k: kwargs[k] for k in keys if k in kwargs})
    except (OSError, ValueError) as err:
        raise OSError(_missing_message(path, err, what)) from err


def _missing_message(path: str, err: Exception, what: str) -> str:
    if os.path.isdir(path):
        return f"{path} is not a {what} folder: no readable config.json ({err})"
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
    hint = " HF_HUB_OFFLINE is set, so only cached repos can load." if offline else ""
    return f"could not load {path!r}: not a local folder, and not a reachable or cached Hub repo.{hint} ({err})"


def model_class(name: str | None) -> type[HubModel]:
    """The model class a config's `_class_name` names (None: a StyleALAE config from before the field)."""
    name = name or "StyleALAE"
    if name not in MODEL_CLASSES:
        raise ValueError(f"unknown model class {name!r}; alae_hf opens {sorted(MODEL_CLASSES)}")
    return getattr(import_module(f".{MODEL_CLASSES[name]}", __package__), name)


def load(pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any) -> HubModel:
    """Open a StyleALAE or MLPALAE folder (or Hub repo id) as the class its config names.

    Args:
        pretrained_model_name_or_path: local folder or Hub repo id.
        kwargs: passed to that class's strict `from_pretrained`.
    """
    path = os.fspath(pretrained_model_name_or_path)
    config = read_config(HubModel, path, kwargs)
    return model_class(config.get("_class_name")).from_pretrained(path, **kwargs)
