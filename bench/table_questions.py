"""Table questions: is the one cell a question asks for answered, with its row cited?

    python bench/table_questions.py --index DIR --queries tables/questions.jsonl [--out answers.jsonl]

Each line of the queries file: ``{"id", "question", "file", "sheet", "row", "column", "answer"}``
(the cell at ``row`` x ``column`` of ``sheet`` in ``file``). The questions are put through the
public contract, ``policyqa ask --json``; a question counts as answered right when the answer is
not a refusal and one of its citations comes from ``file``, quotes the row (its first-column
value) and states the cell's value. Prints the rate and one line per miss.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def _norm(text: str) -> str:
    return "".join(str(text).split()).replace(",", "").replace("，", "")


def right_row_cited(query: dict, answer: dict) -> bool:
    if answer.get("refused"):
        return False
    for c in answer.get("citations", []):
        if Path(c.get("source", "")).name != query["file"]:
            continue
        quote = _norm(c.get("quote", "")) + _norm(c.get("heading", ""))
        if _norm(query["row"]) in quote and _norm(query["answer"]) in quote:
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--queries", required=True, type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    queries = [json.loads(line) for line in args.queries.read_text("utf-8").splitlines() if line]
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "answers.jsonl"
        cmd = [sys.executable, "-m", "assistant.cli", "ask", "--index", args.index]
        cmd += ["--queries", str(args.queries), "--json"]
        with out.open("w", encoding="utf-8") as fh:
            subprocess.run(cmd, check=True, stdout=fh)
        answers = {a["id"]: a for a in map(json.loads, out.read_text("utf-8").splitlines()) if a}
    right = 0
    for q in queries:
        a = answers.get(q["id"], {})
        if right_row_cited(q, a):
            right += 1
        else:
            shown = "refused" if a.get("refused") else a.get("answer", "")[:80].replace("\n", " ")
            print(f"miss {q['id']}: {q['question']} -> {shown}")
    print(f"right row cited: {right}/{len(queries)} = {right / max(len(queries), 1):.3f}")


if __name__ == "__main__":
    main()
