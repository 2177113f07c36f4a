"""Bit-level stream and memory layout shared by codegen, simulation and tests.

Lane packing (ARCHITECTURE section 4): element ``i`` of a word occupies bits
``[i*bw, (i+1)*bw)``, lane 0 at the LSB; signed elements are two's complement.
"""
import numpy as np


def pack(values, bw):
    """Pack integers (lane 0 first) into one Python int word of ``len(values) * bw`` bits."""
    word, mask = 0, (1 << bw) - 1
    for i, value in enumerate(np.asarray(values).reshape(-1).tolist()):
        word |= (int(value) & mask) << (i * bw)
    return word


def unpack(word, count, bw, signed=False):
    """Inverse of ``pack``: ``count`` lanes of ``bw`` bits as a numpy int64 array."""
    mask = (1 << bw) - 1
    lanes = np.array([(int(word) >> (i * bw)) & mask for i in range(count)], dtype=np.int64)
    if signed:
        lanes = np.where(lanes >= 1 << (bw - 1), lanes - (1 << bw), lanes)
    return lanes


def pack_words(values, lanes, bw):
    """A flat sequence of elements -> words of ``lanes`` elements each."""
    values = np.asarray(values).reshape(-1, lanes)
    return [pack(row, bw) for row in values]


def write_memh(path, words, width):
    """A ``$readmemh`` file: one word per line, ``ceil(width/4)`` hex digits."""
    digits = max(1, (width + 3) // 4)
    with open(path, "w") as handle:
        for word in words:
            handle.write(f"{int(word) & ((1 << width) - 1):0{digits}x}\n")


def mvau_weight_words(weight_bits, pe, simd):
    """MVAU weight memory: address ``nf * SF + sf``; lane ``p*SIMD + s`` holds ``w[sf*SIMD + s, nf*PE + p]``."""
    mw, mh = weight_bits.shape
    sf_count, nf_count = mw // simd, mh // pe
    # [MW, MH] -> [NF, SF, PE, SIMD]
    tiles = weight_bits.reshape(sf_count, simd, nf_count, pe).transpose(2, 0, 3, 1)
    return pack_words(tiles.astype(np.int64), pe * simd, 1)


def mvau_threshold_words(thresholds, pe, bits):
    """Threshold memory: address ``nf * P + phase``; lane ``p`` holds ``thr[nf*PE + p, phase]`` (signed)."""
    mh, phases = thresholds.shape
    tiles = thresholds.reshape(mh // pe, pe, phases).transpose(0, 2, 1)  # NF, P, PE
    return pack_words(tiles.astype(np.int64), pe, bits)


def dynamic_threshold_memories(w1, w2, thr, direction, pe, w_bits, acc_bits):
    """The four ``$readmemh`` memories of ``hw_templates/rtl/dynamic_threshold.sv``: ``{stem: (words, width)}``.

    With ``G = C / pe`` channel groups and ``CODES = thr.shape[1]``:

    - ``w1``: ``HID*G`` words of ``pe*w_bits``; address ``j*G + g``, lane ``p`` = ``w1[g*pe + p, j]`` (signed).
    - ``w2``: ``HID*G`` words of ``pe*w_bits``; address ``j*G + g``, lane ``p`` = ``w2[j, g*pe + p]`` (signed).
    - ``thr``: ``G*CODES`` words of ``pe*(acc_bits+1)``; address ``g*CODES + k``, lane ``p`` = ``T[g*pe + p, k]``
      (signed), where ``T = thr`` for direction +1 and ``T = 1 - thr`` for direction -1 (``-a >= t`` is
      ``not a >= 1 - t``), clipped to ``[-2^(acc_bits-1), 2^(acc_bits-1)]``: every signed ``acc_bits``
      accumulator compares the same against the clipped value.
    - ``dir``: ``G`` words of ``pe`` bits; address ``g``, bit ``p`` = 1 where ``direction[g*pe + p] < 0``.

    The unit outputs ``(acc >= T) xor dir_bit``, which equals ``direction * acc >= thr``. Stem ``x`` is the
    file of the RTL parameter ``X_FILE`` (``w1`` -> ``W1_FILE``, ..., ``dir`` -> ``DIR_FILE``).
    """
    w1, w2 = np.asarray(w1).astype(np.int64), np.asarray(w2).astype(np.int64)
    thr, direction = np.asarray(thr).astype(np.int64), np.asarray(direction).astype(np.int64).reshape(-1)
    channels, hidden = w1.shape
    if w2.shape != (hidden, channels) or thr.shape[0] != channels or direction.shape != (channels,):
        raise ValueError(f"shapes do not match: w1 {w1.shape}, w2 {w2.shape}, thr {thr.shape}, direction {direction.shape}")
    if channels % pe:
        raise ValueError(f"PE={pe} does not divide C={channels}")
    if not np.all(np.abs(direction) == 1):
        raise ValueError("direction must be +1 or -1")
    low, high = -(1 << (w_bits - 1)), (1 << (w_bits - 1)) - 1
    for name, weights in (("w1", w1), ("w2", w2)):
        if weights.size and (weights.min() < low or weights.max() > high):
            raise ValueError(f"{name} does not fit {w_bits} signed bits")
    groups, codes = channels // pe, thr.shape[1]
    # [C, HID] -> [HID, G, PE] and [HID, C] -> [HID, G, PE]: address j*G + g, lane p
    w1_words = pack_words(w1.T.reshape(hidden, groups, pe), pe, w_bits)
    w2_words = pack_words(w2.reshape(hidden, groups, pe), pe, w_bits)
    folded = np.where(direction[:, None] > 0, thr, 1 - thr)
    folded = np.clip(folded, -(1 << (acc_bits - 1)), 1 << (acc_bits - 1))
    # [C, CODES] -> [G, CODES, PE]: address g*CODES + k, lane p
    thr_words = pack_words(folded.reshape(groups, pe, codes).transpose(0, 2, 1), pe, acc_bits + 1)
    dir_words = pack_words((direction < 0).astype(np.int64).reshape(groups, pe), pe, 1)
    return {"w1": (w1_words, pe * w_bits), "w2": (w2_words, pe * w_bits),
            "thr": (thr_words, pe * (acc_bits + 1)), "dir": (dir_words, pe)}
