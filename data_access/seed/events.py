"""The event log (appeal_events) of a chunk of demo appeals.

Every appeal gets an accept event; then, as far as they happened by ``end``:
dispatch, pause, resume and extend (``pauses``), feedback, handle (closing;
for cancelled appeals a note saying why), rate, and the events of its
supervisions as the live writes log them: supervise (late, unsatisfied, long
stuck, leaders' picks), escalate (automatic escalations) and answer (see
``supervision``).
Events are ordered by appeal, then time. Actors are staff, centres and
departments; never the appellant.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..supervision import SYSTEM_ACTOR, answer_note, escalate_note, event_note, replaced_note
from . import catalogue as cat
from . import texts
from .outcomes import SAT_UNSATISFIED, STATUS_CANCELLED, STATUS_CLOSED
from .pauses import events as pause_events
from .places import Places
from .supervision import plan_supervisions

EPOCH = dt.datetime(1970, 1, 1)

EVENT_RANK = {"accept": 0, "dispatch": 1, "supervise": 2, "escalate": 2, "pause": 2, "resume": 2, "extend": 2,
              "feedback": 3, "handle": 4, "rate": 5, "answer": 6}
SATISFACTION_CODES = ("satisfied", "basic", "unsatisfied")
SATISFACTION_LABELS = ("满意", "基本满意", "不满意")
CHANNEL_LABELS = {"hotline": "8890热线", "web": "民心网", "app": "随手拍", "grid": "网格员上报",
                  "enterprise": "企业诉求", "police110": "110联动", "mailbox": "领导信箱"}
# channels dispatched by the city's 8890 centre; the others by the district command centre
CITY_DISPATCHED = {"hotline", "web", "mailbox", "police110"}


def _when(seconds: int) -> dt.datetime:
    return EPOCH + dt.timedelta(seconds=int(seconds))


def supervision_events(sup: dict, first_id: int, answerers: list) -> list[tuple]:
    """The events of a chunk's supervision rows, as the live writes log them.

    * a row a person started: ``supervise`` by its supervisor (naming the open
      supervision it replaces, if any);
    * an automatic escalation: ``escalate`` by ``系统自动升级``, naming the row left unanswered;
    * an answered row: ``answer`` at its answer time, by the department (``answerers[row]``).

    Row ``k`` of ``sup`` has the id ``first_id + k``.
    """
    created, due, parent = sup["created"], sup["due"], sup["parent"]
    kinds = {"supervise": ([], [], [], []), "escalate": ([], [], [], []), "answer": ([], [], [], [])}

    def add(kind, row, at, actor, note):
        rows, ats, actors, notes = kinds[kind]
        rows.append(row)
        ats.append(at)
        actors.append(actor)
        notes.append(note)

    for k, row in enumerate(sup["row"]):
        level, p = sup["level"][k], parent[k]
        if sup["supervisor"][k] == SYSTEM_ACTOR and p >= 0:
            add("escalate", row, created[k], SYSTEM_ACTOR,
                escalate_note(sup["level"][p], first_id + p, _when(due[p]), level, first_id + k, _when(due[k])))
        else:
            note = event_note(level, sup["reason"][k], _when(due[k]))
            if p >= 0:
                note += replaced_note([(sup["level"][p], first_id + p)])
            add("supervise", row, created[k], sup["supervisor"][k], note)
        if sup["status"][k] == "answered":
            at = sup["answered"][k]
            add("answer", row, at, answerers[row],
                answer_note(level, first_id + k, sup["answer"][k], late=at > due[k]))
    return [(np.asarray(rows, dtype=np.int64), kind, np.asarray(ats, dtype=np.int64), actors, notes)
            for kind, (rows, ats, actors, notes) in kinds.items()]


def _pick(rng: np.random.Generator, options: tuple[str, ...], n: int) -> list[str]:
    idx = rng.integers(0, len(options), n)
    return [options[i] for i in idx.tolist()]


def build_events(rng: np.random.Generator, b: dict, places: Places, tables: cat.Tables, *,
                 sup_rng: np.random.Generator, end_s: int, first_supervision_id: int = 1) -> dict:
    """Events of the chunk: 'row' (appeal row), 'type', 'at' (seconds), 'actor', 'note'; and
    'supervisions', the chunk's supervision rows (``supervision.plan_supervisions``, drawn from ``sup_rng``),
    which will be written with ids ``first_supervision_id``, ``first_supervision_id + 1``, …"""
    n = len(b["created"])
    grid = b["grid"]
    city_name = np.array(places.level_names["city"], dtype=object)[places.grid_ancestor["city"][grid]]
    district_name = np.array(places.level_names["district"], dtype=object)[
        places.grid_ancestor["district"][grid]]
    channel = [cat.CHANNEL_CODES[c] for c in b["channel"].tolist()]
    dept = b["dept"]
    dept_name = np.where(dept >= 0, places.dept_names[np.maximum(dept, 0)], None)
    centre = [f"{c}8890便民服务中心" if ch in CITY_DISPATCHED else f"{d}综合指挥中心"
              for c, d, ch in zip(city_name.tolist(), district_name.tolist(), channel)]
    parts: list[tuple[np.ndarray, str, np.ndarray, list, list]] = []

    def add(mask: np.ndarray, kind: str, at: np.ndarray, actor, note) -> None:
        rows = np.flatnonzero(mask)
        parts.append((rows, kind, at[rows], actor(rows), note(rows)))

    ops = rng.integers(1, 200, n).tolist()
    workers = places.grid_workers

    def accept_actor(rows):
        out = []
        for i in rows.tolist():
            ch = channel[i]
            if ch == "hotline":
                out.append(f"8890话务员{ops[i]:04d}")
            elif ch == "web":
                out.append(f"民心网受理员{ops[i]:03d}")
            elif ch == "app":
                out.append(f"{city_name[i]}随手拍平台")
            elif ch == "grid":
                out.append(f"网格员{workers[grid[i]]}")
            elif ch == "police110":
                out.append(f"{city_name[i]}公安局110指挥中心")
            elif ch == "enterprise":
                out.append(f"{district_name[i]}营商环境服务中心")
            else:
                out.append(f"{city_name[i]}市长信箱办公室")
        return out

    sub_names, urgency = tables.sub_names, b["urgency"].tolist()
    cat_names = cat.CATEGORY_NAMES
    category, sub = b["category"].tolist(), b["sub"].tolist()
    urgency_words = ("紧急", "一般", "咨询")

    def accept_note(rows):
        return [f"{CHANNEL_LABELS[channel[i]]}受理，{cat_names[category[i]]}/{sub_names[sub[i]]}，"
                f"{urgency_words[urgency[i]]}件" for i in rows.tolist()]

    add(np.ones(n, dtype=bool), "accept", b["created"], accept_actor, accept_note)

    deadline_text = np.datetime_as_string(np.maximum(b["deadline"], 0).astype("datetime64[s]"), unit="m")

    def dispatch_note(rows):
        out = []
        for i in rows.tolist():
            s = f"分流交办至{dept_name[i]}"
            if urgency[i] == 0:
                s += "，按紧急件办理"
            if b["deadline"][i] >= 0:
                s += "，办理时限" + deadline_text[i].replace("T", " ")
            out.append(s)
        return out

    disp = b["dispatched"]
    add(disp >= 0, "dispatch", disp, lambda r: [centre[i] for i in r.tolist()], dispatch_note)

    fb, closed_at = b["feedback"], b["closed_at"]
    at_close = (fb == closed_at)
    fb_notes = _pick(rng, texts.FEEDBACK_NOTES, n)
    fb_close_notes = _pick(rng, texts.FEEDBACK_AT_CLOSE_NOTES, n)
    add(fb >= 0, "feedback", fb, lambda r: dept_name[r].tolist(),
        lambda r: [fb_close_notes[i] if at_close[i] else fb_notes[i] for i in r.tolist()])

    status = b["status"]
    pick = rng.integers(0, 6, n).tolist()

    def handle_note(rows):
        out = []
        for i in rows.tolist():
            notes = texts.HANDLE_NOTES.get(sub_names[sub[i]], texts.DEFAULT_HANDLE_NOTE)
            out.append(notes[pick[i] % len(notes)])
        return out

    add(status == STATUS_CLOSED, "handle", closed_at, lambda r: dept_name[r].tolist(), handle_note)
    cancel_notes = _pick(rng, texts.CANCEL_NOTES, n)
    add(status == STATUS_CANCELLED, "handle", closed_at,
        lambda r: [dept_name[i] if dept_name[i] is not None else centre[i] for i in r.tolist()],
        lambda r: [cancel_notes[i] for i in r.tolist()])

    sat = b["satisfaction"]
    callers = rng.integers(1, 120, n).tolist()
    add(b["rated_at"] >= 0, "rate", b["rated_at"],
        lambda r: [f"8890回访员{callers[i]:03d}" for i in r.tolist()],
        lambda r: ["回访评价：" + SATISFACTION_LABELS[sat[i]] + ("，诉求人表示问题未解决" if sat[i] == SAT_UNSATISFIED else "")
                   for i in r.tolist()])

    # supervision (督办): one row per request as far as the rules allow (seed/supervision.py), and the
    # events the live writes log (data_access/supervision.py): a supervise event for each row a person
    # started, an escalate event for each automatic escalation, an answer event for each answer (the
    # reasons are drawn from rng as they always were)
    reasons = {key: _pick(rng, notes, n) for key, notes in (
        ("sup_late", texts.SUPERVISE_LATE_NOTES), ("sup_escalate", texts.SUPERVISE_ESCALATE_NOTES),
        ("sup_unsat", texts.SUPERVISE_UNSATISFIED_NOTES), ("sup_random", texts.SUPERVISE_RANDOM_NOTES))}
    sup = plan_supervisions(sup_rng, b, places, reasons, end_s)
    parts.extend(supervision_events(sup, first_supervision_id,
                                    [dept_name[i] if dept_name[i] is not None else centre[i] for i in range(n)]))

    if "pause_at" in b:  # pauses and extensions (seed/pauses.py)
        parts.extend(pause_events(b, dept_name))

    rows = np.concatenate([p[0] for p in parts])
    at = np.concatenate([p[2] for p in parts])
    rank = np.concatenate([np.full(len(p[0]), EVENT_RANK[p[1]]) for p in parts])
    kinds = [p[1] for p in parts for _ in range(len(p[0]))]
    actors = [a for p in parts for a in p[3]]
    notes = [x for p in parts for x in p[4]]
    order = np.lexsort((rank, at, rows))
    ol = order.tolist()
    return {"row": rows[order], "at": at[order], "type": [kinds[i] for i in ol],
            "actor": [actors[i] for i in ol], "note": [notes[i] for i in ol], "supervisions": sup}
