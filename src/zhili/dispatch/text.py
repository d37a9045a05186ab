"""Chinese text as the dispatch code reads it: one tokenizer for the classifier, the duplicate finder and
the hot-issue clustering, so that a live appeal and a training message pass through the same steps."""

import logging
import re
from functools import cache

import jieba

jieba.setLogLevel(logging.WARNING)

# Masked place letters of the teddy corpus (A市, A3区) and any run of Latin letters and digits.
_NOISE = re.compile(r"[A-Za-z]+\d*|\d+")
_WORD = re.compile(r"[\u4e00-\u9fff]")


@cache
def _ready() -> None:
    jieba.initialize()


def tokenize(text: str) -> list[str]:
    """The words of `text` that carry meaning: jieba's segmentation without punctuation, digits and
    Latin letters."""
    _ready()
    return [w for w in jieba.lcut(_NOISE.sub(" ", text)) if _WORD.search(w)]


def split_segmented(text: str) -> list[str]:
    """The words of text already segmented into space-separated words (such as the teddy corpus), with
    Latin letters and digits dropped and words kept as tokenize() keeps jieba's."""
    return [w for w in _NOISE.sub(" ", text).split() if _WORD.search(w)]
