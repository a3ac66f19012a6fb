"""The baseline of the latent-classification table: a plain autoencoder with the MLP ALAE's E and G.

The ALAE paper's MNIST experiment (arXiv 2004.04467, Sec. 5) compares the codes of its MLP
ALAE with those of other autoencoders. The fairest such baseline here has the ALAE's own E and G
(`alae_hf.models.mlp_networks`: same layers, sizes and init), no F and no D, trained on pixel MSE
only, with the trainer's optimizer (the official `LREQAdam`, betas 0 and 0.99) and the same
budget in images. It can be saved and reused (`save_baseline`, `load_baseline`), so a long
baseline is trained once for several evaluations of the same run.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..models.mlp_networks import FCEncoder, FCGenerator, MLPConfig
from ..training.optim import LREQAdam, lreq_param_groups


class PlainAutoencoder(nn.Module):
    """The baseline: the MLP ALAE's E and G (same layers, sizes, init), trained on pixel MSE only."""

    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        self.arch = config
        self.encoder = FCEncoder(config)
        self.generator = FCGenerator(config)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.generator(self.encoder(x), x.shape[-1])


@dataclass
class BaselineRun:
    """How a baseline was trained: steps, batch, learning rate, seed, seconds and its loss curve."""

    steps: int
    batch_size: int
    learning_rate: float
    seed: int
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)

    @property
    def images(self) -> int:
        return self.steps * self.batch_size


def train_plain_autoencoder(
    x: torch.Tensor,
    config: MLPConfig,
    steps: int,
    batch_size: int = 128,
    learning_rate: float = 0.002,
    seed: int = 0,
) -> tuple[PlainAutoencoder, list[float]]:
    """Train the baseline on images `x` [N, C, R, R] in [-1, 1] (batches drawn with replacement)
    with `LREQAdam` as the ALAE trainer builds it; returns it (eval mode) and the loss per step."""
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1, got {steps} and {batch_size}")
    torch.manual_seed(seed)
    model = PlainAutoencoder(config).to(x.device)
    optimizer = LREQAdam(lreq_param_groups([model.encoder, model.generator]), lr=learning_rate)
    rng = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        batch = x[torch.randint(len(x), (batch_size,), generator=rng)]
        loss = (model(batch) - batch).pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return model.eval(), losses


def train_baseline(
    x: torch.Tensor, config: MLPConfig, run: BaselineRun
) -> tuple[PlainAutoencoder, BaselineRun]:
    """`train_plain_autoencoder` as `run` says; returns the model and `run` with seconds and losses."""
    start = time.perf_counter()
    model, losses = train_plain_autoencoder(
        x, config, run.steps, run.batch_size, run.learning_rate, run.seed
    )
    return model, BaselineRun(
        run.steps,
        run.batch_size,
        run.learning_rate,
        run.seed,
        round(time.perf_counter() - start, 1),
        losses,
    )


def save_baseline(model: PlainAutoencoder, run: BaselineRun, folder: str | Path) -> None:
    """`folder/plain_autoencoder.safetensors` and `folder/plain_autoencoder.json` (config and run)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()},
        folder / "plain_autoencoder.safetensors",
    )
    payload = dict(config=model.arch.to_dict(), run=asdict(run))
    (folder / "plain_autoencoder.json").write_text(json.dumps(payload), encoding="utf-8")


def load_baseline(
    folder: str | Path, config: MLPConfig, run: BaselineRun
) -> tuple[PlainAutoencoder, BaselineRun]:
    """A baseline saved by `save_baseline`, checked to be the one asked for (same architecture and
    the same steps, batch, learning rate and seed)."""
    folder = Path(folder)
    payload = json.loads((folder / "plain_autoencoder.json").read_text(encoding="utf-8"))
    saved = BaselineRun(**payload["run"])
    wanted = (config.to_dict(), run.steps, run.batch_size, run.learning_rate, run.seed)
    found = (payload["config"], saved.steps, saved.batch_size, saved.learning_rate, saved.seed)
    if wanted != found:
        raise ValueError(
            f"the baseline in {folder} was trained differently (steps, batch, learning rate, seed "
            f"{found[1:]} vs {wanted[1:]}, or another architecture); remove it or choose another folder"
        )
    model = PlainAutoencoder(config)
    model.load_state_dict(load_file(folder / "plain_autoencoder.safetensors"))
    return model.eval(), saved


def baseline(
    x: torch.Tensor, config: MLPConfig, run: BaselineRun, folder: str | Path | None = None
) -> tuple[PlainAutoencoder, BaselineRun]:
    """The baseline from `folder` if it holds one trained as `run` says, else trained now (and
    saved there when a folder is given)."""
    if folder is not None and (Path(folder) / "plain_autoencoder.json").is_file():
        return load_baseline(folder, config, run)
    model, done = train_baseline(x, config, run)
    if folder is not None:
        save_baseline(model, done, folder)
    return model, done
