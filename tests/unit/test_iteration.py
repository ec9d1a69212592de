"""What of an iteration is testable without a server: version names (the reads of earlier versions: test_earlier)."""

from __future__ import annotations

from al_core.iteration import version_name


def test_version_names_sort_in_order_and_say_the_labels() -> None:
    assert version_name(7, 350) == "al-0007-n350"
    assert sorted([version_name(10, 5), version_name(9, 900)]) == ["al-0009-n900", "al-0010-n5"]
