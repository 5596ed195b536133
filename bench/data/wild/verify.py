"""Open every file, extract its text the ordinary way, and compare line-leading article labels with the ground truth."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pypdfium2 as pdfium
from bs4 import BeautifulSoup
from common import EXPECTED, OUT, REGS, TMP, WILD_OUT, parse

V = f"{TMP}/verify"
shutil.rmtree(V, ignore_errors=True)
os.makedirs(V)
LAB = re.compile(r"^[\s\u3000\xa0]*(第[一二三四五六七八九十百零]+条)")
recs = {}
for ln in Path(EXPECTED).read_text(encoding="utf-8").splitlines():
    r = json.loads(ln)
    recs[r["file"]] = r  # last write wins
recs = dict(sorted(recs.items()))
with open(os.path.join(WILD_OUT, "expected.jsonl"), "w", encoding="utf-8") as f:
    for r in recs.values():
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
missing = set(os.listdir(OUT)) - set(recs)
if missing:
    print("FILES WITHOUT GROUND TRUTH:", missing)


def text_of(name):
    p = f"{OUT}/{name}"
    ext = name.rsplit(".", 1)[-1].lower()
    if ext in ("docx", "doc", "wps", "odt"):
        d = f"{V}/{len(os.listdir(V))}"
        os.makedirs(d)
        src = p
        subprocess.run(
            [
                "nice",
                "-n",
                "10",
                "soffice",
                f"-env:UserInstallation=file://{TMP}/lo-profile",
                "--headless",
                "--convert-to",
                "txt:Text (encoded):UTF8",
                "--outdir",
                d,
                src,
            ],
            capture_output=True,
            timeout=120,
        )
        outs = os.listdir(d)
        if not outs:
            return None, "LibreOffice could not convert"
        return Path(f"{d}/{outs[0]}").read_text(encoding="utf-8-sig"), "LibreOffice txt export"
    if ext == "pdf":
        pdf = pdfium.PdfDocument(p)
        n = len(pdf)
        t = subprocess.run(["pdftotext", p, "-"], capture_output=True, text=True).stdout
        return t, f"pdfium opens ({n} pages); pdftotext"
    if ext in ("html", "htm"):
        raw = Path(p).read_bytes()
        soup = BeautifulSoup(raw, "lxml")
        for br in soup.find_all("br"):
            br.replace_with("\n")
        return soup.get_text("\n"), f"bs4 (encoding {soup.original_encoding})"
    if ext == "txt":
        raw = Path(p).read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                return raw.decode(enc), f"decoded {enc}"
            except UnicodeDecodeError:
                pass
    return None, "unknown"


problems = []
for name, r in recs.items():
    t, how = text_of(name)
    scan = name.startswith("scan_") or name.startswith("扫描")
    if t is None:
        problems.append((name, how))
        print(f"FAIL {name}: {how}")
        continue
    if scan:
        ok = len(t.strip()) == 0
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {how}; image-only={ok}")
        if not ok:
            problems.append((name, "scan has text layer"))
        continue
    found = [LAB.match(line).group(1) for line in t.splitlines() if LAB.match(line)]
    exp = r["articles"]
    # drop page furniture (page-number lines, browser header/footer, 第 X 页 共 Y 页) before the verbatim check
    furn = re.compile(
        r"^[\s\u3000\xa0—－-]*\d+[\s\u3000\xa0—－-]*$|^第\s*\d+\s*页\s*共\s*\d+\s*页$|^第$|^\d+页共\d+页$|^\d+/\d+$|^\d+/\d+/\d+, \d+:\d+ [AP]M|^https?://|^滨海大学人事处$|^市机关事务管理局"
    )
    flat = re.sub(
        r"[\s\u3000\xa0]+",
        "",
        "\n".join(line for line in t.splitlines() if not furn.match(line.strip())),
    )
    title_ok = re.sub(r"\s+", "", r["title"]) in flat
    # every article body present verbatim (whitespace-insensitive)?
    reg = parse(r["source_md"] if False else [k for k in REGS.values() if k == r["source_md"]][0])
    miss_body = [
        b[1]
        for b in reg["blocks"]
        if b[0] == "art" and re.sub(r"[\s\u3000]+", "", b[2])[:60] not in flat
    ]
    # labels: every expected label must be present as line-leading, in order; extra line-leading ones are wrap artefacts
    it = iter(found)
    inorder = all(any(x == e for x in it) for e in exp)
    extras = len(found) - len(exp)
    status = (
        "ok  "
        if (found == exp and title_ok and not miss_body)
        else ("WARN" if inorder and title_ok and not miss_body else "FAIL")
    )
    msg = f"{status} {name}: {how}; labels {len(found)}/{len(exp)} exact={found == exp}"
    if found != exp:
        msg += f" in-order-subsequence={inorder} extra={extras}"
        extra_lines = [line.strip()[:30] for line in t.splitlines() if LAB.match(line)]
        if inorder and extras > 0:
            # show line-leading labels that are not the expected ones
            e2 = list(exp)
            shown = []
            for line in extra_lines:
                lab = LAB.match(line).group(1)
                if e2 and lab == e2[0]:
                    e2.pop(0)
                else:
                    shown.append(line)
            msg += f" non-label line starts: {shown[:5]}"
        elif not inorder:
            msg += f" missing: {[e for e in exp if e not in found][:8]}"
    if not title_ok:
        msg += " TITLE NOT FOUND"
    if miss_body:
        msg += f" article text not found verbatim: {miss_body[:6]}"
    print(msg)
    if status != "ok  ":
        problems.append((name, msg))
print(
    f"\n{len(recs)} files, {len({r['source_md'] for r in recs.values()})} regulations, "
    f"{len(problems)} with remarks"
)
