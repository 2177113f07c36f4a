"""signflow's qonnx CustomOps; qonnx finds them through this module's ``custom_op`` dict."""
from signflow.ops.dynamic_threshold import DynamicThreshold
from signflow.ops.label_select import LabelSelect
from signflow.ops.maxpool import StreamingMaxPool
from signflow.ops.mvau import MVAU
from signflow.ops.sliding_window import SlidingWindow
from signflow.ops.stream import StreamingDataWidthConverter, StreamingFIFO
from signflow.ops.threshold import PixelThreshold

custom_op = {
    # the max-pool's name before it took integers too: graphs saved with it still load
    "BinaryMaxPool": StreamingMaxPool,
    "DynamicThreshold": DynamicThreshold,
    "LabelSelect": LabelSelect,
    "MVAU": MVAU,
    "PixelThreshold": PixelThreshold,
    "SlidingWindow": SlidingWindow,
    "StreamingDataWidthConverter": StreamingDataWidthConverter,
    "StreamingFIFO": StreamingFIFO,
    "StreamingMaxPool": StreamingMaxPool,
}
