#!/usr/bin/python3
"""Build a vendor's delivery with known text, for the ingest tests and the
OCR benchmark.

Pages of real Chinese sentences (the pool of gen_corpus.py) are rendered in
several CJK fonts at 200 or 300 dpi (150 for a low-resolution page),
skewed, blurred and noised, and saved as a vendor would: a folder of JPEGs
per item, a Group 4 multi-page TIFF, an image-only PDF; born-digital items
as a PDF with a text layer, plain text (GB18030) and OFD.  The truth (every
page's text, its font, dpi and format) goes to truth.json.  With
--problems the delivery also holds what a real one does: a corrupt JPEG, a
truncated PDF, an empty file, a JPEG named .tif, a decompression bomb, a
blank page, a scan with no catalog row, a catalog row with no scans, a
page count that differs from 页数 and a catalog row that is invalid.

    /usr/bin/python3 bench/ocr_fixtures.py --out DIR [--items N] [--lines L] [--seed S] [--problems]
"""
import argparse
import io
import json
import os
import random
import struct
import sys
import zipfile
import zlib

from PIL import Image, ImageDraw, ImageFilter, ImageFont

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_corpus  # noqa: E402

FONTS = [
    ('noto-sans', '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', 2),
    ('noto-serif', '/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc', 2),
    ('ar-pl-uming', '/usr/share/fonts/truetype/arphic/uming.ttc', 0),
    ('ar-pl-ukai', '/usr/share/fonts/truetype/arphic/ukai.ttc', 0),
    ('wqy-zenhei', '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', 0),
]
A4_IN = (8.27, 11.69)
CHARS_PER_LINE = 32


def simplified(s):
    """Text as a modern government document writes it: every character in
    GB 2312, every Chinese one among its 3755 common characters (level 1).
    The classical verse in fortunes-zh is traditional or rare: not what
    poverty-alleviation files hold."""
    try:
        b = s.encode('gb2312')
    except UnicodeEncodeError:
        return False
    i = 0
    while i < len(b):
        if b[i] < 0x80:
            i += 1
            continue
        if 0xB0 <= b[i] <= 0xF7 and not 0xB0 <= b[i] <= 0xD7:
            return False  # level 2: rare characters
        i += 2
    return True


def page_text(rng, pool, lines):
    """About `lines` lines of sentences, wrapped like a typed page."""
    text = ''
    while len(text) < lines * CHARS_PER_LINE:
        text += rng.choice(pool)
    text = text[:lines * CHARS_PER_LINE]
    return '\n'.join(text[i:i + CHARS_PER_LINE] for i in range(0, len(text), CHARS_PER_LINE))


