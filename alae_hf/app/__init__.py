"""The alae_hf app: gradio-free input checks (`inputs`) and state (`state`), what each event
computes (`actions`), and the Gradio UI (`ui`, needs the `app` extra: `pip install alae_hf[app]`).

    python app.py                 # from a checkout, on the bundled default
    python -m alae_hf.app --model DIR_OR_REPO_ID
"""
