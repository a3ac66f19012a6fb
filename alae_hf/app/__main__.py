"""`python -m alae_hf.app [--model DIR_OR_REPO_ID] ...`: start the Gradio app."""

from .server import main

if __name__ == "__main__":
    raise SystemExit(main())
