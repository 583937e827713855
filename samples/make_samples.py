#!/usr/bin/env python3
"""Writes the bundled sample delivery: catalog.csv (UTF-8 with BOM, the
Chinese headers of DA/T 22) and pages.ndjson (one page text a line:
{"code","n","text"}, as the OCR pipeline sends them).  Names and ID
numbers are invented."""
import json
import os
import random

here = os.path.dirname(os.path.abspath(__file__))
rnd = random.Random(2017)
towns = ["城关镇", "龙泉乡", "石门乡", "青山镇", "河口乡"]
villages = ["新华村", "红旗村", "桃园村", "清水村", "高坡村", "白沙村"]
names = ["张", "李", "王", "刘", "陈", "杨", "赵", "黄", "周", "吴"]
given = ["德明", "秀英", "建国", "桂兰", "志强", "玉梅", "国华", "春花"]
docs = [
    ("关于印发《{y}年精准扶贫工作实施方案》的通知", "县扶贫办", "扶办发〔{y}〕{n}号", "Y"),
    ("关于建档立卡贫困户识别认定结果的公示", "县扶贫办", "扶办发〔{y}〕{n}号", "Y"),
    ("关于{y}年度贫困户脱贫退出的决定", "县人民政府", "政发〔{y}〕{n}号", "Y"),
    ("{t}易地扶贫搬迁安置点建设项目验收报告", "县发改局", "", "D30"),
    ("{t}产业扶贫项目资金使用情况报告", "县财政局", "财发〔{y}〕{n}号", "D30"),
    ("关于开展雨露计划职业教育补助申报工作的通知", "县扶贫办", "扶办发〔{y}〕{n}号", "D30"),
    ("{t}扶贫小额信贷发放台账", "县农商银行", "", "D30"),
    ("精准扶贫工作会议纪要", "县扶贫开发领导小组", "", "D10"),
]
texts = [
    "为深入贯彻落实中央和省、市关于打赢脱贫攻坚战的决策部署，坚持精准扶贫、精准脱贫基本方略，结合我县实际，制定本方案。",
    "各乡镇要对照贫困户识别标准，逐户开展入户调查，做到应纳尽纳、应退尽退，确保识别精准、退出精准。",
    "贫困户脱贫须达到“两不愁三保障”标准，年人均纯收入稳定超过国家扶贫标准，经村民代表大会评议、公示无异议后退出。",
    "易地扶贫搬迁安置点共建设住房一百二十套，配套建设道路、供水、供电设施，经验收组现场查验，工程质量合格。",
    "产业扶贫资金重点支持种养殖业发展，带动建档立卡贫困户增收，资金使用做到公开透明、专款专用。",
    "雨露计划补助对象为建档立卡贫困家庭子女接受中、高等职业教育的在校学生，每生每年补助三千元。",
    "扶贫小额信贷坚持“五万元以下、三年期以内、免担保免抵押、基准利率放贷、财政贴息、县建风险补偿金”政策。",
    "会议要求，各级各部门要压实脱贫攻坚责任，加强扶贫档案管理，确保档案资料真实、完整、规范。",
]
rows = []
pages = []
item = {}
for y in range(2014, 2021):
    for i, (title, author, docno, ret) in enumerate(docs):
        if rnd.random() < 0.35:
            continue
        key = (y, ret)
        item[key] = item.get(key, 0) + 1
        n = item[key]
        code = f"Z031-WS·{y}-{ret}-BGS-{n:04d}"
        t = rnd.choice(towns)
        rows.append([code, title.format(y=y, t=t, n=n), author, docno.format(y=y, n=n + 10) if docno else "",
                     f"{y}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}", str(rnd.randint(2, 12)), "",
                     "纸质", f"1号库-{rnd.randint(1, 6):02d}列-{rnd.randint(1, 4)}节-{rnd.randint(1, 5)}层-{rnd.randint(1, 120):03d}盒", ""])
        body = texts[i] + texts[(i + 3) % len(texts)]
        # a line break between two characters, as on a scanned page
        cut = len(body) // 2
        pages.append({"code": code, "title": rows[-1][1], "date": rows[-1][4], "author": author,
                      "page_texts": [{"n": 1, "text": rows[-1][1]},
                                     {"n": 2, "text": body[:cut] + "\n" + body[cut:]}]})
# household files (一户一档), 分户 category FH under the same fonds
for k in range(12):
    v = rnd.choice(villages)
    name = rnd.choice(names) + rnd.choice(given)
    y = rnd.choice([2015, 2016, 2017])
    code = f"Z031-FH·{y}-Y-{k + 1:04d}"
    rows.append([code, f"{rnd.choice(towns)}{v}贫困户{name}家庭档案", f"{v}村民委员会", "",
                 f"{y}{rnd.randint(1, 12):02d}00", str(rnd.randint(8, 30)), "内部", "纸质",
                 f"2号库-{rnd.randint(1, 3):02d}列-{rnd.randint(1, 4)}节-{rnd.randint(1, 5)}层-{k + 1:03d}盒",
                 "一户一档"])
    pages.append({"code": code, "title": rows[-1][1], "date": rows[-1][4], "author": rows[-1][2],
                  "classification": "内部",
                  "page_texts": [{"n": 1, "text": f"贫困人口入户调查表\n户主：{name}  身份证号：52270119{rnd.randint(60, 99)}0101{rnd.randint(1000, 9999)}\n致贫原因：因病"},
                                 {"n": 2, "text": "贫困户脱贫审核表：经核查，该户年人均可支配收入超过脱贫标准，“两不愁三保障”已实现，同意脱贫。"}]})
# two rows with problems an archivist must see
rows.append(["Z031-WS·2019-Y-BGS-99", "件号不规范的行", "县扶贫办", "", "20190101", "1", "", "纸质", "", ""])
rows.append(["Z031-WS·2019-Y-BGS-0098", "日期不规范的行", "县扶贫办", "", "2019.1.1", "1", "", "纸质", "", ""])

header = ["档号", "题名", "责任者", "文号", "日期", "页数", "密级", "载体", "存放位置", "备注"]


def csv_field(s):
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\n') else s


with open(os.path.join(here, "catalog.csv"), "w", encoding="utf-8-sig", newline="") as f:
    for r in [header] + rows:
        f.write(",".join(csv_field(x) for x in r) + "\r\n")
with open(os.path.join(here, "pages.ndjson"), "w", encoding="utf-8") as f:
    for p in pages:
        for t in p["page_texts"]:
            f.write(json.dumps({"code": p["code"], "n": t["n"], "text": t["text"]}, ensure_ascii=False) + "\n")
print(len(rows), "catalog rows,", len(pages), "records with pages")
