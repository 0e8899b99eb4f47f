"""Synthetic people and places: names, phone numbers, roads, estates, shops.

Draws are vectorised (index arrays from a numpy Generator); strings are only
assembled at the end, per row.
"""

from __future__ import annotations

import numpy as np

# Common surnames with rough frequencies (per cent) in north-east China.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.6), ("李", 7.4), ("张", 7.2), ("刘", 6.0), ("陈", 3.2), ("杨", 3.1), ("赵", 2.6),
    ("孙", 2.2), ("于", 1.3), ("周", 1.6), ("吴", 1.5), ("徐", 1.4), ("马", 1.5), ("朱", 1.1),
    ("胡", 1.1), ("郭", 1.3), ("高", 1.3), ("林", 0.8), ("何", 0.8), ("黄", 1.2), ("韩", 0.9),
    ("冯", 0.7), ("宋", 0.8), ("曹", 0.6), ("董", 0.7), ("田", 0.6), ("姜", 0.7), ("崔", 0.6),
    ("谢", 0.5), ("郑", 0.7), ("梁", 0.6), ("唐", 0.5), ("许", 0.6), ("邓", 0.4), ("彭", 0.4),
    ("曾", 0.3), ("肖", 0.4), ("袁", 0.4), ("潘", 0.3), ("蒋", 0.3), ("蔡", 0.3), ("杜", 0.4),
    ("程", 0.4), ("苏", 0.4), ("魏", 0.5), ("吕", 0.4), ("丁", 0.4), ("任", 0.4), ("沈", 0.3),
    ("姚", 0.3), ("卢", 0.3), ("钟", 0.2), ("陆", 0.2), ("范", 0.3), ("金", 0.4), ("石", 0.3),
    ("贾", 0.3), ("付", 0.4), ("方", 0.2), ("白", 0.3), ("孟", 0.3), ("秦", 0.2), ("尹", 0.2),
    ("薛", 0.2), ("闫", 0.3), ("段", 0.2), ("侯", 0.3), ("史", 0.2), ("郝", 0.2), ("邵", 0.2),
    ("常", 0.2), ("关", 0.3), ("佟", 0.15), ("鲁", 0.15), ("包", 0.1), ("那", 0.05), ("欧阳", 0.03),
)

GIVEN_MALE = tuple("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁峰海东亮林建国志文浩宇晨博龙成俊健凯")
GIVEN_FEMALE = tuple("丽娟敏静艳芳娜秀英霞红玲梅燕雪琳颖婷慧欣怡佳悦晶洁丹莉萍倩蕾月春")

PHONE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147", "150",
    "151", "152", "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177",
    "178", "180", "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "198", "199",
)

ROAD_ROOTS = tuple(
    "胜利 建国 和平 光明 解放 人民 钢都 园林 友好 民生 新华 东山 湖南 健身 山南 对炉 站前 "
    "青年 千山 五一 二一九 烈士山 深沟寺 铁西 永乐 繁荣 长甸 共和 宁远 立山 曙光 灵山 "
    "鞍千 天峰 腾鳌 齐大山 红旗 园丁 幸福 团结 跃进 工农 矿山 太平 北华 南华 越岭 宏伟".split()
)
ROAD_SUFFIXES = ("路", "街", "大道", "北路", "南路", "东路", "西路", "二道街")

ESTATE_ROOTS = tuple(
    "阳光 幸福 和平 园林 钢都 胜利 建设 湖南 东山 新华 明达 万象 锦绣 金色 绿城 翠湖 "
    "海城 祥和 温馨 富丽 康乐 怡园 鑫苑 华府 星河 世纪 紫薇 丽景 春和 馨园 "
    "玉兰 兴盛 嘉园 逸景 宝利 保利 恒大 碧桂 金地 融创".split()
)
ESTATE_SUFFIXES = ("小区", "花园", "家园", "里", "新村", "公寓", "苑", "嘉园", "雅居", "佳苑")

