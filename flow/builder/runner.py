"""The build runner: the selected steps in order, each thing done once.

Graph steps are checkpointed to ``intermediate/`` and checked bit-exact against the tidied graph, whose
outputs on the check inputs are computed once per build; artifact steps only write files and report
figures. ``report.json`` is rewritten whole after every step and is what later steps read figures from.
"""
import contextlib
import dataclasses
import json
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from signflow.boards import get_board
from signflow.builder.steps import NEEDS, STEP_NAMES, STEPS, write_json
from signflow.errors import StepSkipped, UserError
from signflow.files import atomic_path, file_sha256, inside, prepare_dir, refuse_foreign_folder
from signflow.graph import load_graph


@dataclass
class BuildContext:
    """What a step sees besides the graph: the config, the output folder and the figures reported so far."""
    cfg: object  # BuildConfig
    out: Path
    figures: dict
    #: tells the progress display what a long step is doing now
    stage: object = lambda text: None

    def path(self, name):
        """``name`` inside the output folder (refusing names that would leave it)."""
        return inside(self.out, name)

    def random_inputs(self, model, count=None):
        """``count`` (default: the config's verify_samples) inputs, uniform on [input_low, input_high]."""
        cfg = self.cfg
        shape = [count or cfg.verify_samples] + list(model.get_tensor_shape(model.graph.input[0].name))[1:]
        return np.random.default_rng(cfg.seed).uniform(cfg.input_low, cfg.input_high, shape).astype(np.float32)


class Report:
    """``report.json``: rewritten whole after every step, so it is never half-written."""

    def __init__(self, path, resume):
        self.path = path
        self.doc = json.loads(path.read_text()) if resume and path.is_file() else {"steps": []}

    def step(self, name, seconds, status, **figures):
        self.doc["steps"] = [s for s in self.doc["steps"] if s["name"] != name]
        self.doc["steps"].append({"name": name, "seconds": round(seconds, 3), "status": status})
        self.doc.update(figures)
        self.save()

    def save(self):
        write_json(self.path, self.doc)


def load_onnx(path):
    """A ModelWrapper of ``path``, or a one-line error for a missing, truncated or non-ONNX file."""
    import onnx

    path = Path(path)
    if not path.is_file():
        raise UserError(f"model file {path} does not exist")
    try:
        proto = onnx.load(str(path))
        onnx.checker.check_model(proto)
    except Exception as err:  # onnx raises DecodeError, ValidationError, ...
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"{path} is not a valid ONNX model ({reason}); export one with 'signflow export'")
    constants = {init.name for init in proto.graph.initializer}
    if len([i for i in proto.graph.input if i.name not in constants]) != 1 or len(proto.graph.output) != 1:
        raise UserError(f"{path}: signflow builds graphs with one input and one output")
    return load_graph(proto)


#: what each board family's route is, for the notes of the steps another family's boards skip
ROUTES = {"zynq": "Vivado route of Zynq boards", "ecp5": "open route of ECP5 boards (pnr, bitstream)"}


def selected_steps(cfg, done=(), recorded=()):
    """The steps to run, in build order. ``--steps`` must list them in build order, and each step's ``NEEDS``
    must run before it, or be in ``done`` (the steps a resumed build has already run); ``recorded``, the steps
    the folder's report records, only makes the refusal point at ``--from-step``."""
    names = cfg.steps or STEP_NAMES
    unknown = [n for n in names if n not in STEP_NAMES]
    if unknown:
        raise UserError(f"unknown steps {unknown}; steps are {', '.join(STEP_NAMES)}")
    for first, second in zip(names, names[1:]):
        if STEP_NAMES.index(second) <= STEP_NAMES.index(first):
            raise UserError(f"--steps lists '{second}' after '{first}'; give each step once, in build order "
                            f"({', '.join(STEP_NAMES)})")
    if cfg.from_step is not None:
        if cfg.from_step not in names:
            raise UserError(f"--from-step '{cfg.from_step}' is not one of the steps {', '.join(names)}")
        names = names[names.index(cfg.from_step):]
    family = get_board(cfg.board).family
    ran = set(done)
    for name in names:
        need = NEEDS.get(name)
        need = need.get(family) if isinstance(need, dict) else need
        if STEPS[STEP_NAMES.index(name)].family not in (None, family):
            continue  # skipped on this board: needs nothing
        if need is not None and need not in ran:
            resume = (f", or resume the build in {cfg.output_dir}, which ran it, with --from-step {names[0]}"
                      if need in recorded and not done else "")
            raise UserError(f"step '{name}' needs the output of '{need}', which this build does not run or has "
                            f"not run; add '{need}' to --steps (or leave --steps out to run every step){resume}")
        ran.add(name)
    return [s for s in STEPS if s.name in names]


def intermediate_path(out, name):
    """Where graph step ``name`` saves its graph."""
    return Path(out) / "intermediate" / f"{STEP_NAMES.index(name):02d}_{name}.onnx"


def latest_graph(out, before=None):
    """The path of the graph saved by the latest graph step (before step ``before``), or None."""
    names = STEP_NAMES if before is None else STEP_NAMES[:STEP_NAMES.index(before)]
    saved = [intermediate_path(out, s.name) for s in STEPS if s.graph and s.name in names]
    saved = [path for path in saved if path.is_file()]
    return saved[-1] if saved else None


def model_digest(path):
    """SHA-256 of the model file: what report.json records a build was made from."""
    return file_sha256(path)


