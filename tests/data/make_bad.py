"""Bad-input files for loader tests, generated at test time (nothing large is stored in git).

    from tests.data.make_bad import make_bad_files, make_huge_file, make_outside_link
    expected = make_bad_files(tmp_path)          # {file name: expected kind of failure}

Kinds used in the returned mapping:

* ``"empty"``        empty.md: 0 bytes
* ``"corrupt"``      corrupt.pdf: the first 40 % of a valid 3-page PDF (no xref / trailer / %%EOF)
* ``"encrypted"``    encrypted.pdf: RC4-128 encrypted, user password ``"secret"`` (empty password fails)
* ``"not_a_docx"``   fake.docx: b"MZ" + DOS-stub text + random bytes (a renamed Windows binary)
* ``"zip_bomb"``     bomb.docx: valid-looking docx whose word/document.xml inflates to 300 MB
                     (< 1 MB on disk; the zip directory states the huge file_size)
* ``"binary"``       binary.txt: random bytes with many NULs
* ``"unsupported"``  unsupported.xyz: plain text with an unknown extension
* ``"ok_lossy"``     gbk_bad.txt: valid GBK regulation text (~300 characters) with 3 single 0xFF bytes
                     inserted;
                     should load (with U+FFFD replacement characters), not be rejected
* ``"ok"``           名称 含空格.md: a valid small regulation; space + Chinese in the file name

Separate helpers (not part of the mapping):

* ``make_huge_file(path, size_mb)``: a sparse file of ``size_mb`` MiB (instant, ~0 bytes on disk),
  starting with a small valid Markdown header so only its size is wrong. Kind: ``"too_large"``.
* ``make_outside_link(folder, target_dir)``: ``folder/outside_link.md`` -> a Markdown file created
  in ``target_dir`` (outside ``folder``). Kind: ``"symlink_outside"``.

Everything is deterministic (seeded random bytes, reportlab invariant mode).
"""

from __future__ import annotations

import io
import random
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

EXPECTED: dict[str, str] = {
    "empty.md": "empty",
    "corrupt.pdf": "corrupt",
    "encrypted.pdf": "encrypted",
    "fake.docx": "not_a_docx",
    "bomb.docx": "zip_bomb",
    "binary.txt": "binary",
    "unsupported.xyz": "unsupported",
    "gbk_bad.txt": "ok_lossy",
    "名称 含空格.md": "ok",
}

ENCRYPTED_PASSWORD = "secret"
BOMB_UNCOMPRESSED_MB = 300
GBK_BAD_MARKER = "坏字节样例标记"
SPACE_NAME_MARKER = "空格文件名样例标记"
OUTSIDE_MARKER = "目录外文件样例标记"

_SMALL_REGULATION = """# 滨江市样例管理规定

## 第一章 总则

第一条 为了测试文件名中含有空格和中文的情况（{marker}），制定本规定。

第二条 本规定自发布之日起施行。
"""

_GBK_BAD_TEXT = """滨江市档案查阅样例规定

第一条 为了规范本单位档案的查阅利用（{marker}），保障档案安全，制定本规定。

第二条 查阅档案应当填写查阅登记表，经档案管理人员审核后在查阅室查阅，不得将档案带出查阅室。

第三条 查阅涉密档案的，应当经分管领导批准，并由档案管理人员全程陪同。

第四条 复制档案应当经档案管理人员同意，复制件加盖档案专用章后方可使用。

第五条 档案管理人员应当在每次查阅结束后清点档案，发现缺页、污损的，应当立即报告并登记。

第六条 查阅人对档案内容负有保密义务，不得擅自摘抄、拍照或者对外提供。

第七条 本规定自发布之日起施行。
"""


def _valid_pdf_bytes() -> bytes:
    sys.path.insert(0, str(HERE))
    from make_manuals import build_pdf

    content = [
        ("title", "滨江市样例损坏文件测试"),
        ("p", "第一条 本文件用于生成损坏和加密的PDF样例。"),
        ("pagebreak", ""),
        ("p", "第二条 第二页内容，用于使文件足够长。" * 10),
        ("pagebreak", ""),
        ("p", "第三条 第三页内容，用于使文件足够长。" * 10),
    ]
    buf = io.BytesIO()
    build_pdf(content, "滨江市样例损坏文件测试", buf)
    return buf.getvalue()


def make_corrupt_pdf(path: Path, fraction: float = 0.4) -> None:
    data = _valid_pdf_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def make_encrypted_pdf(path: Path, password: str = ENCRYPTED_PASSWORD) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_valid_pdf_bytes())))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    path.write_bytes(buf.getvalue())


def make_fake_docx(path: Path, size: int = 8192) -> None:
    rng = random.Random(20240301)
    head = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    stub = b"This program cannot be run in DOS mode.\r\r\n$"
    body = bytes(rng.getrandbits(8) for _ in range(size - len(head) - len(stub)))
    path.write_bytes(head + stub + body)


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
_DOC_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>滨江市样例压缩炸弹</w:t></w:r></w:p>"
)
_DOC_TAIL = "</w:body></w:document>"


