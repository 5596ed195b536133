"""Pairs per second of a truncated e5-small cross-encoder on this CPU (sizes the reranker).

    python bench/rerank_throughput.py [--models-dir .policyqa/models] [--threads 2]

For each (layers, tokens) it times one forward and one forward+backward pass over a batch of 16
random token pairs (embeddings frozen), and an int8 (dynamic) forward over 10 pairs — the cost of
reranking 10 hits.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.builtin_model import ensure_builtin_model  # noqa: E402


def main() -> None:
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    parser = argparse.ArgumentParser()
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".policyqa/models")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sizes", default="4x192,6x192,4x128", help="LAYERSxTOKENS,...")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    base = str(ensure_builtin_model(args.models_dir))
    for size in args.sizes.split(","):
        layers, tokens = (int(x) for x in size.split("x"))
        config = XLMRobertaConfig.from_pretrained(base, num_hidden_layers=layers, num_labels=1)
        model = XLMRobertaForSequenceClassification.from_pretrained(base, config=config)
        ids = torch.randint(5, 1000, (16, tokens))
        mask = torch.ones_like(ids)
        model.eval()
        with torch.no_grad():
            model(input_ids=ids, attention_mask=mask)
            t = time.perf_counter()
            model(input_ids=ids, attention_mask=mask)
            forward = time.perf_counter() - t
        model.train()
        for p in model.roberta.embeddings.parameters():
            p.requires_grad = False
        t = time.perf_counter()
        model(input_ids=ids, attention_mask=mask).logits.sum().backward()
        both = time.perf_counter() - t
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            q = torch.ao.quantization.quantize_dynamic(model.eval(), {torch.nn.Linear}, torch.qint8)
        with torch.no_grad():
            q(input_ids=ids[:10], attention_mask=mask[:10])
            t = time.perf_counter()
            q(input_ids=ids[:10], attention_mask=mask[:10])
            int8 = time.perf_counter() - t
        print(
            f"{layers} layers x {tokens} tokens: forward {16 / forward:.1f} pairs/s, "
            f"forward+backward {16 / both:.1f} pairs/s, int8 forward of 10 pairs "
            f"{int8 * 1000:.0f} ms",
            flush=True,
        )


if __name__ == "__main__":
    main()
