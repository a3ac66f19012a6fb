"""What the metrics of one evaluation share: the model, the data and the samples, made once.

`EvalContext` is handed to every metric of `alae_hf.evaluation.registry`. It builds each sample
set on first use and keeps it, so that FD-attr, reconstruction, reciprocity and separability read
the same generated samples and the same held-out faces (as the official ALAE `metrics/` scripts
each draw their own; here they are drawn once per evaluation and seed). Also here: the held-out
synthetic faces and folder images it reads, and the notes on standard-weight metrics (Inception
FID, LPIPS) that are used only when their weights are already on disk.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..datasets.synthetic_faces import SyntheticFaces, is_synthetic_spec, parse_spec
from .attributes import load_attribute_metrics, load_attribute_net
from .metrics import describe_images, encode_reconstruct, generated_samples
from .sizes import EvalSizes

if TYPE_CHECKING:
    from ..models.base import ALAEModel
    from .attributes import AttributeNet

KEPT_SAMPLES = 32  # generated images kept as uint8 for the sample grid
DEFAULT_HELDOUT_START = 70_000  # the synthetic training spec's default length


# ---- data -------------------------------------------------------------------------------------
def synthetic_real(
    spec: str, resolution: int, start: int, count: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Held-out faces `start .. start+count-1` of a synthetic spec at `resolution` (uint8 NHWC)."""
    kwargs = parse_spec(spec)
    render_res = min(max(resolution, 32), 256)
    ds = SyntheticFaces(kwargs.get("seed", 0), render_res, start + count)
    images, labels = ds.batch(range(start, start + count))
    if render_res != resolution:
        from PIL import Image

        images = np.stack(
            [
                np.asarray(
                    Image.fromarray(a).resize((resolution, resolution), Image.Resampling.BOX)
                )
                for a in images
            ]
        )
    return images, labels


def folder_images(folder: str | Path, resolution: int, channels: int, count: int) -> np.ndarray:
    """The first `count` images (sorted, recursive) of a folder, square-cropped to `resolution`."""
    from ..imaging import IMAGE_EXTENSIONS, fit_square, load_image

    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)[
        :count
    ]
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) under {folder}")
    mode = "RGB" if channels == 3 else "L"
    images = [np.asarray(fit_square(load_image(f, mode=mode), resolution)) for f in files]
    return np.stack([a if a.ndim == 3 else a[:, :, None] for a in images])


# ---- optional standard-weight metrics ---------------------------------------------------------
def offline_weight_notes() -> list[str]:
    """Why Inception-FID and LPIPS are (not) computed: looks for pip packages and cached weights,
    never downloads."""
    hub = Path(torch.hub.get_dir()) / "checkpoints"
    notes = []
    fid_file = hub / "pt_inception-2015-12-05-6726825d.pth"
    if not (_importable("pytorch_fid") and fid_file.is_file()):
        notes.append(
            "Standard FID (Inception-v3) skipped: no Inception weights offline (checked pip packages "
            f"pytorch_fid / torch_fidelity / cleanfid / torchvision and {fid_file}). FD-attr replaces it."
        )
    else:
        notes.append(
            "Standard FID available offline (pytorch_fid) but not run by this CLI; FD-attr is reported."
        )
    if lpips_distance("cpu") is None:
        notes.append(
            "LPIPS (VGG16) unavailable offline (no `lpips` package with cached VGG weights): PPL uses "
            "squared L2 distances of attribute-net features instead."
        )
    return notes


