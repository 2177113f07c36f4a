"""Fixtures shared by the model tests."""
import pytest

import signflow.cli


@pytest.fixture
def cli(capsys):
    """Run ``signflow ARGV`` in-process; return ``(exit code, stdout, stderr)``."""
    def call(*argv):
        capsys.readouterr()
        code = signflow.cli.main([str(arg) for arg in argv])
        out, err = capsys.readouterr()
        return code, out, err
    return call
