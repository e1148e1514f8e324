"""A torch module importable by path (import this only where torch is installed)."""

from __future__ import annotations

from torch import nn


class Net(nn.Module):
    def __init__(self, d: int, hidden: int = 8) -> None:
        super().__init__()
        self.hidden = nn.Linear(d, hidden)
        self.norm = nn.BatchNorm1d(hidden)  # buffers (running stats) travel with the weights
        self.drop = nn.Dropout(0.5)  # predict() must run in eval mode
        self.out = nn.Linear(hidden, 2)

    def forward(self, x):
        return self.out(self.drop(self.norm(self.hidden(x)).relu()))
