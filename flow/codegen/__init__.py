"""Code generation: rendering checked templates and stitching HW layers into designs."""
