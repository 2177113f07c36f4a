"""Graph transformations: each a small qonnx Transformation, in build order streamline -> to_hw -> tidy."""