SHOP_NAMES = tuple(
    "老王烧烤 鑫源超市 红旗菜市场 兴隆大家庭 小刘面馆 好邻居便利店 东北大骨头 福满楼饭店 "
    "万家福超市 金鼎KTV 鸿运洗浴 大众药房 天天水果 便民早市 百姓餐馆 老四川火锅 "
    "惠民超市 喜家德水饺 鑫鑫汽修 时代网吧".split()
)
COMPANY_WORDS = tuple("鑫达 恒泰 宏远 盛世 金鼎 华晟 东方 鼎盛 兴隆 瑞丰 永信 天成 博远 中联 安达".split())
COMPANY_KINDS = ("建筑工程有限公司", "物业服务有限公司", "装饰工程有限公司", "商贸有限公司",
                 "机械制造有限公司", "餐饮管理有限公司", "劳务派遣有限公司", "钢结构有限公司")


def surname_probabilities() -> np.ndarray:
    w = np.array([f for _, f in SURNAMES], dtype=float)
    return w / w.sum()


def draw_people(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Index arrays describing ``n`` people (name parts and phone number)."""
    return {
        "surname": rng.choice(len(SURNAMES), size=n, p=surname_probabilities()).astype(np.int16),
        "female": rng.random(n) < 0.52,
        "two_chars": rng.random(n) < 0.72,
        "g1": rng.integers(0, 1 << 15, size=n, dtype=np.int32),
        "g2": rng.integers(0, 1 << 15, size=n, dtype=np.int32),
        "prefix": rng.integers(0, len(PHONE_PREFIXES), size=n, dtype=np.int16),
        "number": rng.integers(0, 100_000_000, size=n, dtype=np.int64),
    }


def name_strings(people: dict[str, np.ndarray], rows: np.ndarray | None = None) -> list[str]:
    """Full names of the people (all, or those at ``rows``)."""
    sel = (lambda a: a) if rows is None else (lambda a: a[rows])
    sur = [SURNAMES[i][0] for i in sel(people["surname"]).tolist()]
    female = sel(people["female"]).tolist()
    two = sel(people["two_chars"]).tolist()
    g1 = sel(people["g1"]).tolist()
    g2 = sel(people["g2"]).tolist()
    nm, nf = len(GIVEN_MALE), len(GIVEN_FEMALE)
    out = []
    for s, f, t, a, b in zip(sur, female, two, g1, g2):
        pool, k = (GIVEN_FEMALE, nf) if f else (GIVEN_MALE, nm)
        out.append(s + pool[a % k] + pool[b % k] if t else s + pool[a % k])
    return out


def phone_strings(people: dict[str, np.ndarray], rows: np.ndarray | None = None) -> list[str]:
    prefix = people["prefix"] if rows is None else people["prefix"][rows]
    number = people["number"] if rows is None else people["number"][rows]
    return [f"{PHONE_PREFIXES[p]}{n:08d}" for p, n in zip(prefix.tolist(), number.tolist())]


def road_pool(rng: np.random.Generator, n_places: int, per_place: int = 6) -> list[list[str]]:
    """A few road names for each of ``n_places`` places (streets)."""
    roots = rng.integers(0, len(ROAD_ROOTS), size=(n_places, per_place))
    sufs = rng.integers(0, len(ROAD_SUFFIXES), size=(n_places, per_place))
    return [[ROAD_ROOTS[r] + ROAD_SUFFIXES[s] for r, s in zip(rr, ss)]
            for rr, ss in zip(roots.tolist(), sufs.tolist())]


def estate_pool(rng: np.random.Generator, n_places: int, per_place: int = 5) -> list[list[str]]:
    """A few residential estate (小区) names for each of ``n_places`` communities."""
    roots = rng.integers(0, len(ESTATE_ROOTS), size=(n_places, per_place))
    sufs = rng.integers(0, len(ESTATE_SUFFIXES), size=(n_places, per_place))
    return [[ESTATE_ROOTS[r] + ESTATE_SUFFIXES[s] for r, s in zip(rr, ss)]
            for rr, ss in zip(roots.tolist(), sufs.tolist())]


def worker_names(rng: np.random.Generator, n: int) -> list[str]:
    """Names of ``n`` staff (grid workers)."""
    return name_strings(draw_people(rng, n))
