"""Fictional but realistic Chinese names for generated streets, communities and grids.

Names only have to be unique among siblings (real Liaoning has many a 和平街道
and 胜利社区 in different districts). All choices go through the caller's
``numpy.random.Generator`` so they are deterministic.
"""

from __future__ import annotations

import numpy as np

# Two-character words for urban streets (街道) and residential communities (社区).
URBAN_WORDS: tuple[str, ...] = tuple(dict.fromkeys("""
和平 胜利 园林 建国 光明 曙光 长青 湖南 新华 友谊 站前 东山 旭日 钢都 铁西 繁荣
民生 永乐 福安 兴盛 解放 人民 建设 新兴 前进 红旗 东风 向阳 朝阳 太平 长安 安平
安乐 和顺 和睦 康乐 幸福 吉祥 如意 富民 兴华 振兴 复兴 文化 文明 育才 春光 春晖
秋实 丰收 金秋 金桥 银河 星光 星火 明珠 翠园 翠湖 绿洲 绿园 青年 青山 青松 松山
松林 柏林 桃园 杏林 梨园 枫林 桂园 兰亭 菊苑 梅园 莲花 荷花 牡丹 玉兰 紫竹 海棠
凤凰 龙泉 龙山 虎山 鹤鸣 燕山 鹏程 锦华 锦绣 华丰 华兴 华山 泰山 泰和 恒山 嵩山
衡山 秀水 清水 碧水 东湖 西湖 南湖 北湖 东站 南站 北站 西站 东城 西城 南城 北城
中华 中兴 城中 新城 新开 新民 新风 新园 新生 五一 七一 八一 工人 工农 矿山 钢城
铁路 电业 化工 机电 纺织 港湾 滨河 滨江 沿河 河畔 湖滨 山水 山城 望山 望湖 观山
临江 临湖 宏伟 宏达 宏业 昌盛 隆昌 鼎盛 百合 春风 阳光 蓝天 白云 晨光 朝晖 晓光
黎明 启明 北斗 群英 英华 育英 求实 学府 书香 园丁 铁东 立山 千山 山南 旧堡 长甸
对炉 灵山 齐大 深沟 宁远 首山 烈士 公园 道岭 钢铁 八家 矿工 平安 祥和 瑞丰 润泽
惠民 益民 利民 安居 乐业 怡园 颐和 馨园 雅苑 景园 锦园 铭园 聚福 福泽 福寿 康宁
""".split()))

# Extra endings that multiply the community-name pool (胜利里社区, 园林新村社区 ...).
_COMMUNITY_ENDINGS: tuple[str, ...] = ("", "", "", "里", "园", "新村", "花园", "家园", "东", "西", "南", "北")

SURNAMES: tuple[str, ...] = tuple(dict.fromkeys("""
张 王 李 赵 刘 陈 杨 黄 周 吴 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓
曹 彭 曾 田 董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范
金 石 廖 贾 夏 付 方 白 邹 孟 秦 邱 江 尹 薛 闫 段 雷 侯 龙 史 陶 贺 顾 毛 郝 龚 邵 万
钱 严 武 戴 孔 汤 关 佟 那 鲍 富 常 苗 耿 单 温 牛 齐 柴 葛 岳 隋 宫
""".split()))

# Village / township place-name endings after a surname (张家堡, 李家窝棚 ...).
_SURNAME_ENDINGS: tuple[str, ...] = (
    "家", "家堡", "家屯", "家沟", "家窝棚", "家店", "家岭", "家台", "家房", "家甸", "家营", "家铺",
    "家洼", "家坎", "家峪", "家岗",
)

