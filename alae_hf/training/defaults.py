"""Training constants the command line shows as defaults, torch-free so that `alae-train --help`
is built before torch is imported; `losses` and `optim` use the same names."""

R1_GAMMA = 10.0  # R1 penalty weight gamma (official `train_alae.py`)
KINDS = ("lreq", "adam")  # optimizers: LREQAdam (official, equalized-lr aware) or plain Adam
