"""What each event of the editor app computes, without the UI: sample, encode, mix, edit, traverse, export.

`Actions` methods take a session dict (`alae_hf.app.state.new_session`) and the raw request values,
check them (`InputError` names the field; `alae_hf.app.inputs`), run `StyleALAE` /
`alae_hf.editing` (truncate-then-edit, shared noise maps, directions in σ units; see
`alae_hf.latent.ops`) and return plain values: PNG paths in the `Studio`'s output folder,
markdown text and updated session dicts. `alae_hf.app.ui` turns them into Gradio components.

The methods live with their tabs: `SampleMixActions` (`alae_hf.app.sample_actions`: Sample, Style
mixing), `EncodeEditActions` (`alae_hf.app.edit_actions`: Encode, Edit), the shared session model
and edit base in `alae_hf.app.action_base`, and the Model tab's here.
"""

from __future__ import annotations

from typing import Any

from .cards import card_body, model_markdown
from .edit_actions import EncodeEditActions
from .inputs import InputError
from .sample_actions import SampleMixActions
from .state import LoadedModel, Progress


class Actions(SampleMixActions, EncodeEditActions):
    """The computations behind every event, over one `Studio` (the app-level caches): each tab's
    from its mixin, and the Model tab's (switching a session's model) here."""

    def model_info(self, session: dict) -> tuple[str, str, str]:
        """(status, info, card) for the session's model."""
        loaded = self.model(session)
        return (
            f"Using **{loaded.name}**.",
            model_markdown(loaded),
            card_body(loaded.card, loaded.folder),
        )

    def load_model(
        self, session: dict, source: Any, progress: Progress | None = None
    ) -> LoadedModel:
        """The model to switch this session to (empty source: the default). On failure the
        session keeps its current model and the InputError says so."""
        source = str(source or "").strip() or self.studio.default_key
        try:
            loaded = self.studio.load(source, progress)
        except (OSError, ValueError) as err:
            current = self.model(session).name
            message = str(err).strip().splitlines()[0][:400]
            raise InputError(
                f"Could not load {source!r}: {message}. Still using {current}."
            ) from err
        if not loaded.model.supports_style_mixing:  # this app's tabs mix and edit styles
            raise InputError(
                f"{source!r} is an {loaded.model.display_name} (one w, no styles to mix or edit): open it in its own app, "
                f"python app.py --model {source}. Still using {self.model(session).name}."
            )
        return loaded
