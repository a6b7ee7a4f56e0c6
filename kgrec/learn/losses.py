"""Training losses of one batch, shared by every model and trainer.

A batch is ``(users, pos, neg)``: one positive item per user row and either one
sampled negative (``neg`` of shape ``(B,)``) or ``negatives`` of them
(``(B, K)``). Every loss takes the positive scores ``(B,)`` and the negative
scores, of ``neg``'s shape:

* ``bpr``: ``-mean log sigmoid(pos - neg)`` over every (positive, negative) pair;
* ``bce``: binary cross-entropy with label 1 for positives and 0 for negatives;
* ``softmax``: sampled softmax, ``-mean log( e^(pos/T) / (e^(pos/T) + sum_k e^(neg_k/T)) )``,
  the positive against its ``K`` uniform negatives at temperature ``T``. Every
  negative of a row competes with the positive at once, so each step carries
  ``K`` comparisons instead of one.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.nn import functional

from kgrec.learn.recommender import Recommender


def bpr_loss(pos: Tensor, neg: Tensor, temperature: float = 1.0) -> Tensor:
    """Bayesian personalised ranking: ``-mean log sigmoid(pos - neg)`` (``temperature`` unused)."""
    if neg.dim() == 2:
        pos = pos.unsqueeze(1)
    return -functional.logsigmoid(pos - neg).mean()


def bce_loss(pos: Tensor, neg: Tensor, temperature: float = 1.0) -> Tensor:
    """Binary cross-entropy ``-[y log f(x) + (1-y) log(1-f(x))]``, y=1 for positives, 0 for negatives."""
    logits = torch.cat([pos, neg.reshape(-1)])
    labels = torch.cat([torch.ones_like(pos), torch.zeros_like(neg.reshape(-1))])
    return functional.binary_cross_entropy_with_logits(logits, labels)


def softmax_loss(pos: Tensor, neg: Tensor, temperature: float = 1.0) -> Tensor:
    """Sampled softmax: cross-entropy of the positive among itself and its row's negatives, at ``temperature``."""
    logits = torch.cat([pos.unsqueeze(1), neg.reshape(len(pos), -1)], dim=1) / temperature
    return functional.cross_entropy(logits, torch.zeros(len(pos), dtype=torch.long, device=pos.device))


LOSSES = {"bpr": bpr_loss, "bce": bce_loss, "softmax": softmax_loss}


def pair_scores(model: Recommender, state: Any, users: Tensor, items: Tensor) -> Tensor:
    """Scores of ``items`` (``(B,)``, or ``(B, K)``: K per user row) for ``users`` (``(B,)``), of ``items``' shape."""
    if items.dim() == 1:
        return model.score_pairs(state, users, items)
    rows = users.repeat_interleave(items.shape[1])
    return model.score_pairs(state, rows, items.reshape(-1)).reshape(items.shape)


def batch_loss(
    model: Recommender, state: Any, batch: tuple[Tensor, Tensor, Tensor], loss: str, temperature: float
) -> Tensor:
    """The loss of one batch of ``state`` plus the model's regularisation (on the first negative of each row)."""
    users, pos, neg = batch
    value = LOSSES[loss](pair_scores(model, state, users, pos), pair_scores(model, state, users, neg), temperature)
    first = neg if neg.dim() == 1 else neg[:, 0]
    return value + model.regularisation(state, users, pos, first)
