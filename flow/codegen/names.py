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


#: a generated identifier (what ``sanitize`` returns): a Verilog module, C++ function or TCL word as is
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: a generated file name inside a build folder: no folder part, nothing a shell or TCL would interpret
FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
#: TCL words that need no quoting (braces are added anyway)
_TCL_PLAIN = re.compile(r"[A-Za-z0-9_.:/+=,@-]*")


def check_identifier(value, what):
    """``value`` if it is an identifier ``sanitize`` could have made; else a UserError naming ``what``."""
    from signflow.errors import UserError

    if not isinstance(value, str) or not IDENTIFIER.fullmatch(value) or len(value) > 64:
        raise UserError(f"{what} must be an identifier [A-Za-z_][A-Za-z0-9_]* (at most 64 characters), not {value!r:.80}")
    return value


def check_file_name(value, what):
    """``value`` if it is a plain file name (no folder, no '..', no special characters); else a UserError."""
    from signflow.errors import UserError

    if (not isinstance(value, str) or not FILE_NAME.fullmatch(value) or ".." in value or len(value) > 128):
        raise UserError(f"{what} must be a plain file name [A-Za-z0-9_.-] without folders, not {value!r:.80}")
    return value


def tcl_word(value):
    """``value`` as one TCL word that TCL reads back unchanged: in braces when it holds only harmless
    characters, else in double quotes with every special character backslash-escaped."""
    text = str(value)
    if _TCL_PLAIN.fullmatch(text):
        return "{" + text + "}"
    out = []
    for char in text:
        if char in '\\$[]"{};#':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif ord(char) < 0x20 or ord(char) == 0x7f:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) > 0x7e:
            out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xffff else f"\\U{ord(char):08x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def tcl_list(values):
    """A TCL list of ``values`` (each one word)."""
    return " ".join(tcl_word(v) for v in values)


def comment_text(value):
    """``value`` safe inside a one-line comment of TCL, C++ or Verilog: printable ASCII, no backslash (a line
    continuation), no '?' (trigraphs), no comment terminators; anything else becomes '_'."""
    text = re.sub(r"[^A-Za-z0-9_ .:,()+=@<>-]", "_", " ".join(str(value).split()))
    return text[:120]
