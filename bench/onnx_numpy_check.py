"""Check an exported ONNX model with the onnx package and run it with numpy.

Usage: onnx_numpy_check.py MODEL.onnx MNIST_DIR PREDICTIONS.txt

Runs onnx.checker.check_model(full_check=True), then evaluates the graph on
the 10,000 MNIST test images with a small numpy interpreter (Flatten, Gemm,
MatMul, Add, Relu, Identity, Softmax, Dropout) and compares its argmax with
deepcompress's predictions (one class per line).
"""
import gzip
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def idx(path):
    for p in (path, path + ".gz"):
        if os.path.exists(p):
            data = (gzip.open if p.endswith(".gz") else open)(p, "rb").read()
            nd = data[3]
            dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
            return np.frombuffer(data, np.uint8, offset=4 + 4 * nd).reshape(dims)
    raise SystemExit(f"missing {path}")


def run(model, x):
    env = {model.graph.input[0].name: x}
    env.update({t.name: numpy_helper.to_array(t) for t in model.graph.initializer})
    for n in model.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
        i = [env[k] if k else None for k in n.input]
        if n.op_type == "Flatten":
            ax = a.get("axis", 1)
            y = i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)
        elif n.op_type == "Gemm":
            A = i[0].T if a.get("transA", 0) else i[0]
            B = i[1].T if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(i) > 2 and i[2] is not None:
                y = y + a.get("beta", 1.0) * i[2]
        elif n.op_type == "MatMul":
            y = i[0] @ i[1]
        elif n.op_type == "Add":
            y = i[0] + i[1]
        elif n.op_type == "Relu":
            y = np.maximum(i[0], 0)
        elif n.op_type in ("Identity", "Dropout"):
            y = i[0]
        elif n.op_type == "Softmax":
            e = np.exp(i[0] - i[0].max(axis=-1, keepdims=True))
            y = e / e.sum(axis=-1, keepdims=True)
        elif n.op_type == "Constant":
            y = numpy_helper.to_array(a["value"])
        else:
            raise SystemExit(f"numpy interpreter: op {n.op_type} not supported here")
        env[n.output[0]] = y.astype(np.float32)
    return env[model.graph.output[0].name]


def main():
    path, d, preds = sys.argv[1:4]
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    print(f"onnx.checker.check_model(full_check=True): ok (onnx {onnx.__version__})")
    x = idx(os.path.join(d, "t10k-images-idx3-ubyte")).astype(np.float32) / np.float32(255)
    x = ((x - np.float32(0.1307)) / np.float32(0.3081)).reshape(-1, 1, 28, 28).astype(np.float32)
    y = idx(os.path.join(d, "t10k-labels-idx1-ubyte"))
    logits = run(model, x)
    ours = np.array([int(l) for l in open(preds)])
    theirs = logits.argmax(axis=1)
    same = int((ours == theirs).sum())
    print(f"numpy interpreter: {int((theirs == y).sum())}/10000 correct; same class as deepcompress on {same}/10000 images")
    if same != len(y):
        raise SystemExit("predictions differ")


if __name__ == "__main__":
    main()
