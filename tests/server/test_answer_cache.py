"""The GET answers kept in memory stay within their budget, targets included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from somacontracts.tooling.registry.app import _CACHE_TARGET, _AnswerCache


@settings(max_examples=200, deadline=None)
@given(
    puts=st.lists(
        st.tuples(st.text(max_size=3000), st.binary(max_size=400), st.integers(0, 3)),
        max_size=60,
    )
)
def test_the_budget_counts_targets_and_answers(puts: list[tuple[str, bytes, int]]) -> None:
    cache = _AnswerCache(entries=20, size=4096)
    for target, data, generation in puts:
        cache.put(target, generation, 200, data)
        kept = cache._answers
        assert len(kept) <= 20
        assert cache._bytes == sum(len(t) + len(a[2]) for t, a in kept.items())
        assert cache._bytes <= 4096
        assert all(len(t) <= _CACHE_TARGET for t in kept)
        if target in kept:
            assert cache.get(target, generation) == (200, data)
            assert cache.get(target, generation + 1) is None


def test_a_long_target_is_answered_but_not_kept() -> None:
    cache = _AnswerCache()
    cache.put("/subjects?q=" + "a" * _CACHE_TARGET, 1, 200, b"[]")
    assert cache._answers == {}
