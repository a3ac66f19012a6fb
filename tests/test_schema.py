"""One schema: the model's constructor is its config (style.md habit 1), so they cannot drift."""

import dataclasses
import inspect

from alae_hf import ALAEConfig, StyleALAE


def test_style_alae_signature_equals_the_config_fields_and_defaults():
    params = inspect.signature(StyleALAE.__init__).parameters
    signature = {name: p.default for name, p in params.items() if name != "self"}
    config = {f.name: f.default for f in dataclasses.fields(ALAEConfig)}
    assert signature == config


def test_saved_config_round_trips_through_the_dataclass(tmp_path):
    model = StyleALAE(resolution=16, start_channels=8, max_channels=16, latent_size=8, mapping_layers=2)
    model.save_pretrained(tmp_path)
    loaded = StyleALAE.from_pretrained(tmp_path)
    assert loaded.arch == model.arch == ALAEConfig(**{k: v for k, v in loaded.config.items()
                                                      if not k.startswith("_")})
