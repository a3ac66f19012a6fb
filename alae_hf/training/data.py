"""Training data: image folders, Hugging Face datasets and synthetic faces, streamed resumably.

Every source yields uint8 tensors [C, R, R] at the model's full resolution (decoded with
`alae_hf.imaging.load_image`: RGBA composited, 16-bit rescaled, EXIF applied, grayscale or RGB as
the model needs). Unreadable files never stop training: a folder is header-checked when it is
opened, files that only fail to decode later are replaced by the next readable one, and both
are counted (`skipped`). The official pipeline (podgorskiy/ALAE `dataloader.py`,
`dataset_preparation/`) stores one copy per resolution made by 2x2 box averaging; here the full
resolution batch is box-averaged on the fly (`downsample_to`), and flips are drawn per image on
the device (`random_flip`) from the trainer's generator, so data order and augmentation are a
pure function of the image counter and the saved RNG state.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..imaging import IMAGE_EXTENSIONS, ImageError, fit_square, load_image, uint8_to_model
from ..models.layers import downscale2d, fade_in, upscale2d

_DECODE_ERRORS = (ImageError, OSError, ValueError, SyntaxError)


class RobustImageDataset(torch.utils.data.Dataset):
    """Base of the training sources: `__getitem__(i)` -> uint8 [C, R, R], skipping bad items.

    A subclass implements `_source(i)` (a path or PIL image) and `__len__`. An item that fails to decode is
    marked in a shared-memory mask (visible across DataLoader workers) and the next good index
    is returned instead.

    Args:
        resolution: output side (the model's full resolution).
        channels: 1 (grayscale) or 3 (RGB), the model's image channels.
        center_crop: centre-crop non-square images (else pad them to a square).
    """

    rejected_when_opened = 0
    rejected_names: tuple[str, ...] = ()  # of the items rejected when opened, where they have names

    def __init__(self, resolution: int, channels: int = 3, center_crop: bool = True) -> None:
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        self.resolution, self.channels, self.center_crop = resolution, channels, center_crop
        self.bad_mask = torch.zeros(len(self), dtype=torch.bool).share_memory_()

    def __len__(self) -> int:
        raise NotImplementedError

    def _source(self, index: int) -> str | os.PathLike | Image.Image:
        raise NotImplementedError

    @property
    def skipped(self) -> int:
        """Unreadable items seen so far by this process (rejected when opened + failed decodes)."""
        return self.rejected_when_opened + int(self.bad_mask.sum())

    def item_name(self, index: int) -> str:
        """What a message calls item `index` (a file's path inside the folder, else its index)."""
        return f"item {index}"

    def skipped_names(self, bad: torch.Tensor | None = None, limit: int = 20) -> list[str]:
        """The first `limit` unreadable items by name: those rejected when opened, then those whose
        decode failed (`bad`: a mask like `bad_mask`, e.g. reduced over processes)."""
        mask = self.bad_mask if bad is None else bad
        failed = [self.item_name(i) for i in mask.nonzero().flatten().tolist()[:limit]]
        return [*self.rejected_names, *failed][:limit]

    def to_tensor(self, source: str | os.PathLike | Image.Image) -> torch.Tensor:
        """Decode, convert to the model's channels, fit to a square, as uint8 [C, R, R]."""
        image = load_image(source, mode="RGB" if self.channels == 3 else "L")
        array = np.asarray(fit_square(image, self.resolution, self.center_crop), dtype=np.uint8)
        return torch.from_numpy(array.reshape(self.resolution, self.resolution, -1).copy()).permute(
            2, 0, 1
        )

    def __getitem__(self, index: int) -> torch.Tensor:
        n = len(self)
        for attempt in range(n):
            i = (int(index) + attempt) % n
            if self.bad_mask[i]:
                continue
            try:
                return self.to_tensor(self._source(i))
            except _DECODE_ERRORS:
                self.bad_mask[i] = True
        raise RuntimeError(f"none of the {n} training images could be decoded")


def list_images(root: str | os.PathLike[str]) -> list[Path]:
    """Image files under `root` at any depth (extensions in IMAGE_EXTENSIONS, any case), sorted."""
    files = [
        Path(d) / f
        for d, _, names in os.walk(root, followlinks=True)
        for f in names
        if f.lower().endswith(IMAGE_EXTENSIONS) and not f.startswith(".")
    ]
    return sorted(files)


def _header_ok(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            return image.width > 0 and image.height > 0
    except Exception:  # noqa: BLE001 - any failure to parse the header means "skip this file"
        return False


class ImageFolderDataset(RobustImageDataset):
    """Every image under a folder, at any depth; files whose header cannot be read are dropped
    (and counted in `skipped`) when the folder is opened.

    Args:
        root: the folder.
        resolution, channels, center_crop: see `RobustImageDataset`.
    """

    def __init__(
        self, root: str | os.PathLike, resolution: int, channels: int = 3, center_crop: bool = True
    ) -> None:
        root = Path(root)
        if not root.is_dir():
            raise ValueError(f"--train_data_dir {str(root)!r} does not exist or is not a folder")
        files = list_images(root)
        with ThreadPoolExecutor(max_workers=8) as pool:
            ok = list(pool.map(_header_ok, files))
        self.root = root
        self.files = [f for f, good in zip(files, ok) if good]
        self.rejected_when_opened = len(files) - len(self.files)
        self.rejected_names = tuple(
            f.relative_to(root).as_posix() for f, good in zip(files, ok) if not good
        )
        super().__init__(resolution, channels, center_crop)

    def __len__(self) -> int:
        return len(self.files)

    def _source(self, index: int) -> Path:
        return self.files[index]

    def item_name(self, index: int) -> str:
        return self.files[index].relative_to(self.root).as_posix()


class SyntheticFacesDataset(RobustImageDataset):
    """`alae_hf.datasets.synthetic_faces.SyntheticFaces` from a spec like `synthetic:faces:seed=1,length=5000`."""

    def __init__(self, spec: str, resolution: int, channels: int = 3) -> None:
        from ..datasets.synthetic_faces import (
            MAX_RESOLUTION,
            MIN_RESOLUTION,
            SyntheticFaces,
            parse_spec,
        )

        render = min(max(resolution, MIN_RESOLUTION), MAX_RESOLUTION)
        self.faces = SyntheticFaces(resolution=render, **parse_spec(spec))
        super().__init__(resolution, channels, center_crop=True)

    def __len__(self) -> int:
        return len(self.faces)

    def _source(self, index: int) -> Image.Image:
        return self.faces[index][0]


class DigitsDataset(RobustImageDataset):
    """scikit-learn's digits in MNIST's 28x28 layout from a spec like `sklearn:digits[:train]`
    (`alae_hf.datasets.digits`)."""

    def __init__(self, spec: str, resolution: int, channels: int = 1) -> None:
        from ..datasets.digits import digits_spec_images

        self.images = digits_spec_images(spec)
        super().__init__(resolution, channels, center_crop=True)

    def __len__(self) -> int:
        return len(self.images)

    def _source(self, index: int) -> Image.Image:
        return self.images[index]


class HubImageDataset(RobustImageDataset):
    """The image column of a Hugging Face `datasets` data set (needs the `datasets` package)."""

    def __init__(
        self,
        name: str,
        resolution: int,
        channels: int = 3,
        center_crop: bool = True,
        config_name: str | None = None,
        split: str = "train",
        image_column: str | None = None,
    ) -> None:
        try:
            import datasets
        except ImportError as err:
            raise ValueError(
                "--dataset_name needs the `datasets` package (pip install datasets, or "
                "pip install 'alae_hf[datasets]'); or pass a folder with --train_data_dir"
            ) from err
        self.data = datasets.load_dataset(name, config_name, split=split)
        self.column = image_column or _image_column(self.data)
        super().__init__(resolution, channels, center_crop)

    def __len__(self) -> int:
        return len(self.data)

    def _source(self, index: int) -> Image.Image:
        return self.data[index][self.column]


def _image_column(data: Any) -> str:
    import datasets

    for name, feature in data.features.items():
        if isinstance(feature, datasets.Image):
            return name
    for name in ("image", "img"):
        if name in data.column_names:
            return name
    raise ValueError(f"no image column in {data.column_names}; pass image_column")


def make_dataset(
    train_data_dir: str | None,
    dataset_name: str | None,
    resolution: int,
    channels: int,
    center_crop: bool = True,
    min_images: int = 1,
) -> RobustImageDataset:
    """Open the training source and check it holds at least `min_images` readable images.

    `train_data_dir` is a folder or a synthetic spec (`synthetic:faces[:seed=..,length=..]`);
    `dataset_name` a Hub/local data set for `datasets.load_dataset`. Exactly one is required.

    Raises:
        ValueError: both or neither given, a missing folder, `datasets` not installed, or fewer
            than `min_images` readable images (the message says how many were found and skipped).
    """
    from ..datasets.digits import is_digits_spec
    from ..datasets.synthetic_faces import is_synthetic_spec

    if (train_data_dir is None) == (dataset_name is None):
        raise ValueError(
            "pass exactly one of --train_data_dir (a folder, or synthetic:faces) and --dataset_name"
        )
    dataset: RobustImageDataset
    if dataset_name is not None:
        dataset, where = (
            HubImageDataset(dataset_name, resolution, channels, center_crop),
            f"data set {dataset_name!r}",
        )
    elif train_data_dir is None:  # excluded above; the type checker needs it said here
        raise ValueError("no training source")
    elif is_synthetic_spec(train_data_dir):
        dataset, where = SyntheticFacesDataset(train_data_dir, resolution, channels), train_data_dir
    elif is_digits_spec(train_data_dir):
        dataset, where = DigitsDataset(train_data_dir, resolution, channels), train_data_dir
    else:
        dataset, where = (
            ImageFolderDataset(train_data_dir, resolution, channels, center_crop),
            f"{train_data_dir!r}",
        )
    if len(dataset) < min_images:
        raise ValueError(
            f"{where} has {len(dataset)} readable images ({dataset.skipped} unreadable skipped, extensions "
            f"{', '.join(IMAGE_EXTENSIONS)}); training needs at least {min_images} (one batch)"
        )
    return dataset


class StreamSampler(torch.utils.data.Sampler[int]):
    """An endless, resumable, sharded stream of indices.

    Position p of the global stream is image `perm_e[p % N]` with e = p // N and perm_e a
    permutation seeded by (seed, e). Process `rank` of `world_size` takes positions
    start + rank, start + rank + world_size, ..., so a global batch of B = b * world_size
    consecutive positions is split into disjoint per-process batches of b, and the stream
    position after a step equals the number of images trained on: resuming at `start` =
    images seen continues the same order.

    Args:
        length: number of items N.
        seed: data-order seed.
        start: first global position (images already seen).
        rank, world_size: this process and the process count.
    """

    def __init__(
        self, length: int, seed: int, start: int = 0, rank: int = 0, world_size: int = 1
    ) -> None:
        if length < 1 or not 0 <= rank < world_size or start < 0:
            raise ValueError(
                f"bad stream: length={length}, rank={rank}, world_size={world_size}, start={start}"
            )
        self.length, self.seed, self.start, self.rank, self.world_size = (
            length,
            seed,
            start,
            rank,
            world_size,
        )

    def permutation(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(self.length)

    def __iter__(self) -> Iterator[int]:
        position, epoch, perm = self.start + self.rank, -1, np.empty(0, dtype=np.int64)
        while True:
            e, k = divmod(position, self.length)
            if e != epoch:
                epoch, perm = e, self.permutation(e)
            yield int(perm[k])
            position += self.world_size


def make_loader(
    dataset: RobustImageDataset,
    batch_size: int,
    seed: int,
    start: int,
    rank: int = 0,
    world_size: int = 1,
    num_workers: int = 0,
    pin_memory: bool = False,
) -> Iterator[torch.Tensor]:
    """An endless iterator of uint8 batches [b, C, R, R] for this process, from stream position `start`."""
    sampler = StreamSampler(len(dataset), seed, start, rank, world_size)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        pin_memory=pin_memory,
        drop_last=True,
    )
    return iter(loader)


def to_model_range(batch: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """uint8 [0, 255] -> [-1, 1] (official x / 127.5 - 1; the one conversion, `alae_hf.imaging`)."""
    return uint8_to_model(batch, dtype)


def downsample_to(x: torch.Tensor, resolution: int) -> torch.Tensor:
    """Repeated 2x2 box averaging down to `resolution` (the official per-level data preparation)."""
    if x.shape[-1] < resolution or x.shape[-1] % resolution:
        raise ValueError(f"cannot box-downsample {x.shape[-1]} px to {resolution} px")
    while x.shape[-1] > resolution:
        x = F.avg_pool2d(x, 2, 2)
    return x


def random_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror each image horizontally with probability 1/2 (official `FLIP_IMAGES`)."""
    flip = torch.rand(x.shape[0], generator=generator, device=x.device) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def fade_in_reals(x: torch.Tensor, blend: float) -> torch.Tensor:
    """blend * x + (1 - blend) * nearest_up2(avgpool2(x)): the real batch during a fade-in (official
    `train_alae.py`, which blends the reals with their 2x downsampled-and-upsampled copy)."""
    if blend >= 1.0:
        return x
    return fade_in(upscale2d(downscale2d(x)), x, blend)


def prepare_reals(
    batch: torch.Tensor,
    resolution: int,
    blend: float,
    device: torch.device,
    flip_rng: torch.Generator | None = None,
) -> torch.Tensor:
    """uint8 full-resolution batch -> [-1, 1] at `resolution`, flipped (if `flip_rng`), fade-in blended."""
    x = downsample_to(to_model_range(batch.to(device, non_blocking=True)), resolution)
    if flip_rng is not None:
        x = random_flip(x, flip_rng)
    return fade_in_reals(x, blend)
