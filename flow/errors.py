"""The one exception type for mistakes a user can fix (bad names, files, paths)."""


class UserError(Exception):
    """A user mistake: the CLI prints its message on one line and exits non-zero."""


class StepSkipped(Exception):
    """A build step that cannot run on this machine (a vendor tool is missing); the build goes on and the
    message, one line saying how to run the step elsewhere, is shown and recorded."""
