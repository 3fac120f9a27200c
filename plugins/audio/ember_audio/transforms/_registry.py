"""What the ``audio`` plugin registers in Ember's transforms registry (filled as the transforms land)."""
from __future__ import annotations

from ember.plugins import RegistrationTable

TRANSFORMS = RegistrationTable("transforms", modality="audio")