def stale_outputs(out, first_step, keep=()):
    """What ``first_step`` and every later step write and ``out`` holds (their results would no longer follow
    from the graph), except the paths in ``keep`` (the build's own inputs, e.g. a folding file in the folder).
    Every output path is checked to stay inside ``out`` first, so a refusal removes nothing."""
    keep = {Path(k).resolve() for k in keep if k}
    later = STEPS[[s.name for s in STEPS].index(first_step):]
    paths = [inside(out, name) for step in later
             for name in list(step.outputs) + ([intermediate_path(out, step.name).relative_to(out)] if step.graph else [])]
    return [path for path in paths if path.exists() and path not in keep and not any(path in k.parents for k in keep)]


def remove(paths):
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def resumed_graph(cfg):
    """The graph a build resumed at ``cfg.from_step`` starts from: the one its previous graph step saved."""
    source = latest_graph(cfg.output_dir, before=cfg.from_step)
    if source is None:
        raise UserError(f"cannot resume from '{cfg.from_step}': no earlier step's graph in "
                        f"{Path(cfg.output_dir) / 'intermediate'}; run the build from the start")
    return load_graph(source)


def _recorded_steps(out):
    """The steps report.json in ``out`` records as done (or skipped for a missing tool)."""
    report = out / "report.json"
    try:
        doc = json.loads(report.read_text()) if report.is_file() else {}
    except ValueError:
        return ()
    steps = doc.get("steps") if isinstance(doc, dict) else None
    return tuple(s.get("name") for s in steps or () if isinstance(s, dict) and s.get("status") in ("done", "skipped"))


def check_same_model(out, model_path, from_step):
    """A resumed build must continue the build of the same model file."""
    report = out / "report.json"
    recorded = json.loads(report.read_text()).get("source", {}) if report.is_file() else {}
    if not recorded.get("sha256"):
        raise UserError(f"cannot resume from '{from_step}': {report} does not record which model {out} was built "
                        "from; run the build without --from-step")
    if model_path is not None and Path(model_path).is_file() and model_digest(model_path) != recorded["sha256"]:
        raise UserError(f"cannot resume from '{from_step}': {out} was built from another model "
                        f"({recorded.get('model')}); run the build of {model_path} without --from-step")


@contextlib.contextmanager
def seeded_names(step_name):
    """qonnx names new tensors with Python's ``random`` (``make_new_valueinfo_name``): seeded per step, the same
    graph gets the same names in any folder and after any resume; the caller's random state is restored."""
    state = random.getstate()
    random.seed(f"signflow:{step_name}")
    try:
        yield
    finally:
        random.setstate(state)


def run_build(model_path, cfg):
    """Run the configured steps on ``model_path``; returns the final ModelWrapper."""
    from signflow.progress import StepProgress
    from signflow.sim.compare import check_equal
    from signflow.sim.reference import run_graph

    cfg.check()
    # --from-step X resumes unless X is the first step of all (also when --steps starts at X)
    resumed = cfg.from_step is not None and cfg.from_step != STEP_NAMES[0]
    if resumed:
        check_same_model(Path(cfg.output_dir), model_path, cfg.from_step)
    recorded = _recorded_steps(Path(cfg.output_dir))
    steps = selected_steps(cfg, done=recorded if resumed else (), recorded=recorded)
    model = resumed_graph(cfg) if resumed else load_onnx(model_path)
    refuse_foreign_folder(cfg.output_dir, "report.json", "output folder", keep=[model_path, cfg.folding_file])
    stale = stale_outputs(cfg.output_dir, steps[0].name, keep=[model_path, cfg.folding_file])  # checks every path
    out = prepare_dir(cfg.output_dir)
    prepare_dir(out / "intermediate")
    needs_check = cfg.verify and any(s.graph for s in steps)
    reference = load_graph(intermediate_path(out, "tidy")) if resumed and needs_check else None
    remove(stale)
    report = Report(out / "report.json", resume=resumed)
    if not resumed:
        report.doc["source"] = {"model": str(Path(model_path).resolve()), "sha256": model_digest(model_path)}
    report.doc.update(status="running", config=dataclasses.asdict(cfg))
    report.doc.pop("error", None)
    report.save()
    ctx = BuildContext(cfg, out, report.doc)
    family = get_board(cfg.board).family
    x = expected = None
    with StepProgress([s.name for s in steps], quiet=cfg.quiet) as progress:
        ctx.stage = progress.stage
        for step in steps:
            progress.start(step.name)
            start = time.perf_counter()
            try:
                if step.family not in (None, family):
                    raise StepSkipped(f"{step.name} belongs to the {ROUTES[step.family]}; board '{cfg.board}' is "
                                      f"built by the {ROUTES[family]}")
                with seeded_names(step.name):
                    result = step.run(model, ctx)
                if step.graph:
                    model = result
                    if step.name == "tidy":
                        reference = model
                    if needs_check and step.name != "tidy":
                        if expected is None:  # the reference's outputs, once per build
                            x = ctx.random_inputs(reference)
                            expected = run_graph(reference, x)
                        check_equal(reference, model, x, step.name, expected=expected)
            except StepSkipped as skip:  # a missing vendor tool: say so and go on
                report.doc.setdefault("notes", {})[step.name] = str(skip)
                report.step(step.name, time.perf_counter() - start, "skipped")
                progress.done(step.name, skipped=str(skip))
                continue
            except BaseException as err:
                report.doc["status"] = "failed"
                report.doc["error"] = str(err).splitlines()[0] if str(err) else type(err).__name__
                report.step(step.name, time.perf_counter() - start, "failed")
                progress.done(step.name, failed=True)
                raise
            if step.graph:
                with atomic_path(intermediate_path(out, step.name)) as tmp:
                    model.save(str(tmp))
            report.step(step.name, time.perf_counter() - start, "done", **({} if step.graph else result or {}))
            progress.done(step.name)
    report.doc["status"] = "complete"
    report.doc.pop("error", None)
    report.save()
    return model
