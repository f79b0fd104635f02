"""Hardship case work: the publication part (its features, flows and push renderers, gathered by the package's Module)."""

from __future__ import annotations

from handlers.core.dialogs import Flow
from handlers.core.features import Feature
from handlers.core.pushes import Renderer

FEATURES: tuple[Feature, ...] = ()
FLOWS: tuple[Flow, ...] = ()
RENDERERS: dict[str, Renderer] = {}
PRODUCES: tuple[str, ...] = ()
