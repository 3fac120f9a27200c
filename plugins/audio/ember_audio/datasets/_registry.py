"""What the ``audio`` plugin registers in Ember's datasets registry (filled as the datasets land)."""
from __future__ import annotations

from ember.plugins import RegistrationTable

DATASETS = RegistrationTable("datasets", modality="audio")