# Topographic village names (大河, 前营子, 北岭 ...).
_TOPO_PREFIXES: tuple[str, ...] = (
    "大", "小", "前", "后", "东", "西", "南", "北", "上", "下", "新", "老", "二", "三", "中", "高",
)
_TOPO_ROOTS: tuple[str, ...] = (
    "河", "岭", "屯", "营子", "甸子", "台", "沟", "堡", "峪", "岗", "坎", "房身", "窝棚", "泡子", "石桥",
    "荒地", "柳河", "榆树", "杨树", "梨树", "山嘴", "河沿", "岔沟", "三台", "石门", "黄花", "孤山", "甸",
)

# Two-character rural words that work as town or village names (牛庄镇, 析木镇 ...).
RURAL_WORDS: tuple[str, ...] = tuple(dict.fromkeys("""
牛庄 析木 接文 英落 岔沟 孤山 感王 西柳 甘泉 温香 腾鳌 耿庄 望台 八里 中小 马风
毛祁 东四 南台 王石 高坨 桑林 新台 富家 黄花 石佛 柳河 榆树 杨树 梨树 桃山 杏山
马圈 牛心 羊角 鹿鸣 白旗 红旗 蓝旗 黄旗 哨子 偏岭 汤河 草河 大营 兴隆 前所 后所
沙河 清河 碱厂 铁刹 药山 龙潭 松树 柏树 石灰 红庙 太阳 朝阳 金沟 银沟 铜山 五道
三道 头道 二道 四平 平顶 双庙 双台 双井 三家 四家 五家 六家 七家 八家 九家 十里
""".split()))

_RNG = np.random.Generator


def _distinct(pool: list[str], n: int, rng: _RNG) -> list[str]:
    """``n`` distinct entries of ``pool`` in random order (pool must be large enough)."""
    if n > len(pool):
        raise ValueError(f"asked for {n} distinct names from a pool of {len(pool)}")
    idx = rng.choice(len(pool), size=n, replace=False)
    return [pool[i] for i in idx]


def _rural_pool() -> list[str]:
    pool = [s + e for s in SURNAMES for e in _SURNAME_ENDINGS]
    pool += [p + r for p in _TOPO_PREFIXES for r in _TOPO_ROOTS]
    pool += list(RURAL_WORDS)
    return list(dict.fromkeys(pool))


_RURAL_POOL: list[str] = _rural_pool()
_URBAN_COMMUNITY_POOL: list[str] = list(dict.fromkeys(w + e for e in _COMMUNITY_ENDINGS for w in URBAN_WORDS))


def street_names(n: int, rng: _RNG, *, county: bool, subdistricts: int = 0) -> list[str]:
    """Names for ``n`` township-level units of one district.

    Under an urban district (``county=False``) all are "…街道". Under a county
    or county-level city the first ``subdistricts`` (the caller puts the
    densest first) are "…街道" and the rest "…镇" (about three in four) or "…乡".
    """
    if not county:
        return [w + "街道" for w in _distinct(list(URBAN_WORDS), n, rng)]
    k = min(subdistricts, n)
    urban = [w + "街道" for w in _distinct(list(URBAN_WORDS), k, rng)]
    rural = _distinct(_RURAL_POOL, n - k, rng)
    kinds = np.where(rng.random(n - k) < 0.75, "镇", "乡")
    return urban + [w + str(kind) for w, kind in zip(rural, kinds)]


def community_names(n: int, rng: _RNG, *, rural: bool) -> list[str]:
    """Names for ``n`` community-level units: "…村" when ``rural`` else "…社区"."""
    if rural:
        return [w + "村" for w in _distinct(_RURAL_POOL, n, rng)]
    # Prefer plain two-character words; fall back to the longer variants.
    plain = len(URBAN_WORDS)
    if n <= plain // 2:
        return [w + "社区" for w in _distinct(list(URBAN_WORDS), n, rng)]
    return [w + "社区" for w in _distinct(_URBAN_COMMUNITY_POOL, n, rng)]


def grid_name(community_name: str, number: int) -> str:
    """"<community name>第N网格" with N counted from 1."""
    return f"{community_name}第{number}网格"
