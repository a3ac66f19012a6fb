"""Shared test setup: offline Hub, one thread, tiny models."""

import os

# Must be set before huggingface_hub is imported (it reads the flag once at import time).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

# One thread: tiny test tensors are faster single-threaded, and subprocess tests (accelerate,
# the app server) then do not oversubscribe the 2-core CI machine.
torch.set_num_threads(1)

TINY = dict(resolution=16, start_channels=8, max_channels=16, latent_size=8, mapping_layers=2, channels=3)


@pytest.fixture
def tiny_model():
    from alae_hf import StyleALAE

    torch.manual_seed(0)
    model = StyleALAE(**TINY).eval()
    # Move every parameter off its trivial init so that all terms of the forward pass matter.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "noise_weight" in name or "bias" in name:
                p.normal_(0, 0.2)
        model.w_avg.normal_()
    return model


@pytest.fixture
def fresh_accelerate():
    """Accelerate keeps its state in singletons; each in-process run starts from a clean one."""
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(True)
    GradientState._reset_state()
    yield
    AcceleratorState._reset_state(True)
    GradientState._reset_state()


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one thread avoids contention on a shared 2-core machine (2-3x faster here)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
