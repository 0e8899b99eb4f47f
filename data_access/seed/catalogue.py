"""What the demo appeals are about: categories, channels, rhythms, limits, departments.

Every number here is a calibration knob of the demo generator. The shares are
chosen so that the generated data show the figures the programme reports
(Liaoning seeds in DOMAIN.md): about 95% closed within grid, community or
street; 按时办结率 around 95–97%; 满意率 around 95%; the heating season surge.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# ---------------------------------------------------------------- seasons
# Monthly multipliers, January first. A subcategory's daily volume is its
# weight times its season's multiplier for the month.
SEASONS: dict[str, tuple[float, ...]] = {
    "flat": (1,) * 12,
    # 供暖: the heating season runs 1 Nov to 31 Mar; almost nothing in summer
    "heating": (1.0, 0.85, 0.55, 0.02, 0.004, 0.003, 0.003, 0.003, 0.01, 0.10, 0.95, 1.0),
    # heating fees and 报停/开栓 applications peak before the season starts
    "heating_fee": (0.45, 0.3, 0.3, 0.08, 0.03, 0.02, 0.02, 0.05, 0.5, 1.6, 1.3, 0.6),
    "summer": (0.75, 0.75, 0.85, 1.0, 1.1, 1.2, 1.3, 1.25, 1.1, 0.95, 0.85, 0.75),
    # snow and ice
    "snow": (2.4, 2.0, 0.8, 0.05, 0.01, 0.01, 0.01, 0.01, 0.01, 0.05, 1.2, 2.2),
    "winter": (1.4, 1.3, 1.0, 0.85, 0.8, 0.8, 0.8, 0.8, 0.85, 0.95, 1.15, 1.35),
    # unpaid wages peak before the Spring Festival
    "spring_festival": (1.8, 1.3, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.85, 0.9, 1.1, 1.6),
    # school enrolment and the start of terms
    "school": (0.6, 0.9, 1.2, 0.9, 1.0, 1.2, 1.5, 1.7, 1.6, 0.8, 0.7, 0.6),
}

# Volume on a non-working day relative to a working day, per category.
NON_WORKDAY_FACTOR_DEFAULT = 0.55

HEATING_MONTHS = (11, 12, 1, 2, 3)


@dataclass(frozen=True)
class Subcategory:
    name: str
    weight: float  # relative daily volume at season multiplier 1
    season: str = "flat"
    urgent: float = 0.0  # share of urgent appeals
    consult: float = 0.0  # share of consultations
    urgent_hours: int | None = None  # overrides the category's urgent limit
    bureau: str | None = None  # district bureau key, overrides the category's
    city_dept: str | None = None  # city department key, overrides the category's


@dataclass(frozen=True)
class Category:
    name: str
    subcategories: tuple[Subcategory, ...]
    limit_days: int  # working days for a normal appeal
    urgent_hours: int  # calendar hours for an urgent appeal
    # shares of handling levels: grid, community, street, district, city
    levels: tuple[float, float, float, float, float]
    bureau: str  # district bureau key (BUREAUS)
    city_dept: str  # city department key (CITY_DEPARTMENTS)
    non_workday: float = NON_WORKDAY_FACTOR_DEFAULT
    # channel affinity: hotline, app, grid, web, police110, enterprise, mailbox
    channels: tuple[float, ...] = (1, 1, 1, 1, 1, 1, 1)
    late: float = 1.0  # multiplier of the late and stuck shares
    unsatisfied: float = 1.0  # multiplier of the unsatisfied share
    feedback_days: int = 1  # working days for the first feedback (normal urgency)


S = Subcategory

CATEGORIES: tuple[Category, ...] = (
    Category("城市管理", (
        S("路灯损坏", 3.0, "winter", urgent=0.05),
        S("井盖缺失", 1.4, urgent=0.55, urgent_hours=2),
        S("道路破损", 2.6, "summer", urgent=0.1),
        S("违章建筑", 2.2, "summer"),
        S("垃圾清运", 4.0, "summer", urgent=0.03),
        S("占道经营", 2.4, "summer"),
        S("积雪清理", 2.0, "snow", urgent=0.1),
    ), limit_days=5, urgent_hours=6, levels=(0.48, 0.19, 0.29, 0.03, 0.01), bureau="CG", city_dept="CG",
        channels=(1.0, 2.6, 2.6, 0.8, 0.3, 0.3, 0.5)),
    Category("供暖", (
        S("暖气不热", 28.0, "heating", urgent=0.08, urgent_hours=12),
        S("管道漏水", 6.0, "heating", urgent=0.55, urgent_hours=4),
        S("停暖", 4.5, "heating", urgent=0.6, urgent_hours=8),
        S("供暖收费", 3.2, "heating_fee", consult=0.35),
        S("报停开栓", 1.6, "heating_fee", consult=0.5),
    ), limit_days=3, urgent_hours=8, levels=(0.25, 0.36, 0.34, 0.02, 0.03), bureau="ZJ", city_dept="GN",
        non_workday=0.85, channels=(1.7, 0.3, 0.4, 1.0, 0.05, 0.2, 0.8), late=1.3, unsatisfied=1.3),
    Category("供水供气", (
        S("停水", 2.4, "summer", urgent=0.3, city_dept="ZLS"),
        S("水压低", 1.4, "summer", city_dept="ZLS"),
        S("水管爆裂", 1.0, "winter", urgent=0.7, urgent_hours=4, city_dept="ZLS"),
        S("燃气异味", 0.7, urgent=0.95, urgent_hours=2, city_dept="RQ"),
        S("燃气缴费", 1.1, consult=0.4, city_dept="RQ"),
        S("燃气停供", 0.6, "winter", urgent=0.3, city_dept="RQ"),
    ), limit_days=5, urgent_hours=6, levels=(0.17, 0.30, 0.46, 0.03, 0.04), bureau="ZJ", city_dept="ZLS",
        channels=(1.4, 0.5, 0.6, 1.0, 0.2, 0.8, 0.6)),
    Category("物业管理", (
        S("电梯故障", 2.0, urgent=0.3, urgent_hours=6),
        S("楼道卫生", 1.5, "summer"),
        S("物业收费", 2.0, consult=0.2),
        S("小区停车", 1.6),
        S("楼顶漏水", 1.4, "summer", urgent=0.15),
        S("物业服务态度", 0.9),
    ), limit_days=5, urgent_hours=12, levels=(0.34, 0.42, 0.22, 0.015, 0.005), bureau="ZJ", city_dept="ZJ",
        non_workday=0.75, channels=(1.2, 1.0, 1.0, 1.2, 0.2, 0.1, 1.0), late=1.2, unsatisfied=1.2),
    Category("环境保护", (
        S("噪音扰民", 3.0, "summer", urgent=0.05),
        S("油烟污染", 1.5),
        S("施工噪音", 1.5, "summer", urgent=0.05),
        S("烧烤烟尘", 0.8, "summer"),
        S("焚烧垃圾", 0.5, "winter"),
        S("污水排放", 0.7, urgent=0.1),
    ), limit_days=5, urgent_hours=12, levels=(0.40, 0.25, 0.31, 0.03, 0.01), bureau="HB", city_dept="HB",
        non_workday=0.9, channels=(1.0, 1.8, 1.5, 1.0, 1.5, 0.6, 0.8)),
    Category("交通出行", (
        S("公交线路", 1.5, consult=0.3, city_dept="GJ"),
        S("道路拥堵", 1.0),
        S("违章停车", 2.0),
        S("交通信号灯", 0.8, urgent=0.2, urgent_hours=6),
        S("出租车服务", 0.7),
    ), limit_days=5, urgent_hours=12, levels=(0.28, 0.22, 0.44, 0.04, 0.02), bureau="JT", city_dept="JT",
        channels=(1.0, 1.2, 0.7, 1.0, 2.0, 0.4, 1.0)),
    Category("市场监管", (
        S("食品安全", 1.5, urgent=0.1, urgent_hours=12),
        S("价格欺诈", 1.0),
        S("消费纠纷", 2.0),
        S("无证经营", 1.0),
        S("商品质量", 0.8),
    ), limit_days=10, urgent_hours=24, levels=(0.27, 0.22, 0.46, 0.04, 0.01), bureau="SJ", city_dept="SJ",
        non_workday=0.6, channels=(1.0, 0.8, 0.7, 1.2, 0.4, 2.5, 0.8), feedback_days=2),
    Category("劳动保障", (
        S("拖欠工资", 2.5, "spring_festival", urgent=0.05),
        S("社保缴纳", 1.2, consult=0.3),
        S("劳动合同纠纷", 0.8),
        S("失业登记", 0.5, consult=0.5),
    ), limit_days=15, urgent_hours=24, levels=(0.15, 0.32, 0.47, 0.045, 0.015), bureau="RS", city_dept="RS",
        non_workday=0.5, channels=(1.0, 0.2, 0.4, 1.5, 0.5, 2.0, 2.0), late=1.5, unsatisfied=1.5,
        feedback_days=2),
    Category("医疗卫生", (
        S("医保报销", 1.0, consult=0.4),
        S("医疗服务", 0.8),
        S("疫苗接种", 0.5, consult=0.5),
        S("卫生环境", 0.5),
        S("药品价格", 0.4),
    ), limit_days=5, urgent_hours=12, levels=(0.18, 0.45, 0.32, 0.035, 0.015), bureau="WJ", city_dept="WJ",
        non_workday=0.6, channels=(1.2, 0.3, 0.4, 1.3, 0.3, 0.3, 1.5)),
    Category("教育", (
        S("入学咨询", 1.2, "school", consult=0.6),
        S("校外培训", 0.6, "school"),
        S("校园周边安全", 0.5, urgent=0.1),
        S("教育收费", 0.5, "school"),
    ), limit_days=10, urgent_hours=24, levels=(0.16, 0.28, 0.47, 0.07, 0.02), bureau="JY", city_dept="JY",
        non_workday=0.5, channels=(1.2, 0.3, 0.3, 1.5, 0.2, 0.2, 2.0), feedback_days=2),
    Category("社会治安", (
        S("邻里纠纷", 1.5),
        S("可疑人员", 0.5, urgent=0.3, urgent_hours=2),
        S("盗窃", 0.6, urgent=0.3, urgent_hours=4),
        S("电信诈骗", 0.5, urgent=0.2, urgent_hours=4),
        S("打架斗殴", 0.4, urgent=0.6, urgent_hours=2),
    ), limit_days=5, urgent_hours=4, levels=(0.44, 0.30, 0.23, 0.025, 0.005), bureau="GA", city_dept="GA",
        non_workday=1.0, channels=(0.7, 0.5, 1.5, 0.6, 8.0, 0.3, 0.5)),
    Category("民政救助", (
        S("低保申请", 1.2, consult=0.3),
        S("临时救助", 0.6, urgent=0.1, urgent_hours=24),
        S("养老服务", 0.7),
        S("残疾人补贴", 0.5, consult=0.3),
    ), limit_days=10, urgent_hours=24, levels=(0.30, 0.46, 0.22, 0.015, 0.005), bureau="MZ", city_dept="MZ",
        non_workday=0.55, channels=(1.0, 0.2, 2.5, 1.0, 0.2, 0.1, 1.5), feedback_days=2),
    Category("政策咨询", (
        S("户籍办理", 1.5, consult=0.85, bureau="GA", city_dept="GA"),
        S("社保政策", 1.2, consult=0.85, bureau="RS", city_dept="RS"),
        S("住房政策", 1.2, consult=0.85, bureau="ZJ", city_dept="ZJ"),
        S("惠企政策", 0.8, consult=0.8),
        S("办事指南", 2.0, consult=0.9),
        S("住房公积金", 1.0, consult=0.85, city_dept="GJJ"),
    ), limit_days=5, urgent_hours=24, levels=(0.20, 0.42, 0.35, 0.02, 0.01), bureau="ZW", city_dept="ZW",
        non_workday=0.45, channels=(1.4, 0.2, 0.3, 1.3, 0.1, 3.0, 1.0)),
)
del S

CATEGORY_NAMES = tuple(c.name for c in CATEGORIES)

# ---------------------------------------------------------------- channels
CHANNEL_CODES = ("hotline", "app", "grid", "web", "police110", "enterprise", "mailbox")
# overall channel mix the generator calibrates to
CHANNEL_MIX = (0.45, 0.15, 0.18, 0.10, 0.05, 0.04, 0.03)
# channel volume on a non-working day relative to a working day (before the
# mix is re-calibrated): grid workers and enterprises mostly work on workdays
CHANNEL_NON_WORKDAY = (1.1, 1.3, 0.35, 1.0, 1.3, 0.3, 0.8)

# Hour-of-day profiles (relative volume for hours 0..23) per channel.
HOURS: dict[str, tuple[float, ...]] = {
    # 24 h, peaks mid-morning and mid-afternoon
    "hotline": (0.30, 0.18, 0.12, 0.10, 0.10, 0.18, 0.45, 1.2, 2.6, 3.4, 3.5, 2.8,
                1.7, 2.3, 3.1, 3.2, 2.8, 2.0, 1.5, 1.4, 1.3, 1.0, 0.7, 0.45),
    "app": (0.05, 0.02, 0.01, 0.01, 0.01, 0.05, 0.4, 1.2, 2.0, 2.4, 2.4, 2.1,
            1.6, 1.8, 2.2, 2.2, 2.0, 1.9, 1.9, 2.0, 1.8, 1.2, 0.5, 0.2),
    # patrol reports: daytime working hours only (08:00–17:59)
    "grid": (0, 0, 0, 0, 0, 0, 0, 0, 2.0, 3.2, 3.2, 2.0, 0.5, 1.6, 3.0, 3.0, 2.4, 0.8,
             0, 0, 0, 0, 0, 0),
    "web": (0.4, 0.2, 0.1, 0.05, 0.05, 0.1, 0.3, 0.8, 1.5, 2.0, 2.0, 1.8, 1.4, 1.6, 1.9,
            1.9, 1.8, 1.6, 1.6, 1.9, 2.2, 2.2, 1.6, 0.9),
    # 110: round the clock, evening peak
    "police110": (1.2, 0.9, 0.7, 0.5, 0.4, 0.4, 0.6, 0.9, 1.2, 1.4, 1.5, 1.5, 1.4, 1.4,
                  1.5, 1.5, 1.6, 1.8, 2.0, 2.2, 2.3, 2.2, 1.9, 1.5),
    "enterprise": (0, 0, 0, 0, 0, 0, 0, 0.1, 2.0, 3.0, 3.0, 2.4, 0.8, 1.8, 2.8, 2.8, 2.2,
                   0.8, 0.2, 0.1, 0.05, 0, 0, 0),
    "mailbox": (0.5, 0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 0.7, 1.2, 1.6, 1.6, 1.4, 1.3, 1.4, 1.5,
                1.5, 1.4, 1.3, 1.4, 1.7, 2.0, 2.0, 1.6, 1.0),
}

# share of appeals without a location (lon/lat NULL) per channel
NO_LOCATION = {"hotline": 0.016, "web": 0.02, "police110": 0.01, "enterprise": 0.02, "mailbox": 0.03,
               "app": 0.0, "grid": 0.0}

# ---------------------------------------------------------------- limits
FEEDBACK_URGENT_HOURS = 2  # urgent appeals get a first feedback within 2 h
CONSULT_DAYS = 1  # a consultation is answered within 1 working day
NO_DEADLINE_SHARE = 0.01  # appeals recorded without any time limit

# ---------------------------------------------------------------- handling
HANDLING_LEVELS = ("grid", "community", "street", "district", "city")
# share of appeals, per handling level, closed late (a little) and stuck (long)
LATE_SHARE = (0.015, 0.02, 0.028, 0.06, 0.07)
STUCK_SHARE = (0.008, 0.011, 0.015, 0.04, 0.05)
# Beta(a, b) of the share of the allowed time used by on-time appeals
ONTIME_BETA = ((1.1, 2.8), (1.4, 2.4), (1.8, 2.0), (2.3, 1.6), (2.5, 1.5))
CANCEL_SHARE = 0.015
FEEDBACK_LATE_SHARE = 0.04
RATED_SHARE = 0.85
# satisfied, basic, unsatisfied for appeals closed on time and late
SATISFACTION_ONTIME = (0.875, 0.09, 0.035)
SATISFACTION_LATE = (0.5, 0.22, 0.28)
REPEAT_SHARE = 0.065
REPEAT_SAME_PERSON = 0.75
SUPERVISE_LATE = 0.5
SUPERVISE_UNSATISFIED = 0.45
SUPERVISE_RANDOM = 0.003

# ---------------------------------------------------------------- hotspots
# categories prone to persistent (stable) hotspots, with weights and rate factors
STABLE_HOTSPOT_CATEGORIES = {"供暖": 0.35, "物业管理": 0.2, "城市管理": 0.2, "环境保护": 0.15, "市场监管": 0.1}
STABLE_HOTSPOT_SHARE = 0.04  # of grids
STABLE_HOTSPOT_FACTOR = (3.0, 7.0)

# emerging surges: category, the subcategories the extra appeals fall in, and
# whether the surge needs the heating season
SURGES: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("供暖", ("暖气不热", "停暖"), True),
    ("环境保护", ("噪音扰民", "施工噪音"), False),
    ("城市管理", ("垃圾清运", "占道经营"), False),
    ("供水供气", ("停水", "水压低"), False),
    ("物业管理", ("电梯故障", "楼道卫生"), False),
    ("市场监管", ("食品安全", "消费纠纷"), False),
    ("交通出行", ("违章停车", "道路拥堵"), False),
)
SURGE_EXTRA = (25, 60)  # extra appeals per surge, both included
SURGE_COUNT = (3, 5)

# ---------------------------------------------------------------- departments
# district bureaus: key -> name suffix after the district name
BUREAUS = {
    "CG": "城市管理局",
    "ZJ": "住房和城乡建设局",
    "HB": "生态环境分局",
    "JT": "交通运输局",
    "SJ": "市场监督管理局",
    "RS": "人力资源和社会保障局",
    "WJ": "卫生健康局",
    "JY": "教育局",
    "GA": "公安分局",
    "MZ": "民政局",
    "ZW": "政务服务中心",
}
# city departments and enterprises: key -> name suffix after the city name
CITY_DEPARTMENTS = {
    "GN": "供暖办",
    "ZLS": "自来水公司",
    "RQ": "燃气公司",
    "CG": "城市管理综合行政执法局",
    "ZJ": "住房和城乡建设局",
    "HB": "生态环境局",
    "JT": "交通运输局",
    "GJ": "公交集团",
    "SJ": "市场监督管理局",
    "RS": "人社局",
    "WJ": "卫生健康委员会",
    "JY": "教育局",
    "GA": "公安局",
    "MZ": "民政局",
    "ZW": "营商环境建设局",
    "GJJ": "住房公积金管理中心",
}


# ---------------------------------------------------------------- flat tables
@dataclass(frozen=True)
class Tables:
    """The catalogue as arrays indexed by subcategory (for vectorised draws)."""

    sub_names: tuple[str, ...]
    sub_category: np.ndarray  # category index per subcategory
    sub_weight: np.ndarray
    sub_season: np.ndarray  # (n_sub, 12) monthly multipliers
    sub_urgent: np.ndarray
    sub_consult: np.ndarray
    sub_urgent_hours: np.ndarray
    sub_bureau: tuple[str, ...]
    sub_city_dept: tuple[str, ...]
    cat_limit_days: np.ndarray
    cat_feedback_days: np.ndarray
    cat_levels: np.ndarray  # (n_cat, 5)
    cat_non_workday: np.ndarray
    cat_channels: np.ndarray  # (n_cat, 7) affinities
    cat_late: np.ndarray
    cat_unsatisfied: np.ndarray
    sub_index: dict = field(default_factory=dict)  # (category, subcategory) -> index


def tables() -> Tables:
    subs = [(ci, s) for ci, c in enumerate(CATEGORIES) for s in c.subcategories]
    return Tables(
        sub_names=tuple(s.name for _, s in subs),
        sub_category=np.array([ci for ci, _ in subs], dtype=np.int64),
        sub_weight=np.array([s.weight for _, s in subs], dtype=float),
        sub_season=np.array([SEASONS[s.season] for _, s in subs], dtype=float),
        sub_urgent=np.array([s.urgent for _, s in subs]),
        sub_consult=np.array([s.consult for _, s in subs]),
        sub_urgent_hours=np.array([s.urgent_hours or CATEGORIES[ci].urgent_hours for ci, s in subs],
                                  dtype=np.int64),
        sub_bureau=tuple(s.bureau or CATEGORIES[ci].bureau for ci, s in subs),
        sub_city_dept=tuple(s.city_dept or CATEGORIES[ci].city_dept for ci, s in subs),
        cat_limit_days=np.array([c.limit_days for c in CATEGORIES], dtype=np.int64),
        cat_feedback_days=np.array([c.feedback_days for c in CATEGORIES], dtype=np.int64),
        cat_levels=np.array([c.levels for c in CATEGORIES], dtype=float),
        cat_non_workday=np.array([c.non_workday for c in CATEGORIES]),
        cat_channels=np.array([c.channels for c in CATEGORIES], dtype=float),
        cat_late=np.array([c.late for c in CATEGORIES]),
        cat_unsatisfied=np.array([c.unsatisfied for c in CATEGORIES]),
        sub_index={(CATEGORIES[ci].name, s.name): i for i, (ci, s) in enumerate(subs)},
    )


def channel_given_category(cat_volume: np.ndarray, iterations: int = 200) -> np.ndarray:
    """P(channel | day type, category), calibrated to ``CHANNEL_MIX``.

    ``cat_volume`` is the expected volume per (day type, category), day type 0
    a working day and 1 a non-working day. Returns a (2, n_cat, n_channel)
    array. Each row is proportional to base × category affinity × day-type
    factor; the base is fitted (iterative proportional fitting) so that the
    expected overall channel mix equals ``CHANNEL_MIX``.
    """
    affinity = np.array([c.channels for c in CATEGORIES], dtype=float)
    day = np.array([np.ones(len(CHANNEL_CODES)), CHANNEL_NON_WORKDAY], dtype=float)
    target = np.array(CHANNEL_MIX, dtype=float)
    target = target / target.sum()
    base = target.copy()
    total = cat_volume.sum()
    for _ in range(iterations):
        raw = base[None, None, :] * affinity[None, :, :] * day[:, None, :]
        cond = raw / raw.sum(axis=2, keepdims=True)
        mix = (cond * cat_volume[:, :, None]).sum(axis=(0, 1)) / total
        base = base * target / mix
    raw = base[None, None, :] * affinity[None, :, :] * day[:, None, :]
    return raw / raw.sum(axis=2, keepdims=True)
