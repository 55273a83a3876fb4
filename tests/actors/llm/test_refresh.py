"""What a model refresh found, and how admins read it."""

from __future__ import annotations

from actors.llm.refresh import ProviderOutcome, changes_notice, outcome_of, refresh_report
from storage import ModelDiff

MINUS = "\N{MINUS SIGN}"


def diff(provider: str, added: tuple[str, ...] = (), removed: tuple[str, ...] = ()) -> ModelDiff:
    return ModelDiff(provider=provider, added=added, removed=removed)


def test_every_model_new_and_none_gone_is_a_first_listing_not_a_change() -> None:
    outcome = outcome_of(diff("gemini", added=("a", "b")), listed=2)

    assert outcome.first
    assert not outcome.changed


def test_new_models_beside_known_ones_are_a_change() -> None:
    outcome = outcome_of(diff("deepseek", added=("v4",)), listed=3)

    assert not outcome.first
    assert outcome.changed


def test_a_whole_list_replaced_is_a_change_not_a_first_listing() -> None:
    outcome = outcome_of(diff("deepseek", added=("x", "y"), removed=("a",)), listed=2)

    assert not outcome.first
    assert outcome.changed


def test_the_notice_lists_only_changed_providers_with_plus_and_minus_lines() -> None:
    outcomes = (
        outcome_of(diff("deepseek", added=("v4",), removed=("reasoner",)), listed=2),
        outcome_of(diff("gemini", added=("a", "b")), listed=2),  # first listing
        outcome_of(diff("mistral"), listed=5),  # unchanged
        ProviderOutcome(provider="broken", error="ProviderError: 500"),
    )

    assert changes_notice(outcomes) == (
        f"Model lists changed:\ndeepseek\n  + v4\n  {MINUS} reasoner"
    )


def test_no_notice_when_nothing_changed_or_a_provider_only_failed() -> None:
    outcomes = (
        outcome_of(diff("mistral"), listed=5),
        ProviderOutcome(provider="broken", error="ProviderError: 500"),
        outcome_of(diff("gemini", added=("a",)), listed=1),
    )

    assert changes_notice(outcomes) is None


def test_the_report_names_every_provider_and_counts_changes_and_failures() -> None:
    outcomes = (
        ProviderOutcome(provider="broken", error="no answer within 30s"),
        outcome_of(diff("deepseek", added=("v4",), removed=("reasoner",)), listed=2),
        outcome_of(diff("gemini", added=("a", "b")), listed=2),
        outcome_of(diff("mistral"), listed=5),
    )

    assert refresh_report(outcomes).splitlines() == [
        "Model refresh: 1 provider(s) changed, 1 failed.",
        "broken: failed — no answer within 30s",
        "deepseek: 1 added, 1 removed (2 models)",
        "  + v4",
        f"  {MINUS} reasoner",
        "gemini: listed for the first time (2 models)",
        "mistral: no changes (5 models)",
    ]


def test_the_report_says_no_changes_when_there_are_none() -> None:
    report = refresh_report((outcome_of(diff("mistral"), listed=5),))

    assert report.splitlines()[0] == "Model refresh: no changes."


def test_the_report_without_providers_says_so() -> None:
    assert refresh_report(()) == "Model refresh: no providers are configured."
