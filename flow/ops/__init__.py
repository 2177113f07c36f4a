"""signflow's qonnx CustomOps; qonnx finds them through this module's ``custom_op`` dict."""
from flow.ops.dynamic_threshold import DynamicThreshold
from flow.ops.threshold import PixelThreshold

custom_op = {
    "PixelThreshold": PixelThreshold,
    "DynamicThreshold": DynamicThreshold,
}
