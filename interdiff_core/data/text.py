"""Prompt embeddings that need no download: a deterministic hashed token embedding.

Each lower-cased word gets a fixed unit-norm Gaussian vector seeded by a hash of the word
(sha256, so the same on every machine and Python run), plus a sinusoidal position term so word
order matters. The prompt is [max_tokens, dim], zero-padded; it is an embedding, not an
understanding of language, but clips with the same motion words get related embeddings.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np


def tokens(prompt: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", prompt.lower())


def word_vector(word: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(dim)
    return (v / np.linalg.norm(v)).astype(np.float32)


def embed_prompt(prompt: str, dim: int, max_tokens: int) -> np.ndarray:
    """[max_tokens, dim] float32; words beyond max_tokens are dropped."""
    words = tokens(prompt)[:max_tokens]
    out = np.zeros((max_tokens, dim), np.float32)
    freqs = np.exp(-np.log(100.0) * np.arange(dim // 2) / max(dim // 2, 1))
    for i, w in enumerate(words):
        pos = np.concatenate([np.sin(i * freqs), np.cos(i * freqs)])
        out[i, : len(pos)] = 0.1 * pos
        out[i] += word_vector(w, dim)
    return out


def embed_prompts(prompts: list[str], dim: int, max_tokens: int) -> np.ndarray:
    return np.stack([embed_prompt(p, dim, max_tokens) for p in prompts])