def make_bomb_docx(path: Path, uncompressed_mb: int = BOMB_UNCOMPRESSED_MB) -> None:
    """A docx whose word/document.xml is well-formed XML padded with ~``uncompressed_mb`` MiB of
    whitespace between elements, compressed at level 9 (~1000:1), so the file stays < 1 MB."""
    chunk = b" " * (1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, text in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _RELS)):
            zf.writestr(
                zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)),
                text,
                compress_type=zipfile.ZIP_DEFLATED,
            )
        info = zipfile.ZipInfo("word/document.xml", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as out:
            out.write(_DOC_HEAD.encode("utf-8"))
            for _ in range(uncompressed_mb):
                out.write(chunk)
            out.write(_DOC_TAIL.encode("utf-8"))


def make_binary_txt(path: Path, size: int = 4096) -> None:
    rng = random.Random(7)
    data = bytearray(rng.getrandbits(8) for _ in range(size))
    for i in range(0, size, 16):  # guarantee plenty of NULs
        data[i] = 0
    path.write_bytes(bytes(data))


def make_gbk_bad(path: Path) -> None:
    data = bytearray(_GBK_BAD_TEXT.format(marker=GBK_BAD_MARKER).encode("gbk"))
    # insert single 0xFF bytes: never valid in GBK/GB18030 (not a lead byte), and a decoder
    # resynchronises right after it, so each costs exactly one U+FFFD
    for offset in (500, 300, 120):  # back to front, so earlier offsets stay valid
        pos = _char_boundary(bytes(data), offset)  # never split a two-byte character
        data[pos:pos] = b"\xff"
    path.write_bytes(bytes(data))


def _char_boundary(data: bytes, offset: int) -> int:
    i = 0
    while i < offset and i < len(data):
        i += 2 if data[i] >= 0x81 else 1
    return i


def make_bad_files(dir: Path) -> dict[str, str]:  # noqa: A002 - name given by the brief
    """Create every bad-input file in ``dir``; return {file name: expected kind}."""
    dir = Path(dir)
    dir.mkdir(parents=True, exist_ok=True)
    (dir / "empty.md").write_bytes(b"")
    make_corrupt_pdf(dir / "corrupt.pdf")
    make_encrypted_pdf(dir / "encrypted.pdf")
    make_fake_docx(dir / "fake.docx")
    make_bomb_docx(dir / "bomb.docx")
    make_binary_txt(dir / "binary.txt")
    (dir / "unsupported.xyz").write_text("第一条 不支持的文件类型样例。\n", encoding="utf-8")
    make_gbk_bad(dir / "gbk_bad.txt")
    (dir / "名称 含空格.md").write_text(
        _SMALL_REGULATION.format(marker=SPACE_NAME_MARKER), encoding="utf-8"
    )
    return dict(EXPECTED)


def make_huge_file(path: Path, size_mb: int) -> Path:
    """A sparse file of ``size_mb`` MiB: a tiny Markdown header, then a hole (costs no disk)."""
    path = Path(path)
    with open(path, "wb") as fh:
        fh.write("# 滨江市超大文件样例\n\n第一条 本文件只是体积过大。\n".encode())
        fh.truncate(size_mb * 1024 * 1024)
    return path


def make_outside_link(folder: Path, target_dir: Path, name: str = "outside_link.md") -> Path:
    """Create ``target_dir/outside_target.md`` and a symlink ``folder/name`` pointing at it."""
    folder, target_dir = Path(folder), Path(target_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / "outside_target.md"
    target.write_text(
        f"# 滨江市目录外样例\n\n第一条 本文件位于资料目录之外（{OUTSIDE_MARKER}）。\n",
        encoding="utf-8",
    )
    link = folder / name
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target.resolve())
    return link


def make_paragraphs_docx(path: Path, paragraphs: int, text: str = "条") -> None:
    """A valid docx of ``paragraphs`` one-run paragraphs of ``text``, streamed into the zip (level
    9), so 190 MB of tiny paragraphs ("paragraph bomb", issue 15) stays well under 1 MB."""
    para = f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>".encode()
    per_block = max(1, (1 << 20) // len(para))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, content in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _RELS)):
            zf.writestr(
                zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)),
                content,
                compress_type=zipfile.ZIP_DEFLATED,
            )
        info = zipfile.ZipInfo("word/document.xml", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as out:
            out.write(_DOC_HEAD.encode("utf-8"))
            left = paragraphs
            while left > 0:
                n = min(left, per_block)
                out.write(para * n)
                left -= n
            out.write(_DOC_TAIL.encode("utf-8"))


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bad_out")
    for name, kind in make_bad_files(out).items():
        print(f"{kind:12s} {out / name}  {(out / name).stat().st_size} bytes")
