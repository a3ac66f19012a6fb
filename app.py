"""Start the alae_hf Gradio app: `python app.py [--model DIR_OR_REPO_ID] [--public]` (the bundled
default otherwise). The UI lives in `alae_hf.app.ui`, the command line in `alae_hf.app.server`.
This file is also the Hugging Face Space's entry point (spaces/prepare_upload.py ships it as is).
"""

from alae_hf.app.server import main

if __name__ == "__main__":
    raise SystemExit(main())
