"""The hash-based test embedder keeps the promises the plumbing tests rely on: the Embedder
protocol's shapes, unit vectors, the same vector for the same text in any process, and more
similar vectors for texts that share wording."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from conftest import REPO, corpus_file
from fake_embedder import HashEmbedder

from ingest.embedding import Embedder


def test_shapes_norms_and_the_protocol(hashed):
    assert isinstance(hashed, HashEmbedder) and hashed.dim == 384
    embedder: Embedder = hashed  # what run_ingest and Assistant accept
    texts = ["第一条 为了维护职工休息休假权利，制定本条例。", "", "a"]
    calls: list[int] = []
    vectors = embedder.embed_documents(texts, calls.append)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert sum(calls) == len(texts)
    np.testing.assert_array_equal(embedder.embed_query(texts[0]), vectors[0])


def test_progress_comes_per_batch():
    calls: list[int] = []
    HashEmbedder(batch_size=4).embed_documents([str(i) for i in range(10)], calls.append)
    assert calls == [4, 4, 2]


def test_the_same_text_gives_the_same_vector_in_another_process(hashed):
    text = corpus_file("职工带薪年休假条例").read_text(encoding="utf-8")[:400]
    code = (
        "import sys; sys.path.insert(0, 'tests'); from fake_embedder import HashEmbedder; "
        "print(HashEmbedder().embed_query(sys.stdin.read()).tobytes().hex())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=text, capture_output=True, text=True, cwd=REPO
    )
    assert out.returncode == 0, out.stderr
    assert bytes.fromhex(out.stdout.strip()) == hashed.embed_query(text).tobytes()


def test_shared_wording_means_closer_vectors(hashed):
    leave = hashed.embed_query("职工累计工作已满10年不满20年的，年休假10天")
    close = hashed.embed_query("职工累计工作满10年的年休假有几天？")
    far = hashed.embed_query("公共数据开放目录由市大数据局统一编制")
    assert float(leave @ close) > float(leave @ far) + 0.2
