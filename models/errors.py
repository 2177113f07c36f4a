"""The one exception type for mistakes a user can fix (bad names, files, paths)."""


class UserError(Exception):
    """A user mistake: the CLI prints its message on one line and exits non-zero."""
