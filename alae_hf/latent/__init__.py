"""StyleALAE and MLPALAE latents, below both editing and evaluation: style indices and layer specs
(`styles`), the `Directions` type and its files (`directions`), SeFa and GANSpace (`spectral`,
the `alae-directions` command), interpolation, sliders and rendering (`ops`).
"""
