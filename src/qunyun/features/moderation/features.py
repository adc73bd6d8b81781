"""Vectorized character n-gram TF-IDF with the hashing trick (字符 n-gram 特征).

scikit-learn's ``TfidfVectorizer``/``HashingVectorizer`` build n-grams with a Python loop per
document, which caps batch scoring at a few thousand messages per second. Here a whole batch is
one array of code points: n-gram hashes are computed with numpy over the array at once, and the
sparse matrix is built by scipy in C. The result is the same kind of feature as
``TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True)`` (plus the message
boundary as a character, like ``char_wb``), hashed into ``2**bits`` columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize as l2_normalize

_P = np.uint64(1_000_003)
_MULT = np.uint64(0x9E3779B97F4A7C15)
_NSALT = np.uint64(0x632BE59BD9B4E019)
#: the model reads at most this many characters of a message (the signal is in the first lines)
MAX_CHARS = 1000


class HashedCharTfidf:
    """Char n-grams (with boundary marks) → hashed counts → sublinear TF × IDF → L2 rows."""

    def __init__(self, ngram_range: tuple[int, int] = (1, 4), bits: int = 20) -> None:
        self.ngram_range = ngram_range
        self.bits = bits
        self.idf: np.ndarray | None = None

    @property
    def n_features(self) -> int:
        return 1 << self.bits

    def counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Raw n-gram counts, one row per text."""
        m = len(texts)
        shape = (m, self.n_features)
        if m == 0:
            return sp.csr_matrix(shape, dtype=np.float64)
        joined = "\x00" + "\x00".join(t[:MAX_CHARS].replace("\x00", " ") for t in texts) + "\x00"
        cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        length = cp.shape[0]
        is_sep = cp == 0
        # c[k] = number of separators in joined[:k]
        c = np.zeros(length + 1, dtype=np.int64)
        np.cumsum(is_sep, out=c[1:])
        shift = np.uint64(64 - self.bits)
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        lo, hi = self.ngram_range
        h = np.zeros(length, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for n in range(1, hi + 1):
                count = length - n + 1
                if count <= 0:
                    break
                h = h[:count] * _P + cp[n - 1 :]
                if n < lo:
                    continue
                if n == 1:
                    valid = ~is_sep
                else:
                    # no separator strictly inside the n-gram (one at either end marks the boundary)
                    valid = (c[n - 1 : n - 1 + count] - c[1 : 1 + count]) == 0
                doc = c[1 : 1 + count][valid] - 1
                salted = h[valid] ^ (_NSALT * np.uint64(n))
                bucket = ((salted * _MULT) >> shift).astype(np.int64)
                rows.append(doc)
                cols.append(bucket)
        r = np.concatenate(rows)
        k = np.concatenate(cols)
        data = np.ones(r.shape[0], dtype=np.float64)
        mat = sp.coo_matrix((data, (r, k)), shape=shape).tocsr()
        mat.sum_duplicates()
        return mat

    def fit(self, texts: Sequence[str]) -> HashedCharTfidf:
        x = self.counts(texts)
        df = np.bincount(x.indices, minlength=self.n_features).astype(np.float64)
        n = x.shape[0]
        self.idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        if self.idf is None:
            raise RuntimeError("HashedCharTfidf is not fitted")
        x = self.counts(texts)
        np.log(x.data, out=x.data)
        x.data += 1.0
        x.data *= self.idf[x.indices]
        return l2_normalize(x, copy=False)

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self.fit(texts).transform(texts)
