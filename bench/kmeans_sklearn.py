#!/usr/bin/python3
"""Time scikit-learn's KMeans on raw float32 values for bench/kmeans.

Usage: kmeans_sklearn.py DATA.f32 INIT.f32 REPEATS

DATA.f32 holds the values and INIT.f32 the k initial centroids, both raw
little-endian float32. KMeans runs Lloyd's algorithm (n_init=1, the given
centroids, scikit-learn's default max_iter=300 and tol=1e-4) on one thread,
REPEATS times. Prints one JSON object: the fastest fit time in seconds (wall
clock, and CPU time of the process), all wall times, scikit-learn's own
inertia_, the inertia recomputed in float64 from
labels_ and cluster_centers_ (as deepcompress computes its own), n_iter_,
and the number of clusters with at least one value.
"""
import json
import os
import sys
import time

import numpy as np
import sklearn
from sklearn.cluster import KMeans

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # OMP_NUM_THREADS=1 from the caller still applies
    threadpool_limits = None
    threadpool_info = None


def main():
    data, init, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    x = np.fromfile(data, dtype="<f4").reshape(-1, 1)
    c0 = np.fromfile(init, dtype="<f4").reshape(-1, 1)
    k = c0.shape[0]
    times, cpu = [], []
    km = None
    for _ in range(repeats):
        km = KMeans(n_clusters=k, init=c0, n_init=1, algorithm="lloyd",
                    max_iter=300, tol=1e-4)
        t0, p0 = time.perf_counter(), time.process_time()
        km.fit(x)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - p0)
    centers = km.cluster_centers_.astype(np.float64).ravel()
    d = x.ravel().astype(np.float64) - centers[km.labels_]
    blas = ""
    if threadpool_info is not None:
        blas = ", ".join("%s %s (%s, %d threads)" % (i.get("internal_api"), i.get("version"),
                                                    i.get("architecture", "-"), i.get("num_threads"))
                         for i in threadpool_info())
    print(json.dumps({
        "time": min(times),
        "times": times,
        "cpu": min(cpu),
        "inertia_sklearn": float(km.inertia_),
        "inertia": float(np.dot(d, d)),
        "n_iter": int(km.n_iter_),
        "clusters_used": int(np.unique(km.labels_).size),
        "sklearn": sklearn.__version__,
        "threadpools": blas,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
    }))


if __name__ == "__main__":
    if threadpool_limits is not None:
        with threadpool_limits(limits=1):
            main()
    else:
        main()
