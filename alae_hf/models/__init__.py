"""The model layer: the two ALAEs behind one interface, and their Hub folder format.

`base` the interface both models implement (`ALAEModel`), `config` their typed configs,
`layers` the equalized-lr layers both build on; `style` + `style_networks` StyleALAE,
`mlp` + `mlp_networks` the paper's MNIST MLP ALAE; `card`, `hub` and `loading` the Hub side
(model cards, folder checks and uploads, `alae_hf.load`). Nothing is imported here, so the
torch-free `config` loads without torch.
"""
