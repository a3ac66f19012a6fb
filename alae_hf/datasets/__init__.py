"""Procedural datasets whose generative factors are known (for training and measuring edits).

`synthetic_faces`: cartoon faces from ten labelled factors (`FACTORS`, `SyntheticFaces`). It is not
re-exported here so that `python -m alae_hf.datasets.synthetic_faces` runs without runpy's
"found in sys.modules" warning.
"""
