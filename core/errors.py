"""The exception hierarchy. Every message is one line that says what and where.

EktError            anything the user can fix: the CLI prints it and exits 1, the TUI notifies
├── ConfigError     ekt.toml is missing, unreadable or invalid (names file, field, value)
├── StoreError      the project database cannot be opened or migrated
├── DatasetError    a source file or row cannot be imported (names file and line)
├── PromptError     a template is broken or names an unknown placeholder
├── TeacherError    the teacher endpoint or model cannot be used
├── VerifyError     the sandbox itself failed (not a candidate's fault)
├── TrainError      a training run cannot start or resume
└── EvalError       an evaluation cannot run
"""

from __future__ import annotations


class EktError(Exception):
    """Base of every user-facing error; str(exc) is the one-line message."""


class ConfigError(EktError):
    pass


class StoreError(EktError):
    pass


class DatasetError(EktError):
    pass


class PromptError(EktError):
    pass


class ModelError(EktError):
    pass


class TeacherError(EktError):
    pass


class VerifyError(EktError):
    pass


class TrainError(EktError):
    pass


class EvalError(EktError):
    pass