def _importable(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def lpips_distance(
    device: str | torch.device,
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None:
    """An LPIPS-VGG distance (x0, x1 in [-1, 1]) -> [B] if `lpips` and its VGG weights are
    already on disk, else None."""
    vgg = Path(torch.hub.get_dir()) / "checkpoints" / "vgg16-397923af.pth"
    if not (_importable("lpips") and vgg.is_file()):
        return None
    import lpips

    net = lpips.LPIPS(net="vgg", verbose=False).to(device).eval()
    return lambda a, b: net(a.float(), b.float()).reshape(-1)


# ---- the context ------------------------------------------------------------------------------
@dataclass
class EvalContext:
    """The model, data and sample sets of one evaluation, each made on first use and cached.

    Args:
        model: the model under evaluation (any `ALAEModel`), in eval mode without gradients.
        data: `synthetic:faces[:seed=S,length=L]` (held-out faces from index L on, with exact
            factor labels and the attribute net) or an image folder (no labels, no net).
        sizes: the sample counts and the seed.
        out: the report folder (metrics write nothing themselves: they return figures).
        attribute_net: attribute-net weights (None: the shipped ones).
        progress: show tqdm bars.
    """

    model: ALAEModel
    data: str
    sizes: EvalSizes
    out: Path
    attribute_net: str | None = None
    progress: bool = True

    @property
    def synthetic(self) -> bool:
        """Whether the real data are synthetic faces (labels and the attribute net apply)."""
        return is_synthetic_spec(self.data)

    @cached_property
    def net(self) -> AttributeNet | None:
        """The attribute net on synthetic faces; None on a folder (its factors mean nothing there)."""
        if not self.synthetic:
            return None
        return load_attribute_net(self.attribute_net, device=self.model.device)

    def attribute_net_metrics(self) -> dict[str, Any]:
        """The attribute net's own held-out scores ({} without them)."""
        return load_attribute_metrics(self.attribute_net).get("heldout", {})

    def require_net(self) -> AttributeNet:
        """The attribute net, for metrics registered with `needs_attributes=True`."""
        if self.net is None:
            raise ValueError(f"{self.data} has no attribute net: only synthetic faces have one")
        return self.net

    # ---- real images ----------------------------------------------------------------------------
    @cached_property
    def _synthetic_sets(self) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
        """Two disjoint held-out sets: A (max(num_samples, num_real) faces, with labels) and B
        (num_samples faces, FD-attr's real-vs-real floor)."""
        res, n = self.model.arch.resolution, self.sizes.num_samples
        start = parse_spec(self.data).get("length", DEFAULT_HELDOUT_START)
        real_a, labels_a = synthetic_real(self.data, res, start, max(n, self.sizes.num_real))
        real_b, _ = synthetic_real(self.data, res, start + len(real_a), n)
        return real_a, labels_a, real_b

    @cached_property
    def real(self) -> np.ndarray:
        """`num_real` real images (uint8 NHWC): held-out faces, or the folder's first images."""
        arch = self.model.arch
        if not self.synthetic:
            return folder_images(self.data, arch.resolution, arch.channels, self.sizes.num_real)
        return self._synthetic_sets[0][: self.sizes.num_real]

    @cached_property
    def real_labels(self) -> dict[str, np.ndarray] | None:
        """The exact factors of `real` (None for a folder)."""
        if not self.synthetic:
            return None
        return {k: v[: self.sizes.num_real] for k, v in self._synthetic_sets[1].items()}

    @cached_property
    def real_features(self) -> tuple[np.ndarray, np.ndarray]:
        """Attribute-net features of the first `num_samples` faces of set A and of set B."""
        real_a, _, real_b = self._synthetic_sets
        net = self.require_net()
        return (
            describe_images(net, real_a[: self.sizes.num_samples])[0],
            describe_images(net, real_b)[0],
        )

    # ---- model outputs --------------------------------------------------------------------------
    @cached_property
    def generated(self) -> dict[str, Any]:
        """Untruncated samples (see `metrics.generated_samples`): `num_samples` scored by the
        attribute net on synthetic faces, `num_reciprocity` unscored on a folder; the first
        `num_reciprocity` are also encoded, the first 32 kept as images."""
        sz = self.sizes
        n = sz.num_samples if self.net is not None else sz.num_reciprocity
        return generated_samples(
            self.model,
            self.net,
            n,
            sz.seed,
            sz.batch_size,
            sz.num_reciprocity,
            KEPT_SAMPLES,
            self.progress,
        )

    @cached_property
    def encoded(self) -> tuple[np.ndarray, np.ndarray]:
        """E(x) [N, Z] of `real` and G(E(x)) as uint8 NHWC (noise seeded with the seed)."""
        sz = self.sizes
        return encode_reconstruct(self.model, self.real, sz.batch_size, sz.seed, self.progress)