def render(text, font, dpi, skew, rng, noise=True):
    """A greyscale page image of text, as scanned."""
    name, path, index = font
    w, h = int(A4_IN[0] * dpi), int(A4_IN[1] * dpi)
    px = int(14 / 72 * dpi)  # 14 pt
    f = ImageFont.truetype(path, px, index=index)
    img = Image.new('L', (w, h), 255)
    d = ImageDraw.Draw(img)
    x0, y = int(w * 0.1), int(h * 0.08)
    for line in text.split('\n'):
        d.text((x0, y), line, font=f, fill=0)
        y += int(px * 1.6)
    if skew:
        img = img.rotate(skew, resample=Image.BICUBIC, fillcolor=255)
    if noise:
        img = img.filter(ImageFilter.GaussianBlur(0.5 + rng.random() * 0.4))
        # speckle: a sprinkle of dark and light pixels
        pxs = img.load()
        for _ in range(w * h // 2000):
            pxs[rng.randrange(w), rng.randrange(h)] = rng.choice((0, 90, 255))
    return img


def save_jpeg(img, path, dpi):
    img.save(path, 'JPEG', quality=80, dpi=(dpi, dpi))


def save_g4(imgs, path, dpi):
    bw = [i.point(lambda v: 255 if v > 150 else 0).convert('1') for i in imgs]  # a bilevel scanner's threshold
    bw[0].save(path, 'TIFF', compression='group4', dpi=(dpi, dpi), save_all=True, append_images=bw[1:])


def save_image_pdf(imgs, path, dpi):
    imgs[0].save(path, 'PDF', resolution=float(dpi), save_all=True, append_images=imgs[1:])


def save_text_pdf(texts, path):
    import cairo
    w, h = A4_IN[0] * 72, A4_IN[1] * 72
    s = cairo.PDFSurface(path, w, h)
    cr = cairo.Context(s)
    for t in texts:
        cr.select_font_face('Noto Sans CJK SC')
        cr.set_font_size(14)
        y = 72
        for line in t.split('\n'):
            cr.move_to(60, y)
            cr.show_text(line)
            y += 22
        cr.show_page()
    s.finish()


def save_ofd(texts, path):
    ns = 'http://www.ofdspec.org/2016'
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('OFD.xml', f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{ns}" Version="1.1" DocType="OFD">'
                   '<ofd:DocBody><ofd:DocInfo><ofd:DocID>fixture</ofd:DocID></ofd:DocInfo>'
                   '<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>')
        pages = ''.join(f'<ofd:Page ID="{i + 1}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(texts)))
        z.writestr('Doc_0/Document.xml', f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{ns}">'
                   '<ofd:CommonData><ofd:MaxUnitID>1000</ofd:MaxUnitID><ofd:PageArea>'
                   '<ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData>'
                   f'<ofd:Pages>{pages}</ofd:Pages></ofd:Document>')
        for i, t in enumerate(texts):
            objs = ''.join(f'<ofd:TextObject ID="{100 + k}" Boundary="20 {20 + 8 * k} 170 8" Font="1" Size="5">'
                           f'<ofd:TextCode X="0" Y="5">{line}</ofd:TextCode></ofd:TextObject>'
                           for k, line in enumerate(t.split('\n')))
            z.writestr(f'Doc_0/Pages/Page_{i}/Content.xml', f'<?xml version="1.0" encoding="UTF-8"?>'
                       f'<ofd:Page xmlns:ofd="{ns}"><ofd:Content><ofd:Layer ID="2">{objs}</ofd:Layer>'
                       '</ofd:Content></ofd:Page>')


def png_bomb(path, w=100000, h=100000):
    """A small PNG whose header claims w x h pixels (1 bit)."""
    def chunk(t, data):
        return struct.pack('>I', len(data)) + t + data + struct.pack('>I', zlib.crc32(t + data) & 0xffffffff)
    row = b'\x00' + b'\xff' * ((w + 7) // 8)
    comp = zlib.compressobj(9)
    data = b''.join(comp.compress(row) for _ in range(200)) + comp.flush()
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 1, 0, 0, 0, 0))
                + chunk(b'IDAT', data) + chunk(b'IEND', b''))


