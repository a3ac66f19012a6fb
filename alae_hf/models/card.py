"""Model cards (README.md with Hub YAML metadata) for alae_hf model folders.

Written by us rather than by diffusers, whose generated card would label the repo
`library_name: diffusers` and point users to the wrong library. The metadata block is
`huggingface_hub.ModelCardData`, so the Hub reads exactly what its own tools would write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from huggingface_hub import ModelCard, ModelCardData

from .config import ALAEConfig, MLPConfig

TAGS: tuple[str, ...] = (
    "alae",
    "stylealae",
    "stylegan",
    "gan",
    "autoencoder",
    "image-to-image",
    "latent-editing",
)
MLP_TAGS: tuple[str, ...] = ("alae", "mlp-alae", "gan", "autoencoder", "mnist")
PAPER = "Pidhorskyi et al., *Adversarial Latent Autoencoders*, CVPR 2020"


def render_card(
    arch: Any,
    title: str,
    intro: str,
    usage: str,
    tags: Sequence[str],
    datasets: Sequence[str] = (),
    license: str = "cc-by-nc-4.0",
    extra_sections: str = "",
    base_model: str | None = None,
) -> str:
    """A card of any model class: metadata, title, `intro`, a Python `usage` block, the config
    table (`arch.to_dict()`), then `extra_sections` (training notes, figures, reports)."""
    data = ModelCardData(
        library_name="alae_hf",
        license=license,
        pipeline_tag="unconditional-image-generation",
        tags=list(tags),
        datasets=list(datasets) or None,
        base_model=base_model,
    )
    rows = "\n".join(f"| `{k}` | {v} |" for k, v in arch.to_dict().items())
    body = (
        f"\n# {title}\n\n{intro}\n\n## Use\n\n```python\n{usage.strip()}\n```\n\n"
        f"## Config\n\n| field | value |\n| --- | --- |\n{rows}\n{extra_sections}\n"
    )
    return str(ModelCard(f"---\n{data.to_yaml()}\n---\n{body}"))


def card_for(
    arch: ALAEConfig | MLPConfig,
    title: str | None = None,
    description: str = "",
    datasets: Sequence[str] = (),
    license: str = "cc-by-nc-4.0",
    extra_sections: str = "",
    base_model: str | None = None,
) -> str:
    """The card of a model of either class, by its architecture config (`ALAEModel.card`): what
    the model is, how to load and use it, its config. `title` defaults to the class's name."""
    if isinstance(arch, MLPConfig):
        default_title, tags, (intro, usage) = "MLP ALAE", MLP_TAGS, _mlp_text(arch, description)
    else:
        default_title, tags, (intro, usage) = "StyleALAE", TAGS, _style_text(arch, description)
    return render_card(
        arch,
        title or default_title,
        intro,
        usage,
        tags,
        datasets,
        license,
        extra_sections,
        base_model,
    )


def _style_text(arch: ALAEConfig, description: str) -> tuple[str, str]:
    """A StyleALAE card's introduction and usage: its four networks, how to load and edit it."""
    intro = f"""{description or f"A StyleALAE model ({PAPER})."}

It holds F (mapping z -> w), G (style-based generator), E (encoder, image -> w), D (latent
discriminator) and `w_avg`, the running mean of w used for truncation.
Resolution {arch.resolution}x{arch.resolution}, {arch.channels} channel(s), latent size {arch.latent_size},
{arch.num_styles} styles."""
    usage = """
from alae_hf import StyleALAE
model = StyleALAE.from_pretrained("path/or/repo-id")
images = model.sample(4, seed=0, truncation_psi=0.7)      # [4, C, H, W] in [-1, 1]
w = model.encode(images)                                   # images -> w
reconstruction = model.synthesize(w)                       # w -> images
"""
    return intro, usage


def _mlp_text(arch: MLPConfig, description: str) -> tuple[str, str]:
    """An MLP ALAE card's introduction and usage: its four fully-connected networks, one w per image."""
    side, width = arch.fc_resolution, arch.hidden_size
    intro = f"""{description or f"The fully-connected ALAE of the paper's MNIST experiment ({PAPER}; official `configs/mnist_fc.yaml`)."}

F (z -> w, {arch.mapping_layers} layers), G (w -> {width} -> {width} -> {side}x{side},
resized to {arch.resolution}x{arch.resolution}), E (image resized to {side}x{side} -> {width} -> {width} -> w), D (3 affine layers on w),
latent size {arch.latent_size}, {arch.channels} channel(s). One w per image: no styles, no noise."""
    usage = f"""
import alae_hf
model = alae_hf.load("path/or/repo-id")        # an MLPALAE (alae_hf.MLPALAE.from_pretrained also works)
images = model.sample(16, seed=0)               # [16, C, {arch.resolution}, {arch.resolution}] in [-1, 1]
w = model.encode(images)                        # images -> w [16, {arch.latent_size}]
reconstruction = model.synthesize(w)            # w -> images
"""
    return intro, usage
