"""Start the alae_hf Gradio app: `python app.py [--model DIR_OR_REPO_ID]` (the bundled default
otherwise). The UI lives in `alae_hf.app.ui`; this file is also the Hugging Face Space's entry point.
"""

from alae_hf.app.ui import main

if __name__ == "__main__":
    raise SystemExit(main())
