"""The fault-report model's features: word and character n-gram TF-IDF, computed for 100,000 messages in seconds.

:class:`NgramTfidf` gives what two scikit-learn ``TfidfVectorizer``\\ s in a ``FeatureUnion``
would (``analyzer="word"`` with bigrams, and ``"char_wb"``), each block with sublinear tf and
scaled to unit length. Scoring (:meth:`NgramTfidf.decision`) never builds the stacked matrix:

- each message's words are counted once by polars, and every distinct word gets an integer
  id, so the word and bigram vocabulary is matched on integers, not strings;
- each distinct word's character n-grams are found once (vectorised, by polars), and a
  message's character counts are its word counts times that word-by-n-gram matrix;
- a linear model's score needs only two sums per message and block, the dot product with
  the coefficients and the squared length, so the TF-IDF matrix is never scaled or stacked;
- messages are scored in chunks, two at a time on two threads (the sparse products and
  numpy release the GIL), and identical texts are scored once.

The result equals the ``Pipeline``'s ``predict_proba`` to rounding
(``tests/test_triage.py``); nothing about the model changes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["CHUNK", "NgramTfidf", "char_ngrams"]

_WORD = r"[\w']+"
CHUNK = 25_000
"""Messages per chunk when scoring: bounds the memory of the character matrix (about 11 M entries a chunk)."""


def char_ngrams(word: str, low: int, high: int) -> list[str]:
    """The character n-grams of ``word`` padded by one space each side, shortest first (``char_wb``)."""
    padded = f" {word} "
    return [padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]


def _unit_dot(m: sparse.csr_matrix, idf: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Per row of raw counts ``m`` (no duplicate entries): the sublinear TF-IDF row at unit length, dotted with ``coef``.

    ``m`` is overwritten. A row with no known term scores 0. ``1 + log(count)`` is looked up,
    since counts are small whole numbers.
    """
    if not m.nnz:
        return np.zeros(m.shape[0])
    sublinear = 1 + np.log(np.arange(1, int(m.data.max()) + 1, dtype=np.float64))
    m.data = sublinear[m.data - 1] * idf[m.indices]
    dot = m @ coef
    np.square(m.data, out=m.data)
    norm = np.sqrt(m @ np.ones(m.shape[1]))
    return np.divide(dot, norm, out=np.zeros_like(dot), where=norm > 0)


def _pointers(sorted_rows: np.ndarray, n_rows: int) -> np.ndarray:
    """CSR row pointers for entries whose row numbers ``sorted_rows`` are in ascending order."""
    return np.concatenate([[0], np.cumsum(np.bincount(sorted_rows, minlength=n_rows))]).astype(np.int64)


