"""Settings for tests by field name: each value goes to the part that defines it (the ``[poll]`` intervals, the
scheduler's own, the service's), so a test names only what it changes."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from duvo_tui.intervals import PollSettings
from duvo_tui.service.scheduler import SchedulerSettings
from duvo_tui.service.service import ServiceSettings


def _names(cls: type) -> set[str]:
    return {f.name for f in fields(cls)}


def scheduler_settings(**values: Any) -> SchedulerSettings:
    poll = {k: values.pop(k) for k in list(values) if k in _names(PollSettings)}
    unknown = set(values) - _names(SchedulerSettings)
    if unknown:
        raise TypeError(f"no such setting: {', '.join(sorted(unknown))}")
    return SchedulerSettings(poll=PollSettings(**poll), **values)


def service_settings(**values: Any) -> ServiceSettings:
    own = {k: values.pop(k) for k in list(values) if k in _names(ServiceSettings)}
    return ServiceSettings(schedule=scheduler_settings(**values), **own)
