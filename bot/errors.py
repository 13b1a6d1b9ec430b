"""The exception tree, and which errors carry a message fit to print.

BotError                 anything this package raises on purpose
├── ConfigError         config.yaml or the environment is wrong: every problem, by key path
├── ContentError        content/ is wrong: every problem, by file, entry and field
└── StoreError          the database cannot be used right now (locked, full, corrupt)
"""

from __future__ import annotations


class BotError(Exception):
    """Base of every error this package raises on purpose."""


class _ProblemList(BotError):
    """An error that carries every problem found, so one run shows them all."""

    heading = "problems"

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"{len(self.problems)} {self.heading}:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class ConfigError(_ProblemList):
    """The configuration is invalid; `problems` name each key path."""

    heading = "configuration problem(s)"


class ContentError(_ProblemList):
    """The content is invalid; `problems` name each file, entry and field."""

    heading = "content problem(s)"


class StoreError(BotError):
    """The database could not be used; the message says why, with no personal data."""
