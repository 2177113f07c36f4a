"""Running QONNX graphs with qonnx's reference executor (the ground truth the flow checks against)."""
import numpy as np


def run_graph(model, x, full=False):
    """Execute a QONNX ModelWrapper on a batch with qonnx's reference executor, one sample at a time; the
    output (or every tensor with a batch dimension when ``full``)."""
    from qonnx.core.onnx_exec import execute_onnx

    name_in, name_out = model.graph.input[0].name, model.graph.output[0].name
    results = [execute_onnx(model, {name_in: x[i:i + 1]}, return_full_exec_context=full) for i in range(len(x))]
    if not full:
        return np.concatenate([r[name_out] for r in results])
    return {k: np.concatenate([r[k] for r in results]) for k in results[0] if np.ndim(results[0][k]) > 0}


def run_qonnx(path, x):
    """Execute a QONNX file on a batch (``run_graph`` after cleanup, which infers the shapes execute_onnx
    needs and does not change the math)."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    return run_graph(cleanup_model(ModelWrapper(str(path))), x)
