"""The meeting pack from the command line (``python -m data_access report``) on a small seeded demo city:

* the PPTX read back with python-pptx: the slide count, and each slide's numbers against ``kpis --json`` for
  the same scope, period and as-of time (the district's headline, each street's slide);
* the PDF's text extracted (pypdf): the same figures; its pages rendered to PNG in tests/artifacts/pack/
  (pdftoppm, when installed);
* the Excel beside it: its rows are the appendix's rows in the PPTX;
* from a snapshot: the pack holds the snapshot's figures after new appeals are synced;
* refusals (unknown region, bad period, unknown snapshot, a snapshot of another region) say why, status 2.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook
from pptx import Presentation
from pptx.util import Emu
from pypdf import PdfReader
from sqlalchemy import select

from data_access import cli, queries, schema
from data_access.exports import neutralise
from data_access.clock import local_now
from data_access.scope import Period, Scope
from data_access.sor_views import ensure_views
from data_access.store import create_schema, make_engine
from tests import demo
from tests.conftest import CITY_TZ, insert_appeals

DISTRICT = "210302"


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    end = local_now(CITY_TZ).replace(second=0, microsecond=0)
    folder = tmp_path_factory.mktemp("report")
    env = demo.build(folder, appeals=6_000, months=3, end=end)
    engine = make_engine(env["APPEALS_DB_URL"])
    create_schema(engine)
    ensure_views(engine)
    first = (end.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    last = end.replace(day=1).date() - dt.timedelta(days=1)
    as_of = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
    yield {"env": env, "engine": engine, "folder": folder, "first": first.date(), "last": last,
           "text": f"{first:%Y-%m}", "as_of": as_of}
    engine.dispose()


@pytest.fixture
def run(city, monkeypatch, capsys):
    for name, value in city["env"].items():
        monkeypatch.setenv(name, value)

    def go(*args):
        try:
            status = cli.main(list(args))
        except SystemExit as exc:
            status = exc.code
        out, err = capsys.readouterr()
        return status, out, err

    return go


def kpis(run, city, code: str) -> dict:
    status, out, err = run("kpis", "--scope", code, "--from", city["first"].isoformat(), "--to",
                           city["last"].isoformat(), "--as-of", city["as_of"].isoformat(), "--json")
    assert status == 0, err
    return json.loads(out)


def tiles(slide) -> dict[str, list[str]]:
    """label → the lines of each tile (a shape whose first paragraph is its label, the second its value)."""
    out = {}
    for shape in slide.shapes:
        if shape.has_text_frame and shape.shape_type == 1:  # an auto shape: the tiles
            lines = [p.text for p in shape.text_frame.paragraphs]
            out[lines[0]] = lines[1:]
    return out


def title(slide) -> str:
    return next(s.text_frame.text for s in slide.shapes if s.has_text_frame and s.text_frame.text)


def tables(slide) -> list[list[list[str]]]:
    return [[[c.text for c in row.cells] for row in s.table.rows] for s in slide.shapes if s.has_table]


def rate(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


@pytest.fixture(scope="module")
def live_pack(city, tmp_path_factory):
    return tmp_path_factory.mktemp("pack")


def test_the_pptx_holds_the_figures_of_kpis(run, city, live_pack):
    out = live_pack / "tiedong.pptx"
    status, summary, err = run("report", "--scope", DISTRICT, "--period", city["text"], "--as-of",
                               city["as_of"].isoformat(), "--format", "pptx", "--out", str(out), "--json",
                               "--link-base", "https://dash.example.gov.cn/")
    assert status == 0, err
    summary = json.loads(summary)
    assert summary["excel"] == str(out.with_suffix(".xlsx")) and out.with_suffix(".xlsx").exists()
    prs = Presentation(str(out))
    assert Emu(prs.slide_width).inches == pytest.approx(13.333, abs=0.01)
    slides = list(prs.slides)
    assert len(slides) == summary["slides"]
    with city["engine"].connect() as conn:
        streets = queries.children(conn, Scope(DISTRICT, "district"), Period.calendar(city["text"]), city["as_of"],
                                   "street")
    titles = [title(s) for s in slides]
    # cover, headline, two leagues, one slide per street, hotspots, overdue, then the appendix
    assert titles[1] == "三率与受理量" and titles[2:4] == ["红黑榜 · 街道", "红黑榜 · 承办单位"]
    assert titles[4:4 + len(streets)] == list(streets.sort_values(["received", "code"], ascending=[False, True])["name"])
    assert titles[4 + len(streets):6 + len(streets)] == ["热点与重复诉求", "超期与督办"]
    assert all(t.startswith("附表 · ") for t in titles[6 + len(streets):])

    district = kpis(run, city, DISTRICT)
    head = tiles(slides[1])
    assert district["received"] > 0
    assert head["受理量"][0] == f"{district['received']:,}"
    assert head["办结率"][0] == rate(district["completion_rate"])
    assert head["按时办结率"][0] == rate(district["on_time_rate"])
    assert head["满意率"][0] == rate(district["satisfaction_rate"])
    assert head["超期（本期受理）"][0] == f"{district['overdue_open']:,}"
    assert tiles(slides[0])["受理量"][0] == f"{district['received']:,}"
    for slide in slides[4:4 + len(streets)]:
        code = streets.loc[streets["name"] == title(slide), "code"].iloc[0]
        street = kpis(run, city, code)
        shown = tiles(slide)
        assert shown["受理量"][0] == f"{street['received']:,}", code
        assert shown["办结率"][0] == rate(street["completion_rate"]), code
        assert shown["按时办结率"][0] == rate(street["on_time_rate"]), code
        assert shown["满意率"][0] == rate(street["satisfaction_rate"]), code
        assert shown["超期（本期受理）"][0] == f"{street['overdue_open']:,}", code
        assert len([s for s in slide.shapes if s.shape_type == 13]) == 3  # pictures: map, trend, categories
    # each figure links to its list on the dashboard, at the pack's region, period and as-of time
    tile = next(s for s in slides[1].shapes if s.shape_type == 1 and s.text_frame.paragraphs[0].text == "办结率")
    url = tile.text_frame.paragraphs[1].runs[0].hyperlink.address
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://dash.example.gov.cn/cases?")
    assert (query["figure"], query["region"], query["as_of"]) == (["completion_rate"], [DISTRICT],
                                                                  [city["as_of"].isoformat()])
    assert (query["from"], query["to"]) == ([city["first"].isoformat()], [city["last"].isoformat()])
    # the speaker notes carry the definitions
    assert "办结率：已办结 ÷ （受理 − 撤销）" in slides[1].notes_slide.notes_text_frame.text

    # the Excel beside it: one sheet per appendix table, the same rows as the appendix slides
    appendix: dict[str, list[list[str]]] = {}
    for slide in slides[6 + len(streets):]:
        (table,) = tables(slide)
        name = title(slide).removeprefix("附表 · ")
        appendix.setdefault(name, [table[0]]).extend(table[1:])
    book = load_workbook(out.with_suffix(".xlsx"), read_only=True)
    assert len(book.sheetnames) == len(appendix)
    for sheet, (name, rows) in zip(book.worksheets, appendix.items()):
        assert sheet.title == name.replace("·", "-")
        got = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        # formula-like cells (+194) are written as text with the exports' apostrophe (exports.neutralise)
        assert got == [[neutralise(c) for c in row] for row in rows], name
    units = appendix["各街道指标"]
    assert len(units) == len(streets) + 1
    east = dict(zip(units[0], units[1]))
    first = streets.sort_values("code").iloc[0]
    assert (east["名称"], east["受理"]) == (first["name"], f"{int(first['received']):,}")


def test_the_pdf_holds_the_same_slides_and_figures(run, city, live_pack, artifacts_dir):
    out = live_pack / "tiedong.pdf"
    status, _, err = run("report", "--scope", DISTRICT, "--period", city["text"], "--as-of",
                         city["as_of"].isoformat(), "--format", "pdf", "--out", str(out), "--link-base",
                         "https://dash.example.gov.cn")
    assert status == 0, err
    pdf = PdfReader(str(out))
    uris = [a.get_object()["/A"]["/URI"] for a in pdf.pages[1].get("/Annots", [])]
    assert len(uris) == 6 and all(u.startswith("https://dash.example.gov.cn/cases?figure=") for u in uris)
    prs = Presentation(str(live_pack / "tiedong.pptx")) if (live_pack / "tiedong.pptx").exists() else None
    if prs is not None:
        assert len(pdf.pages) == len(prs.slides)
    district = kpis(run, city, DISTRICT)
    head = pdf.pages[1].extract_text()
    assert "三率与受理量" in head
    assert f"受理量\n{district['received']:,}\n" in head
    assert f"办结率\n{rate(district['completion_rate'])}\n" in head
    assert f"满意率\n{rate(district['satisfaction_rate'])}\n" in head
    texts = [p.extract_text() for p in pdf.pages]
    with city["engine"].connect() as conn:
        streets = queries.children(conn, Scope(DISTRICT, "district"), Period.calendar(city["text"]), city["as_of"],
                                   "street")
    for _, street in streets.iterrows():
        page = next(t for t in texts if t.startswith(street["name"] + "\n"))
        assert f"受理量\n{int(street['received']):,}\n" in page
        assert f"办结率\n{rate(street['completion_rate'])}\n" in page
    # the pages as pictures, to look at
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (Debian poppler-utils) is not installed: the pack's pages were not rendered")
    folder = artifacts_dir / "pack"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "72", "-png", str(out), str(folder / "page")], check=True,
                   capture_output=True, timeout=300)
    assert len(list(folder.glob("page-*.png"))) == len(pdf.pages)


def test_a_snapshot_pack_holds_the_frozen_figures_after_new_data(run, city, tmp_path):
    status, out, err = run("snapshot", "freeze", "--scope", DISTRICT, "--period", city["text"], "--as-of",
                           city["as_of"].isoformat(), "--name", "讲评 · 铁东区", "--json")
    assert status == 0, err
    ident = json.loads(out)["id"]
    before = kpis(run, city, DISTRICT)
    # an appeal entered late, received inside the period, closed at once
    with city["engine"].connect() as conn:
        grid = conn.execute(select(schema.regions.c.code).where(schema.regions.c.level == "grid",
                                                                 schema.regions.c.code.like(DISTRICT + "%"))
                            .limit(1)).scalar_one()
    received = dt.datetime.combine(city["first"], dt.time(10))
    insert_appeals(city["engine"], [dict(appeal_id="LATE-1", grid_code=grid, created_at=received,
                                         status="closed", closed_at=received + dt.timedelta(hours=2))])
    after = kpis(run, city, DISTRICT)
    assert after["received"] == before["received"] + 1
    for ident_given in (str(ident), "讲评 · 铁东区"):
        path = tmp_path / f"frozen-{len(ident_given)}.pptx"
        status, _, err = run("report", "--scope", DISTRICT, "--period", city["text"], "--snapshot", ident_given,
                             "--format", "pptx", "--out", str(path))
        assert status == 0, err
        slides = list(Presentation(str(path)).slides)
        assert title(slides[0]) == "讲评 · 铁东区"
        head = tiles(slides[1])
        assert head["受理量"][0] == f"{before['received']:,}" != f"{after['received']:,}"
        assert head["办结率"][0] == rate(before["completion_rate"])
    # live, the same moment now counts the late appeal
    path = tmp_path / "live.pptx"
    status, _, err = run("report", "--scope", DISTRICT, "--period", city["text"], "--as-of",
                         city["as_of"].isoformat(), "--format", "pptx", "--out", str(path))
    assert status == 0, err
    assert tiles(list(Presentation(str(path)).slides)[1])["受理量"][0] == f"{after['received']:,}"
    # the snapshot's region and period must be the ones asked for
    status, _, err = run("report", "--scope", "210303", "--period", city["text"], "--snapshot", str(ident),
                         "--format", "pdf", "--out", str(tmp_path / "x.pdf"))
    assert status == 2 and f"snapshot {ident} is of region {DISTRICT}" in err


@pytest.mark.parametrize("args, message", [
    (["--scope", "999999", "--period", "2026-10"], "unknown region code '999999'"),
    (["--scope", DISTRICT, "--period", "2026-13"], "--period: 无法识别的统计周期 “2026-13”"),
    (["--scope", DISTRICT, "--period", "2026-10", "--snapshot", "4711"], "no snapshot '4711'"),
    (["--scope", DISTRICT, "--period", "2026-10", "--snapshot", "没有这个快照"], "no snapshot '没有这个快照'"),
    (["--scope", DISTRICT, "--period", "2026-10", "--link-base", "javascript:alert(1)"], "--link-base must start"),
])
def test_refusals_say_why_with_status_2(run, tmp_path, args, message):
    status, out, err = run("report", *args, "--format", "pdf", "--out", str(tmp_path / "x.pdf"))
    assert status == 2
    assert err.startswith("error: ") and message in err
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "x.xlsx").exists()


def test_a_bad_format_is_refused_by_the_parser(run, tmp_path):
    status, _, err = run("report", "--scope", DISTRICT, "--period", "2026-10", "--format", "docx", "--out",
                         str(tmp_path / "x.docx"))
    assert status == 2 and "invalid choice: 'docx'" in err


def test_the_pptx_pages_as_pictures(run, city, tmp_path, artifacts_dir):
    """The PPTX as PowerPoint would show it: LibreOffice (Debian libreoffice-impress) converts it to PDF and
    pdftoppm draws its pages into tests/artifacts/pack/pptx/, to be looked at; the PDF has one page a slide."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None or shutil.which("pdftoppm") is None:
        pytest.skip("LibreOffice (libreoffice-impress) or pdftoppm (poppler-utils) is not installed: "
                    "the PPTX was not drawn as pictures")
    out = tmp_path / "tiedong.pptx"
    status, _, err = run("report", "--scope", DISTRICT, "--period", city["text"], "--as-of",
                         city["as_of"].isoformat(), "--format", "pptx", "--out", str(out))
    assert status == 0, err
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)], check=True, capture_output=True,
                   timeout=300)
    converted = tmp_path / "tiedong.pdf"
    assert len(PdfReader(str(converted)).pages) == len(Presentation(str(out)).slides)
    folder = artifacts_dir / "pack" / "pptx"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("slide-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "72", "-png", str(converted), str(folder / "slide")], check=True,
                   capture_output=True, timeout=300)
    assert len(list(folder.glob("slide-*.png"))) == len(Presentation(str(out)).slides)