class NgramTfidf(TransformerMixin, BaseEstimator):
    """Word (1–2) and character-in-word (2–5) n-gram TF-IDF, each block L2-normalised, sublinear tf."""

    def __init__(self, char_range: tuple[int, int] = (2, 5), min_df: int = 2):
        self.char_range = char_range
        self.min_df = min_df

    # --- fitting: on the training corpus, a few thousand messages ---------------------------------------------------

    @staticmethod
    def _tokens(texts: pl.Series) -> pl.DataFrame:
        """doc and word, one row per word in text order."""
        return (
            pl.DataFrame({"text": texts})
            .with_row_index("doc")
            .select("doc", word=pl.col("text").str.extract_all(_WORD))
            .explode("word")
            .drop_nulls("word")
        )

    def fit(self, texts, y=None):
        tokens = self._tokens(pl.Series(texts, dtype=pl.String))
        tokens = tokens.with_columns(bigram=pl.col("word") + " " + pl.col("word").shift(-1).over("doc"))
        n = len(texts)
        doc_freq = (
            pl.concat([tokens.select("doc", term="word"), tokens.select("doc", term="bigram").drop_nulls()])
            .unique()
            .group_by("term")
            .len()
            .sort("term")
        )
        self.words_ = {t: i for i, t in enumerate(doc_freq["term"].to_list())}
        self.word_idf_ = np.log((1 + n) / (1 + doc_freq["len"].to_numpy())) + 1
        low, high = self.char_range
        per_doc = tokens.group_by("doc").agg(pl.col("word").unique())
        counts: dict[str, int] = {}
        for ws in per_doc["word"].to_list():
            for g in {g for w in ws for g in char_ngrams(w, low, high)}:
                counts[g] = counts.get(g, 0) + 1
        kept = sorted(g for g, c in counts.items() if c >= self.min_df)
        self.chars_ = {g: i for i, g in enumerate(kept)}
        self.char_idf_ = np.log((1 + n) / (1 + np.array([counts[g] for g in kept], dtype=float))) + 1
        self._lookup: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame] | None = None
        return self

    def _vocabulary(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """The fitted vocabulary as frames to join on: words (word, col), bigrams (first, second, col), grams (gram, col)."""
        found = getattr(self, "_lookup", None)
        if found is None:
            terms = pl.DataFrame({"term": list(self.words_), "col": np.arange(len(self.words_), dtype=np.int64)})
            pair = pl.col("term").str.contains(" ", literal=True)
            split = pl.col("term").str.split_exact(" ", 1).struct
            bigrams = terms.filter(pair).select(first=split.field("field_0"), second=split.field("field_1"), col="col")
            grams = pl.DataFrame({"gram": list(self.chars_), "col": np.arange(len(self.chars_), dtype=np.int64)})
            found = self._lookup = (terms.filter(~pair).rename({"term": "word"}), bigrams, grams)
        return found

    # --- the two blocks as raw counts --------------------------------------------------------------------------------

    def _counts(self, texts: pl.Series) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """Raw counts of the word block (words and bigrams) and of the character block, one row per text."""
        n = len(texts)
        words_vocab, bigrams_vocab, grams_vocab = self._vocabulary()
        tokens = self._tokens(texts).with_row_index("t")
        distinct = tokens.select("word").unique().with_row_index("w")
        placed = tokens.join(distinct, on="word").select("t", "w")
        w = np.empty(tokens.height, dtype=np.int64)
        w[placed["t"].to_numpy()] = placed["w"].to_numpy()
        doc = tokens["doc"].to_numpy().astype(np.int64)
        n_words = distinct.height

        # Words and bigrams, matched on the distinct words' integer ids.
        word_col = np.full(n_words, -1, dtype=np.int64)
        known = distinct.join(words_vocab, on="word")
        word_col[known["w"].to_numpy()] = known["col"].to_numpy()
        pairs = bigrams_vocab.join(distinct.rename({"word": "first", "w": "w1"}), on="first").join(
            distinct.rename({"word": "second", "w": "w2"}), on="second"
        )
        codes = pairs["w1"].to_numpy().astype(np.int64) * n_words + pairs["w2"].to_numpy()
        order = np.argsort(codes)
        codes, code_col = codes[order], pairs["col"].to_numpy()[order]
        rows, cols = [doc[word_col[w] >= 0]], [word_col[w][word_col[w] >= 0]]
        if len(codes) and len(w) > 1:
            first, second = np.zeros(n_words, dtype=bool), np.zeros(n_words, dtype=bool)
            first[pairs["w1"].to_numpy()], second[pairs["w2"].to_numpy()] = True, True
            follows = np.flatnonzero((doc[:-1] == doc[1:]) & first[w[:-1]] & second[w[1:]])
            token_codes = w[follows] * n_words + w[follows + 1]
            at = np.minimum(np.searchsorted(codes, token_codes), len(codes) - 1)
            hit = codes[at] == token_codes
            rows.append(doc[follows[hit]])
            cols.append(code_col[at[hit]])
        r, c = np.concatenate(rows), np.concatenate(cols)
        word_block = sparse.csr_matrix((np.ones(len(r), dtype=np.int32), (r, c)), shape=(n, len(self.words_)))

        # Characters: texts x distinct words, times distinct words x character n-grams (found once per word).
        low, high = self.char_range
        padded = distinct.select("w", padded=pl.lit(" ") + pl.col("word") + pl.lit(" "))
        grams = pl.concat(
            [
                padded.select(
                    "w", "padded", at=pl.int_ranges(0, pl.col("padded").str.len_chars().cast(pl.Int64) - k + 1)
                )
                .explode("at")
                .drop_nulls("at")
                .select("w", gram=pl.col("padded").str.slice(pl.col("at"), k))
                for k in range(low, high + 1)
            ]
        ).join(grams_vocab, on="gram")
        grams = grams.sort("w")
        # Rows built from their pointers: the product sums repeated entries, so neither needs sorting out.
        by_word = sparse.csr_matrix(
            (np.ones(grams.height, dtype=np.int32), grams["col"].to_numpy(), _pointers(grams["w"].to_numpy(), n_words)),
            shape=(n_words, len(self.chars_)),
        )
        word_counts = sparse.csr_matrix((np.ones(len(w), dtype=np.int32), w, _pointers(doc, n)), shape=(n, n_words))
        return word_block, word_counts @ by_word

    # --- the scikit-learn interface, and the fast score -------------------------------------------------------------

    def blocks(self, texts) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """The word block and the character block, each TF-IDF and unit length per row."""
        out = []
        for m, idf in zip(
            self._counts(pl.Series(texts, dtype=pl.String)), (self.word_idf_, self.char_idf_), strict=True
        ):
            m = sparse.csr_matrix(m, dtype=np.float64)
            m.sum_duplicates()
            m.data = (1 + np.log(m.data)) * idf[m.indices]
            norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
            out.append(
                sparse.csr_matrix(sparse.diags(np.divide(1, norms, out=np.ones_like(norms), where=norms > 0)) @ m)
            )
        return out[0], out[1]

    def transform(self, texts) -> sparse.csr_matrix:
        return sparse.hstack(self.blocks(texts), format="csr")

    def _decision_chunk(self, texts: pl.Series, coef: np.ndarray, intercept: float) -> np.ndarray:
        words, chars = self._counts(texts)
        k = len(self.words_)
        return _unit_dot(words, self.word_idf_, coef[:k]) + _unit_dot(chars, self.char_idf_, coef[k:]) + intercept

    def decision(self, texts, coef: np.ndarray, intercept: float, *, threads: int = 2) -> np.ndarray:
        """What a linear model with ``coef`` and ``intercept`` gives for ``texts``, without building the TF-IDF matrix.

        Identical texts are scored once; the distinct ones in chunks of :data:`CHUNK`, ``threads`` at a time.
        """
        texts = pl.Series(texts, dtype=pl.String).fill_null("")
        if not len(texts):
            return np.zeros(0)
        frame = pl.DataFrame({"text": texts})
        distinct = frame.unique(maintain_order=True)
        index = None
        if distinct.height < len(texts):
            placed = frame.with_row_index("row").join(distinct.with_row_index("u"), on="text")
            index = np.empty(len(texts), dtype=np.int64)
            index[placed["row"].to_numpy()] = placed["u"].to_numpy()
        unique = distinct["text"]
        chunks = [unique.slice(i, CHUNK) for i in range(0, len(unique), CHUNK)]
        if threads > 1 and len(chunks) > 1:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                parts = list(pool.map(lambda c: self._decision_chunk(c, coef, intercept), chunks))
        else:
            parts = [self._decision_chunk(c, coef, intercept) for c in chunks]
        scores = np.concatenate(parts)
        return scores if index is None else scores[index]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array([f"word:{t}" for t in self.words_] + [f"chars:{g}" for g in self.chars_], dtype=object)
