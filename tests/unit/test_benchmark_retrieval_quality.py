"""recall@k and MRR are exact on vectors whose rankings are known by construction."""

from __future__ import annotations

import pytest

from desktop_registry.services.evaluation.benchmarks import retrieval_quality

# Four documents: the three axes and the diagonal between the first two.
DOCS = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.7, 0.7, 0.0]]


def test_recall_at_k_and_mrr_count_where_each_relevant_document_ranks():
    queries = [
        [1.0, 0.0, 0.0],  # doc 0 first                               → rank 1
        [0.6, 0.8, 0.0],  # the diagonal (0.99) beats doc 1 (0.8)     → rank 2
        [0.0, 0.1, 1.0],  # doc 2 first                               → rank 1
        [1.0, 1.0, 0.0],  # doc 2 is orthogonal: last of four         → rank 4
    ]
    relevant = [{0}, {1}, {2}, {2}]
    got = retrieval_quality(queries, DOCS, relevant, ks=(1, 2, 3, 4))
    assert got == {
        "recall@1": 2 / 4,
        "recall@2": 3 / 4,
        "recall@3": 3 / 4,
        "recall@4": 4 / 4,
        "mrr": pytest.approx((1 + 1 / 2 + 1 + 1 / 4) / 4),
    }


def test_a_query_with_two_relevant_documents_counts_the_share_found():
    # ranking: diagonal, doc 0, doc 1, doc 2 — the relevant docs 0 and 1 sit at ranks 2 and 3
    got = retrieval_quality([[1.0, 0.9, 0.0]], DOCS, [{0, 1}], ks=(1, 2, 3))
    assert got == {"recall@1": 0.0, "recall@2": 0.5, "recall@3": 1.0, "mrr": 0.5}


def test_equal_scores_keep_document_order_so_the_figures_never_flicker():
    twins = [[1.0, 0.0], [1.0, 0.0]]
    assert retrieval_quality([[1.0, 0.0]], twins, [{1}], ks=(1,))["recall@1"] == 0.0
    assert retrieval_quality([[1.0, 0.0]], twins, [{0}], ks=(1,))["recall@1"] == 1.0
