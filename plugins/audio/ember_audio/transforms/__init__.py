"""Audio transforms (torchaudio.transforms names)."""
