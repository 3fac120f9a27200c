"""Audio functional operations (torchaudio.functional names)."""
