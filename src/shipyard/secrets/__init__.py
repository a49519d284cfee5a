"""Secrets: encryption, encrypted files and masking."""
