#!/usr/bin/python3
"""Makes the golden .npy files of package npy's tests with NumPy.

Run from this directory: /usr/bin/python3 gen.py (NumPy 1.24 wrote the
committed files). The values are small and exact so that the Go tests can
state them literally.
"""
import numpy as np

base = np.array([[-1.5, 0.0, 2.25], [3.0, -4.0, 65504.0]])


def save(name, a, version=None):
    if version is None:
        np.save(name, a)
    else:
        with open(name, "wb") as f:
            np.lib.format.write_array(f, a, version=version)


save("f4_2x3.npy", base.astype("<f4"))
save("f8_2x3.npy", base.astype("<f8"))
save("f2_2x3.npy", base.astype("<f2"))
save("f4be_2x3.npy", base.astype(">f4"))
ints = np.array([[-3, -2, -1], [0, 1, 127]])
for t in ["<i8", "<i4", "<i2", "|i1"]:
    save("%s_2x3.npy" % t[1:], ints.astype(t))
save("i8be_2x3.npy", ints.astype(">i8"))
uints = np.array([[0, 1, 2], [3, 200, 255]])
for t in ["|u1", "<u2", "<u4", "<u8"]:
    save("%s_2x3.npy" % t[1:], uints.astype(t))
save("b1_2x3.npy", np.array([[True, False, True], [False, False, True]]))
save("f4_scalar.npy", np.float32(7.5))
save("f4_empty.npy", np.zeros((0, 3), dtype="<f4"))
save("f4_vec.npy", np.arange(5, dtype="<f4"))
save("f4_4d.npy", np.arange(24, dtype="<f4").reshape(1, 2, 3, 4))
# Special half values: max, min normal, min subnormal, inf, -inf, -0.
save("f2_special.npy", np.array([65504, 2.0**-14, 2.0**-24, np.inf, -np.inf, -0.0], dtype="<f2"))
save("f4_v2.npy", base.astype("<f4"), version=(2, 0))
save("f4_v3.npy", base.astype("<f4"), version=(3, 0))
save("f4_fortran.npy", np.asfortranarray(base.astype("<f4")))
save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
save("unicode.npy", np.array(["ab", "c"]))
save("c8.npy", np.zeros(2, dtype="<c8"))
