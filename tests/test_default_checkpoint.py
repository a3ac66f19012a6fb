"""The bundled default checkpoint: loads strictly, carries usable directions, and is a trained
model of the synthetic faces (measured against an untrained model of the same shape)."""

from pathlib import Path

import numpy as np
import pytest
import torch

from alae_hf import StyleALAE
from alae_hf.datasets.synthetic_faces import SyntheticFaces
from alae_hf.evaluation.attributes import load_attribute_net
from alae_hf.evaluation.metrics import fd_features, to_uint8
from alae_hf.latent.directions import Directions, list_directions

DEFAULT = Path(__file__).resolve().parents[1] / "checkpoints" / "alae-synthetic-faces-64"
N = 256


@pytest.fixture(scope="module")
def model():
    return StyleALAE.from_pretrained(DEFAULT).eval()


@pytest.fixture(scope="module")
def untrained(model):
    torch.manual_seed(0)
    return StyleALAE(**model.arch.to_dict()).eval()


@pytest.fixture(scope="module")
def real():
    images, _ = SyntheticFaces(seed=123, resolution=64, length=N).batch(range(N))
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1


def _features(images: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return load_attribute_net().features(images).numpy()


def test_folder_is_complete(model):
    card = (DEFAULT / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: alae_hf") and "## Evaluation" in card
    names = list_directions(DEFAULT)
    assert {"sefa", "ganspace", "sefa_coarse", "sefa_middle", "sefa_fine"} <= set(names)
    for name in names:
        d = Directions.load(DEFAULT, name, model=model)
        assert torch.allclose(d.vectors.norm(dim=1), torch.ones(len(d.vectors)), atol=1e-4)
    assert (DEFAULT / "samples.png").is_file() and (DEFAULT / "report" / "metrics.json").is_file()


def test_samples_are_closer_to_the_data_than_an_untrained_model(model, untrained, real):
    with torch.no_grad():
        trained_fd = fd_features(_features(model.sample(N, seed=1, truncation_psi=1.0)), _features(real))
        untrained_fd = fd_features(_features(untrained.sample(N, seed=1, truncation_psi=1.0)), _features(real))
    assert trained_fd < 0.5 * untrained_fd


def test_reconstructions_beat_an_untrained_model(model, untrained, real):
    """Measured at shipping (CPU interim model, MSE on [-1, 1]): trained 0.234, untrained 0.376,
    another face 0.484, the data's mean image 0.222 - E(x) carries little identity yet."""
    x = real[:64]
    with torch.no_grad():
        err = (model.reconstruct(x) - x).pow(2).mean()
        err_untrained = (untrained.reconstruct(x) - x).pow(2).mean()
    err_other_face = (x.roll(1, 0) - x).pow(2).mean()
    assert err < 0.75 * err_untrained and err < 0.6 * err_other_face


def test_bf16_autocast_within_one_percent_on_the_trained_model(model):
    z = model.seed_latents(8, seed=4)
    noise = model.make_noise(8, torch.Generator().manual_seed(4))
    with torch.no_grad():
        reference = model.synthesize(model.map(z), noise=noise)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            fast = model.synthesize(model.map(z), noise=noise).float()
    # RMS relative error (measured 6.6e-3 at shipping; the max over pixels is 3.4e-2).
    assert (fast - reference).norm() / reference.norm() <= 1e-2


def test_to_uint8_images_are_valid(model):
    images = to_uint8(model.sample(2, seed=0))
    assert images.dtype == np.uint8 and images.shape == (2, 64, 64, 3)
