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
