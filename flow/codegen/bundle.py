"""deploy.zip: what a board needs to run the accelerator (bitstream, hardware handoff, driver, io.json)."""
import json
import zipfile
from pathlib import Path

from signflow.errors import StepSkipped, UserError
from signflow.files import atomic_path

CONTENTS = ("signflow_driver.py", "io.json")


def package(out_dir):
    """Zip ``out_dir/deploy`` into ``out_dir/deploy.zip``; returns the ``package`` section of report.json."""
    out_dir = Path(out_dir)
    deploy = out_dir / "deploy"
    if not (deploy / "io.json").is_file():
        raise UserError(f"no {deploy / 'io.json'}: run the driver step first")
    bitfile = json.loads((deploy / "io.json").read_text())["bitfile"]
    names = [bitfile, Path(bitfile).with_suffix(".hwh").name, *CONTENTS]
    missing = [name for name in names if not (deploy / name).is_file()]
    if missing:
        raise StepSkipped(f"no {', '.join(missing)} in {deploy} yet, so package was skipped; run the bitstream "
                          "step with Vivado first (the driver and io.json are in place)")
    target = out_dir / "deploy.zip"
    with atomic_path(target) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in names:
                archive.write(deploy / name, f"deploy/{name}")
    return {"archive": target.name, "files": names, "bytes": target.stat().st_size}
