"""Lexical views of a text and the TF-IDF space over two documents' texts.

Shared by the candidates stage (which fuses them with the embeddings) and by confirmation
(which links provisions to elections by topic), so neither imports the other.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Callable

import numpy as np

from .fingerprint import content_words

STEM_LETTERS = 5   # a word's first five letters stand for the word: see `stem_terms`
CHAR_GRAM = 5      # letters per character n-gram: see `char_terms`


def _bigrams(words: list[str]) -> list[str]:
    return [f"{a}_{b}" for a, b in zip(words, words[1:])]


def word_terms(text: str) -> list[str]:
    """Content words and their adjacent pairs: the main lexical view."""
    words = content_words(text)
    return words + _bigrams(words)


def heading_terms(text: str) -> list[str]:
    """Content words alone: headings are too short for pairs."""
    return content_words(text)


def stem_terms(text: str) -> list[str]:
    """Content words cut to their first letters, and their pairs: "contribution(s)", "deferral" /
    "deferred", "eligible" / "eligibility" fall together, as vendors inflect the same terms differently."""
    stems = [w[:STEM_LETTERS] for w in content_words(text)]
    return stems + _bigrams(stems)


def char_terms(text: str) -> list[str]:
    """Character n-grams of each content word (word boundaries marked): close spellings and
    extraction garble ("Noneligible" for "Nonelective") still share most of their n-grams."""
    return [gram for word in content_words(text) for gram in _word_grams(word)]


@lru_cache(maxsize=65536)
def _word_grams(word: str) -> tuple[str, ...]:
    # legal text repeats its words: each distinct word is cut once (a third of the view's time)
    marked = f"#{word}#"
    return tuple(marked[i:i + CHAR_GRAM] for i in range(max(1, len(marked) - CHAR_GRAM + 1)))


class TfidfSpace:
    """A small TF-IDF space over two sides' texts, cut into terms by `terms`.

    Weights are (1 + log tf) × smoothed idf, rows L2-normalised over every term; the stored
    matrices span only the terms both sides use, the only ones a cross-side dot product
    can see (a tenth of the vocabulary, so a tenth of the memory and time).
    """

    def __init__(self, texts_a: list[str], texts_b: list[str], terms: Callable[[str], list[str]] = word_terms):
        n_a, n_docs = len(texts_a), len(texts_a) + len(texts_b)
        vocabulary: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        for row, text in enumerate(texts_a + texts_b):
            for term, count in Counter(terms(text)).items():
                rows.append(row)
                cols.append(vocabulary.setdefault(term, len(vocabulary)))
                tfs.append(count)
        rows_, cols_ = np.array(rows, np.intp), np.array(cols, np.intp)
        size = len(vocabulary)
        idf = np.log((1 + n_docs) / (1 + np.bincount(cols_, minlength=size))) + 1.0
        weights = (1.0 + np.log(np.array(tfs, np.float64))) * idf[cols_]
        norms = np.sqrt(np.bincount(rows_, weights * weights, minlength=n_docs))
        in_a = np.bincount(cols_[rows_ < n_a], minlength=size) > 0
        in_b = np.bincount(cols_[rows_ >= n_a], minlength=size) > 0
        shared = in_a & in_b
        column = np.cumsum(shared) - 1           # each shared term's column
        keep = shared[cols_]
        matrix = np.zeros((n_docs, int(shared.sum())), dtype=np.float32)
        matrix[rows_[keep], column[cols_[keep]]] = weights[keep] / norms[rows_[keep]]
        self.a = matrix[:n_a]
        self.b = matrix[n_a:]

    def similarity(self) -> np.ndarray:
        return self.a @ self.b.T
