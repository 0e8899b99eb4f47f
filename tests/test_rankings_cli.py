"""``python -m data_access weights``: show the 红黑榜's weights, --set them (normalised, validated, audited)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from data_access import audit_queries, cli, ranking_weights, schema


@pytest.fixture
def run(sor, capsys):
    url = str(sor.url)

    def go(*args):
        try:
            status = cli.main(["weights", *args, "--db", url])
        except SystemExit as exc:  # argparse refusals
            status = exc.code
        out, err = capsys.readouterr()
        return status, out, err

    return go


def _audit(engine) -> list:
    a = schema.audit_log
    with engine.connect() as conn:
        return conn.execute(select(a).where(a.c.action == "ranking_weights_set").order_by(a.c.id)).all()


def test_show_prints_the_defaults_until_weights_are_stored(run):
    status, out, _ = run()
    assert status == 0
    assert "defaults: none stored" in out
    assert "30.0%" in out and "40.0%" in out and "ranked from 10 valid appeals" in out
    status, out, _ = run("--json")
    assert status == 0 and json.loads(out) == {"completion": 0.3, "on_time": 0.4, "satisfaction": 0.3,
                                               "min_appeals": 10, "source": "default", "changed_by": None,
                                               "changed_at": None}


def test_set_stores_normalised_weights_with_who_and_when_and_an_audit_entry(run, sor):
    status, out, err = run("--set", "--completion", "2", "--on-time", "1", "--satisfaction", "1",
                           "--min-appeals", "6", "--json")
    assert status == 0, err
    assert "normalised to add up to 1" in err and "added up to 4" in err
    shown = json.loads(out)
    assert (shown["completion"], shown["on_time"], shown["satisfaction"], shown["min_appeals"]) == (0.5, 0.25, 0.25, 6)
    assert shown["source"] == "stored" and shown["changed_by"] == "cli" and shown["changed_at"]
    stored = ranking_weights.load(sor)
    assert (stored.completion, stored.on_time, stored.satisfaction, stored.min_appeals) == (0.5, 0.25, 0.25, 6)
    assert json.loads(run("--json")[1]) == shown  # show reads back what was stored
    audit = _audit(sor)
    assert len(audit) == 1 and audit[0].actor == "cli"
    sentence = audit_queries.describe(audit[0].action, audit[0].target, None, audit[0].detail)
    assert sentence.startswith("修改红黑榜权重") and "办结率 50.0%" in sentence and "少于 6 件" in sentence
    assert "原为默认值" in sentence and "少于 10 件" in sentence


def test_set_min_appeals_alone_keeps_the_weights(run, sor):
    assert run("--set", "--completion", "0.2", "--on-time", "0.5", "--satisfaction", "0.3")[0] == 0
    status, out, err = run("--set", "--min-appeals", "3")
    assert status == 0, err
    assert "normalised" not in err
    stored = ranking_weights.load(sor)
    assert (stored.completion, stored.on_time, stored.satisfaction, stored.min_appeals) == pytest.approx(
        (0.2, 0.5, 0.3, 3))
    assert "20.0%" in out and "ranked from 3 valid appeals" in out
    assert len(_audit(sor)) == 2


@pytest.mark.parametrize("args, message", [
    (["--set", "--completion", "-0.1", "--on-time", "0.6", "--satisfaction", "0.5"], "--completion must be 0 or more"),
    (["--set", "--completion", "0", "--on-time", "0", "--satisfaction", "0"], "add up to 0"),
    (["--set", "--completion", "nan", "--on-time", "1", "--satisfaction", "1"], "--completion must be a number"),
    (["--set", "--completion", "0.5"], "give all three weights together (missing --on-time, --satisfaction)"),
    (["--set"], "give the three weights"),
    (["--set", "--min-appeals", "0"], "--min-appeals must be a whole number from 1"),
    (["--completion", "0.5", "--on-time", "0.3", "--satisfaction", "0.2"], "to change the weights, add --set"),
    (["--min-appeals", "5"], "to change the weights, add --set"),
])
def test_set_refuses_what_cannot_be_stored_and_stores_nothing(run, sor, args, message):
    status, out, err = run(*args)
    assert status == 2
    assert message in err and not out
    assert ranking_weights.load(sor) == ranking_weights.DEFAULTS
    assert not _audit(sor)


def test_a_weight_that_is_no_number_is_refused_by_the_parser(run):
    status, _, err = run("--set", "--completion", "much", "--on-time", "1", "--satisfaction", "1")
    assert status == 2 and "invalid float value" in err