def code(n):
    return f'Z031-WS·2019-Y-BGS-{n:04d}'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--items', type=int, default=12, help='scanned items (each format and font in turn)')
    ap.add_argument('--lines', type=int, default=10, help='text lines per page')
    ap.add_argument('--pages', type=int, default=2, help='pages per item')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--fonts', default=','.join(f[0] for f in FONTS))
    ap.add_argument('--dpis', default='200,300')
    ap.add_argument('--problems', action='store_true')
    ap.add_argument('--page-images', help='also save every scanned page as PNG here (the benchmark\'s baseline)')
    a = ap.parse_args()
    rng = random.Random(a.seed)
    pool, _ = gen_corpus.build_pool()
    pool = [s for s in pool if 8 <= len(s) <= 60 and sum('\u4e00' <= c <= '\u9fff' for c in s) >= len(s) * 0.8
            and simplified(s)]
    fonts = [f for f in FONTS if f[0] in a.fonts.split(',')]
    dpis = [int(d) for d in a.dpis.split(',')]
    os.makedirs(a.out, exist_ok=True)
    truth, rows = {}, []
    formats = ['jpeg-folder', 'g4-tiff', 'image-pdf', 'jpeg-flat']
    n = 0
    for i in range(a.items):
        n += 1
        c = code(n)
        font, dpi, fmt = fonts[i % len(fonts)], dpis[(i // len(fonts)) % len(dpis)], formats[i % len(formats)]
        texts = [page_text(rng, pool, a.lines) for _ in range(a.pages)]
        imgs = [render(t, font, dpi, rng.uniform(-1.5, 1.5), rng) for t in texts]
        if a.page_images:
            os.makedirs(a.page_images, exist_ok=True)
            for k, img in enumerate(imgs):  # the pixels as the file holds them, for plain tesseract
                base = os.path.join(a.page_images, f'{c}-{k + 1:04d}')
                if fmt.startswith('jpeg'):
                    save_jpeg(img, base + '.jpg', dpi)  # the same bytes as the delivery's
                else:
                    out = img.point(lambda v: 255 if v > 150 else 0).convert('1') if fmt == 'g4-tiff' else img
                    out.save(base + '.png', dpi=(dpi, dpi))
        if fmt == 'jpeg-folder':
            os.makedirs(os.path.join(a.out, c), exist_ok=True)
            for k, img in enumerate(imgs):
                save_jpeg(img, os.path.join(a.out, c, f'{k + 1:04d}.jpg'), dpi)
        elif fmt == 'jpeg-flat':
            for k, img in enumerate(imgs):
                save_jpeg(img, os.path.join(a.out, f'{c}-{k + 1:04d}.jpg'), dpi)
        elif fmt == 'g4-tiff':
            save_g4(imgs, os.path.join(a.out, f'{c}.tif'), dpi)
        else:
            save_image_pdf(imgs, os.path.join(a.out, f'{c}.pdf'), dpi)
        truth[c] = {'pages': texts, 'font': font[0], 'dpi': dpi, 'format': fmt, 'ocr': True}
        rows.append((c, f'扶贫档案样张{n}', len(texts)))
    # born-digital items
    for fmt in ('text-pdf', 'text', 'ofd'):
        n += 1
        c = code(n)
        texts = [page_text(rng, pool, a.lines) for _ in range(2)]
        if fmt == 'text-pdf':
            save_text_pdf(texts, os.path.join(a.out, f'{c}.pdf'))
        elif fmt == 'text':
            with open(os.path.join(a.out, f'{c}.txt'), 'wb') as f:
                f.write('\f'.join(texts).encode('gb18030'))
        else:
            save_ofd(texts, os.path.join(a.out, f'{c}.ofd'))
        truth[c] = {'pages': texts, 'format': fmt, 'ocr': False}
        rows.append((c, f'电子文件{n}', 2))
    problems = {}
    if a.problems:
        font = fonts[0]
        # a JPEG named .tif: read by its content
        n += 1
        c = code(n)
        t = page_text(rng, pool, a.lines)
        save_jpeg(render(t, font, 300, 0, rng), os.path.join(a.out, f'{c}.tif'), 300)
        truth[c] = {'pages': [t], 'format': 'jpeg-named-tif', 'ocr': True, 'font': font[0], 'dpi': 300}
        rows.append((c, '扩展名不符', 1))
        # a low-resolution page and a blank page in one item; the catalog says 3 pages
        n += 1
        c = code(n)
        t = page_text(rng, pool, a.lines)
        os.makedirs(os.path.join(a.out, c))
        save_jpeg(render(t, font, 150, 0, rng), os.path.join(a.out, c, '0001.jpg'), 150)
        save_jpeg(Image.new('L', (int(A4_IN[0] * 200), int(A4_IN[1] * 200)), 252), os.path.join(a.out, c, '0002.jpg'), 200)
        truth[c] = {'pages': [t, ''], 'format': 'low-dpi+blank', 'ocr': True, 'font': font[0], 'dpi': 150}
        rows.append((c, '低分辨率和空白页', 3))
        problems['low_dpi'] = [c]
        problems['blank_pages'] = [c]
        problems['page_count_mismatch'] = [c]
        # a folder whose page 0002 is missing and whose page 0003 comes twice
        n += 1
        c = code(n)
        os.makedirs(os.path.join(a.out, c))
        texts = [page_text(rng, pool, 3) for _ in range(3)]
        save_jpeg(render(texts[0], font, 300, 0, rng), os.path.join(a.out, c, '0001.jpg'), 300)
        save_jpeg(render(texts[1], font, 300, 0, rng), os.path.join(a.out, c, '0003.jpg'), 300)
        render(texts[2], font, 300, 0, rng).save(os.path.join(a.out, c, '0003.png'), dpi=(300, 300))
        truth[c] = {'pages': [texts[0], None, texts[1], texts[2]], 'format': 'gap+conflict', 'ocr': True,
                    'font': font[0], 'dpi': 300}
        rows.append((c, '缺页和重复页', 3))
        problems['missing_pages'] = [c]
        problems['page_conflicts'] = [c]
        # unreadable files, each in an item of its own
        bad = {}
        n += 1
        c = code(n)
        with open(os.path.join(a.out, f'{c}.jpg'), 'wb') as f:
            f.write(b'\xff\xd8\xff\xe0\x00\x10JFIF\x00' + bytes(rng.randrange(256) for _ in range(3000)))
        bad[c] = 'corrupt jpeg'
        n += 1
        c = code(n)
        buf = io.BytesIO()
        save_image_pdf([render(page_text(rng, pool, 3), font, 200, 0, rng)], buf, 200)
        with open(os.path.join(a.out, f'{c}.pdf'), 'wb') as f:
            f.write(buf.getvalue()[:len(buf.getvalue()) // 3])
        bad[c] = 'truncated pdf'
        n += 1
        c = code(n)
        open(os.path.join(a.out, f'{c}.tif'), 'wb').close()
        bad[c] = 'empty file'
        n += 1
        c = code(n)
        png_bomb(os.path.join(a.out, f'{c}.png'))
        bad[c] = 'decompression bomb'
        for c in bad:
            rows.append((c, '坏文件 ' + bad[c], 1))
        problems['unreadable_files'] = sorted(bad)
        # a scan with no catalog row, a catalog row with no scan
        save_jpeg(render(page_text(rng, pool, 3), font, 200, 0, rng), os.path.join(a.out, f'{code(9001)}.jpg'), 200)
        problems['scans_without_catalog_row'] = [code(9001)]
        rows.append((code(9002), '没有扫描件', 2))
        problems['catalog_rows_without_scans'] = [code(9002)]
        # a file that is named by no 档号
        with open(os.path.join(a.out, 'readme.txt'), 'w', encoding='utf-8') as f:
            f.write('交付说明\n')
        problems['unrecognised_files'] = ['readme.txt']
    with open(os.path.join(a.out, 'catalog.csv'), 'w', encoding='utf-8-sig', newline='') as f:
        f.write('档号,题名,责任者,日期,页数,存放位置\r\n')
        for c, title, pages in rows:
            f.write(f'{c},{title},县扶贫办,20190301,{pages},1号库-01列-1节-1层-001盒\r\n')
        if a.problems:
            # a row whose 档号 cannot be read even leniently names no item:
            # kept in the import's account (an irregular date alone would not
            # keep a row out: it is read and recorded)
            f.write(f'{code(9003).replace("-Y-", "-Q-")},保管期限代码错了,县扶贫办,20190301,1,\r\n')
            problems['catalog_rejected'] = [code(9003).replace("-Y-", "-Q-")]
    with open(os.path.join(a.out, '..', os.path.basename(os.path.normpath(a.out)) + '.truth.json'), 'w',
              encoding='utf-8') as f:
        json.dump({'items': truth, 'problems': problems}, f, ensure_ascii=False, indent=1)


if __name__ == '__main__':
    main()
