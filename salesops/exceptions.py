"""One exception family: every error salesops raises on purpose derives from `SalesOpsError`."""

from __future__ import annotations


class SalesOpsError(Exception):
    """Base of every error salesops raises on purpose. `exit_code` is what the CLI returns."""

    exit_code = 1


class ParameterError(SalesOpsError):
    """Parameters are wrong: a params file, a CLI flag or a notebook's parameters cell."""

    exit_code = 2


class DataError(SalesOpsError):
    """Input data breaks the data contract. `findings` holds one entry per problem.

    Args:
        message: What is wrong, for people.
        findings: One entry per problem found (kept as a list in `findings`); none by default.
    """

    exit_code = 2

    def __init__(self, message: str, findings: list | None = None):
        super().__init__(message)
        self.findings = list(findings or [])


class StepError(SalesOpsError):
    """A step's notebook failed: names the step, the cell and the cause.

    Args:
        step: The name of the step that failed.
        notebook: The notebook the step ran.
        cell: The number of the code cell that failed, or None when no cell ran.
        cause: What went wrong, as text.
    """

    exit_code = 1

    def __init__(self, step: str, notebook: str, cell: int | None, cause: str):
        where = f"cell {cell}" if cell is not None else "before any cell ran"
        super().__init__(f"step {step} failed in {notebook}, {where}: {cause}")
        self.step, self.notebook, self.cell, self.cause = step, notebook, cell, cause


class UpstreamError(SalesOpsError):
    """A step read a product of a step it does not declare upstream (salesops/steps.py)."""

    exit_code = 1


class RenderError(SalesOpsError):
    """An executed notebook could not be rendered to HTML or PDF."""

    exit_code = 1


class DocsError(SalesOpsError):
    """The documentation site could not be built, or it has broken links or missing pages."""

    exit_code = 1


class LockError(SalesOpsError):
    """Another run of the same period holds the lock."""

    exit_code = 2


class PlanError(SalesOpsError):
    """A plan cannot be made or changed: infeasible inputs, or an approved plan of record exists."""

    exit_code = 1


class AlertError(SalesOpsError):
    """Alerts fired and the run was asked to fail on them (`--fail-on-alert`)."""

    exit_code = 3


class StepTimeoutError(StepError):
    """A notebook cell or a whole step ran longer than `execution.cell_timeout_s`/`step_timeout_s`.

    Args:
        step: The name of the step that timed out.
        notebook: The notebook the step ran.
        cell: The number of the code cell that was running, or None when no cell ran.
        cause: What timed out, as text.
    """

    exit_code = 1


class OutputFolderError(SalesOpsError):
    """The output folder (or a folder in it) cannot be written: names the folder and the permission."""

    exit_code = 2


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGINT reached a run.

    Deliberately not a `SalesOpsError` (nor an `Exception`): it must pass through every
    `except Exception` so the run unwinds, stopping its kernels, moving its build folder to
    `OUT/.failed/` and releasing its lock. `exit_code` is 128 + the signal number.

    Args:
        signum: The number of the signal received (`signal.SIGTERM`, `signal.SIGINT`).
    """

    def __init__(self, signum: int):
        import signal

        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum
        self.exit_code = 128 + signum
