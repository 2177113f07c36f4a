"""Where the hardware templates are: the package data of ``signflow.hw_templates`` (``hw_templates/`` in a
checkout), found through importlib.resources so that a wheel install finds them too."""
from importlib import resources
from pathlib import Path


def template_path(*parts):
    """A template file or folder as a filesystem path: Verilator, g++ and Yosys read the files directly."""
    root = resources.files("signflow.hw_templates")
    if not isinstance(root, Path):  # e.g. imported from a zip archive
        raise RuntimeError(f"signflow's templates are not on the filesystem ({root}); install signflow unpacked")
    return root.joinpath(*parts)
