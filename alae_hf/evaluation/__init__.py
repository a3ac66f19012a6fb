"""Evaluating StyleALAE: image-space metrics (`metrics`), latent-space metrics
(`latent_metrics`), the attribute network whose features they use (`attributes`), the
evaluation CLI (`python -m alae_hf.evaluation`) and its report (`report`).
"""
