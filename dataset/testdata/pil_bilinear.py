# Writes pil_bilinear.json: PIL's bilinear resize of small float images,
# the reference of TestResizeMatchesPIL. Run with a Python that has Pillow
# and NumPy: python3 pil_bilinear.py > pil_bilinear.json
import json

import numpy as np
from PIL import Image

SRC = [(7, 5), (5, 7), (16, 3), (3, 1), (40, 30)]
DST = [(3, 2), (10, 11), (7, 5), (2, 9), (1, 1), (28, 28)]

cases = []
for sw, sh in SRC:
    y, x = np.mgrid[0:sh, 0:sw]
    src = ((x * 37 + y * 101) % 256).astype(np.float32)
    img = Image.fromarray(src, mode="F")
    for w, h in DST:
        for mode in ("stretch", "crop"):
            box = (0.0, 0.0, float(sw), float(sh))
            if mode == "crop":
                s = max(w / sw, h / sh)
                bw, bh = w / s, h / s
                x0, y0 = (sw - bw) / 2, (sh - bh) / 2
                box = (max(x0, 0.0), max(y0, 0.0), min(x0 + bw, float(sw)), min(y0 + bh, float(sh)))
            out = np.asarray(img.resize((w, h), Image.BILINEAR, box=box), dtype=np.float32)
            cases.append({"sw": sw, "sh": sh, "w": w, "h": h, "mode": mode,
                          "out": [float("%.7g" % v) for v in out.ravel()]})
print(json.dumps({"pillow": Image.__version__, "cases": cases}, separators=(",", ":")))
