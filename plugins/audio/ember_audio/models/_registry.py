"""The table the audio model builders register into (``@register_model`` adds each builder and its weights)."""
from __future__ import annotations

from ember.plugins import RegistrationTable

MODELS = RegistrationTable("models", modality="audio")
