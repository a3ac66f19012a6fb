"""`python -m alae_hf.evaluation --model DIR --out report/` (see `alae_hf.evaluation.evaluate`)."""

from .evaluate import main

if __name__ == "__main__":
    main()
