"""Who is elevated and who is locked out: compared at use, on a fake clock."""

from __future__ import annotations

from actors.admin.login import Elevations, login_flow, minutes
from actors.config import AdminConfig, Secret
from actors.flows import Finish, Reject


def test_an_elevation_lasts_its_time_and_ends_on_logout() -> None:
    elevations = Elevations(elevation_seconds=900.0, lockout_seconds=600.0)
    elevations.grant(1000, now=0.0)

    assert elevations.is_elevated(1000, now=899.0)
    assert not elevations.is_elevated(1000, now=900.0)
    elevations.grant(1000, now=1000.0)
    assert elevations.revoke(1000)
    assert not elevations.is_elevated(1000, now=1001.0)
    assert not elevations.revoke(1000)


def test_a_lockout_ends_any_elevation_and_lasts_its_time() -> None:
    elevations = Elevations(elevation_seconds=900.0, lockout_seconds=600.0)
    elevations.grant(1000, now=0.0)

    elevations.lock(1000, now=10.0)

    assert not elevations.is_elevated(1000, now=11.0)
    assert elevations.locked_for(1000, now=110.0) == 500.0
    assert elevations.locked_for(1000, now=610.0) == 0.0


def test_the_login_step_takes_only_the_exact_password_and_is_secret() -> None:
    config = AdminConfig(password=Secret("s3cret-pass"), login_timeout_seconds=10.0)
    [step] = login_flow(config).steps

    assert isinstance(step.handle("s3cret-pass", {}), Finish)
    assert isinstance(step.handle(" s3cret-pass\n", {}), Finish)
    assert isinstance(step.handle("s3cret-pas", {}), Reject)
    assert isinstance(step.handle("S3CRET-PASS", {}), Reject)
    assert step.secret
    assert step.remind_after is None  # too short a prompt for a reminder
    assert step.max_attempts == config.login_attempts


def test_minutes_are_worded_for_people() -> None:
    assert minutes(1.0) == "1 minute"
    assert minutes(15.0) == "15 minutes"
    assert minutes(0.5) == "0.5 minutes"
