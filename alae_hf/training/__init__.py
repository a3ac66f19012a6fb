"""Training StyleALAE: the three ALAE phases as pure losses (`losses`), the one training step
(`step`), the optimizers (`optim`), the progressive schedule (`schedule`), the EMA copy (`ema`),
data (`data`), checkpoint folders (`checkpoints`); a run (`run.Run`): its options (`options.TrainConfig`), its
loop (`trainer`), its saved state (`run_state`), its time budget (`budget`) and what it leaves
behind (`outputs`). `train_accelerate.py` is a thin CLI over these modules.

Official counterpart: podgorskiy/ALAE `train_alae.py`, `lod_driver.py`, `dataloader.py`.
"""
