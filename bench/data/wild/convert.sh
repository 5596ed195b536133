#!/bin/bash
# LibreOffice / Chromium conversions. Run after build_docx.py and build_web.py (make_all.sh does);
# WILD_OUT (the output folder) and PYTHON (the interpreter) come from make_all.sh.
set -e
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
W=$(realpath -m "${WILD_OUT:-/tmp/policyqa-wild}"); PY=${PYTHON:-python}
F=$W/files; T=$W/tmp; mkdir -p "$F" "$T/lo"
# private LibreOffice and Chromium profiles under tmp/, so that neither a desktop session nor
# another build running at the same time can interfere
LO() { nice -n 10 soffice "-env:UserInstallation=file://$T/lo-profile" --headless --convert-to "$1" --outdir "$2" "$3" >/dev/null 2>&1; }
# --- PDFs printed by LibreOffice
for x in 职工带薪年休假条例 事业单位人事管理条例 附件1 中华人民共和国密码法 行政复议法实施条例; do
  LO pdf "$F" "$F/$x.docx"; done
LO pdf "$T/lo" "$F/国家行政机关及其工作人员在国内公务活动中不得赠送和接受礼品的规定.docx"
cp "$T/lo/国家行政机关及其工作人员在国内公务活动中不得赠送和接受礼品的规定.pdf" "$F/礼品规定（打印稿）.pdf"
LO pdf "$T/lo" "$F/关于印发《企业职工带薪年休假实施办法》的通知.docx"
cp "$T/lo/关于印发《企业职工带薪年休假实施办法》的通知.pdf" "$F/关于印发企业职工带薪年休假实施办法的通知.pdf"
LO pdf "$T/lo" "$T/A_for_scan.docx"
# --- Word 97 binary
LO 'doc:MS Word 97' "$F" "$F/事业单位人事管理条例.docx"
LO 'doc:MS Word 97' "$F" "$F/附件1.docx"
LO 'doc:MS Word 97' "$T/lo" "$T/D.docx"; cp "$T/lo/D.doc" "$F/工时实施办法.doc"
# --- .wps (WPS Office files are Word-97-style OLE documents)
LO 'doc:MS Word 97' "$T/lo" "$F/机关团体建设楼堂馆所管理条例.docx"; cp "$T/lo/机关团体建设楼堂馆所管理条例.doc" "$F/楼堂馆所管理条例.wps"
LO 'doc:MS Word 97' "$T/lo" "$F/关于印发《企业职工带薪年休假实施办法》的通知.docx"; cp "$T/lo/关于印发《企业职工带薪年休假实施办法》的通知.doc" "$F/滨政办发〔2024〕12号.wps"
# --- ODT
LO odt "$F" "$F/地方各级人民政府机构设置和编制管理条例.docx"
LO odt "$F" "$F/数据安全法.docx"
# --- Chromium print-to-pdf
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || echo /usr/bin/chromium)}
CH() { nice -n 10 timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu "--user-data-dir=$T/ch-profile" "$@" >/dev/null 2>&1; }
CH --no-pdf-header-footer --print-to-pdf="$F/行政法规制定程序条例_国务院文件_中国政府网.pdf" "file://$T/K_print.html"
CH --no-pdf-header-footer --print-to-pdf="$F/中华人民共和国统计法实施条例 - 滨海市统计局.pdf" "file://$T/O_print.html"
# browser-style printing with Chromium's own header (date, <title>) and footer (URL, page x/y):
# serve the pages locally (on a free port) and map the sites' host names to it, so that the
# footer shows a plausible site URL and not file:///
mkdir -p "$T/www/zcfg/xzfg/201710" "$T/www/zcfg/flfg"
cp "$T/F_print.html" "$T/www/zcfg/xzfg/201710/t20171009_25516.html"
cp "$T/H_print.htm" "$T/www/zcfg/flfg/2009031210352.htm"
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
( cd "$T/www" && exec nice -n 10 "$PY" -m http.server "$PORT" --bind 127.0.0.1 >/dev/null 2>&1 ) & SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
sleep 1
MAP="MAP www.ggj.gov.cn 127.0.0.1:$PORT, MAP www.bhbb.gov.cn 127.0.0.1:$PORT"
CH --host-resolver-rules="$MAP" --print-to-pdf="$F/机关团体建设楼堂馆所管理条例_政策法规_国家机关事务管理局.pdf" "http://www.ggj.gov.cn/zcfg/xzfg/201710/t20171009_25516.html"
CH --host-resolver-rules="$MAP" --print-to-pdf="$F/打印本页.pdf" "http://www.bhbb.gov.cn/zcfg/flfg/2009031210352.htm"
"$PY" "$HERE/record_converted.py"
echo done
