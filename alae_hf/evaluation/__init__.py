"""Evaluating StyleALAE: image-space metrics (`metrics`), latent-space metrics
(`latent_metrics`), the attribute network whose features they use (`attributes`), the
evaluation CLI (`python -m alae_hf.evaluation`), its metrics registered by name (`registry`,
filled by `image_suite` and `latent_suite`) over a shared `context`, and its report (`report`).
"""
