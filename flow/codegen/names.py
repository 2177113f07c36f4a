"""Names from user models made safe for Verilog, C++ and TCL identifiers."""
import re

#: words no generated identifier may equal (SystemVerilog, C++ and TCL keywords we could collide with)
RESERVED = {
    "always", "assign", "begin", "case", "class", "default", "do", "else", "end", "for", "function", "if",
    "initial", "input", "int", "logic", "module", "output", "reg", "return", "static", "struct", "switch",
    "task", "void", "while", "wire", "const", "auto", "char", "float", "double", "long", "short", "new",
    "delete", "template", "typename", "namespace", "proc", "set", "puts", "expr", "string", "bit", "byte",
}


def sanitize(name, used=None):
    """``[A-Za-z_][A-Za-z0-9_]*``, not reserved, unique within ``used`` (which it updates)."""
    clean = re.sub(r"[^A-Za-z0-9_]", "_", str(name)).strip("_") or "node"
    clean = re.sub(r"__+", "_", clean)
    if clean[0].isdigit():
        clean = "n_" + clean
    if clean.lower() in RESERVED:
        clean += "_"
    clean = clean[:60]
    if used is not None:
        base, index = clean, 1
        while clean in used:
            clean = f"{base}_{index}"
            index += 1
        used.add(clean)
    return clean
