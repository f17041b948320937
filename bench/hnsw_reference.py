#!/usr/bin/env python3
"""HNSW peer: hnswlib (the HNSW authors' library, Debian's python3-hnswlib) on the data of
store_bench's isotropic case: N random unit 384-d vectors, 500 random unit queries, recall@10
against the exact top 10 and milliseconds per query (one thread), for a range of ef.

  apt-get install python3-hnswlib python3-numpy    # not needed to build or test pocketmind
  /usr/bin/python3 bench/hnsw_reference.py [N] [M] [EF_CONSTRUCTION]

It shows that the recall a graph reaches on vectors without neighbourhood structure is a property
of HNSW, not of pocketmind's implementation (compare store_bench's "HNSW isotropic" rows).
"""
import sys
import time

import hnswlib
import numpy as np


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    ef_construction = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    d = 384
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = rng.standard_normal((500, d)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    truth = np.argsort(-(q @ x.T), axis=1)[:, :10]
    index = hnswlib.Index(space="ip", dim=d)
    index.init_index(max_elements=n, ef_construction=ef_construction, M=m)
    index.set_num_threads(1)
    t0 = time.time()
    index.add_items(x)
    print(f"hnswlib {hnswlib.__version__ if hasattr(hnswlib, '__version__') else ''} {n} x {d} isotropic, "
          f"M {m}, ef_construction {ef_construction}: build {time.time() - t0:.0f} s", flush=True)
    for ef in (64, 128, 256, 512, 1024, 2048):
        index.set_ef(ef)
        t0 = time.time()
        labels, _ = index.knn_query(q, k=10)
        ms = (time.time() - t0) / len(q) * 1000
        recall = np.mean([len(set(labels[i]) & set(truth[i])) / 10 for i in range(len(q))])
        print(f"  ef {ef:4d}: recall@10 {recall:.3f}, {ms:.3f} ms/query", flush=True)


if __name__ == "__main__":
    main()
