"""Audio datasets (torchaudio.datasets names)."""
