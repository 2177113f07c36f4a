"""signflow's qonnx CustomOps; qonnx finds them through this module's ``custom_op`` dict."""
from flow.ops.dynamic_threshold import DynamicThreshold
from flow.ops.label_select import LabelSelect
from flow.ops.maxpool import StreamingMaxPool
from flow.ops.mvau import MVAU
from flow.ops.sliding_window import SlidingWindow
from flow.ops.threshold import PixelThreshold

custom_op = {
    # the max-pool's name before it took integers too: graphs saved with it still load
    "BinaryMaxPool": StreamingMaxPool,
    "DynamicThreshold": DynamicThreshold,
    "LabelSelect": LabelSelect,
    "MVAU": MVAU,
    "PixelThreshold": PixelThreshold,
    "SlidingWindow": SlidingWindow,
    "StreamingMaxPool": StreamingMaxPool,
}
