"""Training StyleALAE: the three ALAE phases as pure losses (`losses`), the one training step
(`step`), the progressive schedule (`schedule`), the EMA copy (`ema`), data (`data`) and
checkpoint folders (`checkpoints`). `train_accelerate.py` is a thin CLI over these modules.

Official counterpart: podgorskiy/ALAE `train_alae.py`, `lod_driver.py`, `dataloader.py`.
"""
