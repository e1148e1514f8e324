"""Model classes importable by path (as a user's project module would be)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class Threshold:
    """A generic-flavor model: any object with predict()."""

    def __init__(self, cut: float) -> None:
        self.cut = cut

    def predict(self, data):
        return (np.asarray(data)[:, 0] > self.cut).astype(np.int64)


class Doubler(BaseEstimator, TransformerMixin):
    """A custom scikit-learn transformer: skops doesn't trust it by default."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X) * 2.0
