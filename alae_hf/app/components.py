"""Gradio pieces the UI is built from: errors shown as one clear line, a multiple-file input whose
API also takes one file, and named slider parameters for the API."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

import gradio as gr
from gradio.data_classes import ListFiles
from pydantic import model_validator

from .state import MAX_K, InputError

LOG = logging.getLogger("alae_app")


def user_errors(fn: Callable) -> Callable:
    """Show input errors (`InputError`, verbatim) and library errors (bad layer specs, incompatible
    directions, ...: their first line) as gr.Error and log anything unexpected, so that a user never
    sees a traceback or a bare 'Error'."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except InputError as err:
            raise gr.Error(str(err), print_exception=False) from err
        except (ValueError, OSError, TypeError) as err:
            raise gr.Error(str(err).splitlines()[0][:500] or type(err).__name__, print_exception=False) from err
        except Exception as err:  # noqa: BLE001
            LOG.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(f"Something went wrong ({type(err).__name__}); the server log has details.",
                           print_exception=False) from err
    return wrapper


class OneOrMoreFiles(ListFiles):
    """A multiple-file input's payload that also accepts one file (gradio 6.31 validates the
    payload against a list before any handler runs, so a client's single file failed with a
    generic error and a server traceback)."""

    @model_validator(mode="before")
    @classmethod
    def _one_file_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value


def files_input(**kwargs: Any) -> gr.File:
    """gr.File(file_count="multiple", file_types=["image"]) whose API accepts one file or a list."""
    component = gr.File(file_count="multiple", file_types=["image"], **kwargs)
    component.data_model = OneOrMoreFiles
    return component


def named_sliders(fn: Callable) -> Callable:
    """`fn(..., *alphas)` with the API signature `fn(..., slider_1, ..., slider_K)`, so that
    clients see named parameters instead of gradio's `param_4` ... `param_13`."""
    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        return fn(*args)
    signature = inspect.signature(fn)
    params = [p for p in signature.parameters.values() if p.kind is not p.VAR_POSITIONAL]
    params += [inspect.Parameter(f"slider_{i + 1}", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=0.0,
                                 annotation=float) for i in range(MAX_K)]
    wrapper.__signature__ = signature.replace(parameters=params)
    del wrapper.__wrapped__   # inspect.signature would follow it back to *alphas
    return wrapper
