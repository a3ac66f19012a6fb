"""The trainer's compiled networks (`--compile`): the same losses and gradients as eager, R1 eager."""

import copy

import pytest
import torch
from conftest import TINY

from alae_hf import StyleALAE
from alae_hf.training import compiled
from alae_hf.training.optim import make_optimizers
from alae_hf.training.step import StepContext, apply_, backward, phases

# Float32 losses as the official equivalence tests (1.3e-5); a phase's float32 gradient goes
# through E(G(F(z))) and its rounding (both orders of summation) was measured at 2.4e-5.
LOSS_TOLERANCE, GRAD_TOLERANCE = 1.3e-5, 1e-4


def _context(model: StyleALAE, compiled_: bool) -> StepContext:
    return StepContext(
        model,
        make_optimizers(model, 0.0015),
        torch.Generator().manual_seed(1),
        torch.Generator().manual_seed(2),
        torch.amp.GradScaler("cpu", enabled=False),
        r1_interval=2,
        compiled=compiled_,
    )


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm().clamp_min(1e-12))


def _gradient(params: list[torch.nn.Parameter]) -> torch.Tensor:
    """A phase's whole gradient as one vector (single entries near zero are rounding noise)."""
    return torch.cat([p.grad.flatten() for p in params if p.grad is not None])


@pytest.mark.slow
@pytest.mark.skipif(compiled.cpp_compiler() is None, reason="TorchInductor needs a C++ compiler")
def test_compiled_phases_match_eager_and_r1_stays_eager():
    torch._dynamo.reset()
    torch.manual_seed(0)
    eager = StyleALAE(**dict(TINY, resolution=8)).train()
    with torch.no_grad():  # off the zero init, so that every term of the forward matters
        for name, p in eager.named_parameters():
            if "noise_weight" in name or "bias" in name:
                p.normal_(0, 0.2)
    fast = copy.deepcopy(eager)
    assert compiled.compile_networks(fast, torch.device("cpu"))
    contexts = _context(eager, False), _context(fast, True)
    reals = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(3)) * 2 - 1
    lod = eager.arch.max_lod
    for step in (1, 0):  # a D step without R1 (compiled), then one with R1 (eager)
        pairs = zip(*(phases(ctx, reals, lod, 1.0, step) for ctx in contexts))
        for phase_e, phase_c in pairs:
            assert phase_e.double_backward == (phase_e.name == "d_step" and step == 0)
            stats_e, finite_e = backward(contexts[0], phase_e)
            stats_c, finite_c = backward(contexts[1], phase_c)
            assert finite_e and finite_c
            for key in stats_e:
                assert _relative(stats_c[key], stats_e[key]) <= LOSS_TOLERANCE, (phase_e.name, key)
            grads = _gradient(phase_c.params), _gradient(phase_e.params)
            assert _relative(*grads) <= GRAD_TOLERANCE, phase_e.name
            # eager steps; the compiled model takes its weights, so each phase starts equal (Adam
            # turns rounding-level gradient differences into +-lr steps of near-zero entries)
            apply_(contexts[0], phase_e, stats_e)
            with torch.no_grad():
                for mine, theirs in zip(fast.state_dict().values(), eager.state_dict().values()):
                    mine.copy_(theirs)
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] > 0  # it did compile
    assert fast.state_dict().keys() == eager.state_dict().keys()


def test_compile_without_a_cpp_compiler_trains_eagerly(monkeypatch):
    monkeypatch.setattr(compiled, "cpp_compiler", lambda: None)
    model = StyleALAE(**dict(TINY, resolution=8))
    lines: list[str] = []
    assert not compiled.compile_networks(model, torch.device("cpu"), lines.append)
    assert len(lines) == 1 and "C++ compiler" in lines[0] and "eager" in lines[0]
    assert all(network._compiled_call_impl is None for network in model.children())


@pytest.mark.skipif(compiled.cpp_compiler() is None, reason="TorchInductor needs a C++ compiler")
def test_a_graph_inductor_cannot_build_runs_eagerly(monkeypatch):
    """A failed C++ build (seen once with bf16 on a loaded CPU) must not stop the run: same output."""
    import torch._inductor.compile_fx as compile_fx

    def broken(*args, **kwargs):
        raise RuntimeError("C++ compile error (simulated)")

    monkeypatch.setattr(torch._dynamo.config, "suppress_errors", False)  # restored after the test
    monkeypatch.setattr(compile_fx, "compile_fx", broken)
    torch._dynamo.reset()
    model = StyleALAE(**dict(TINY, resolution=8)).eval()
    eager = copy.deepcopy(model)
    assert compiled.compile_networks(model, torch.device("cpu"))
    z = torch.randn(3, model.arch.latent_size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(model.map(z), eager.map(z))
    torch._dynamo.reset()
