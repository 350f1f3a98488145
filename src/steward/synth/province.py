"""The synthetic province's fixed world: Gansu's cities and counties, cells, handsets, phrases.

Everything here is a small static table, built once per run; subscribers and records only
hold integer codes into these tables, so a 18 M-subscriber day never builds a Python string
per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pyarrow as pa


@dataclass(frozen=True)
class City:
    name: str
    # Share of the province's subscribers (census population, cities a little denser).
    weight: float
    # Landline area code without the leading zero (0931 -> 931).
    area_code: int
    # (county, weight); the first is the urban core, where campuses sit.
    counties: tuple[tuple[str, float], ...]


def _cities(table: str) -> tuple[City, ...]:
    cities = []
    for line in table.strip().splitlines():
        name, weight, area, *counties = line.split()
        pairs = tuple((c, float(w)) for c, w in (county.split(":") for county in counties))
        cities.append(City(name, float(weight), int(area), pairs))
    return tuple(cities)


# city, weight, area code, then county:weight (the first county is the urban core).
CITIES = _cities(
    """
lanzhou   5.2 931 chengguan:4 qilihe:2 anning:1.5 xigu:1 honggu:0.3 yuzhong:1.2 yongdeng:0.8
                  gaolan:0.4
tianshui  2.9 938 qinzhou:2.5 maiji:2 gangu:1.2 qinan:1 wushan:0.9 qingshui:0.8 zhangjiachuan:0.6
baiyin    1.6 943 baiyin:1.5 pingchuan:0.8 huining:1.2 jingyuan:1 jingtai:0.6
wuwei     1.5 935 liangzhou:3 minqin:0.8 gulang:0.9 tianzhu:0.6
zhangye   1.2 936 ganzhou:2.5 shandan:0.6 minle:0.7 linze:0.4 gaotai:0.4 sunan:0.1
jiuquan   1.2 937 suzhou:2.5 yumen:0.6 dunhuang:0.6 jinta:0.4 guazhou:0.4 subei:0.05 aksay:0.05
jiayuguan 0.4 937 xiongguan:1.5 jingtie:1 changcheng:0.5
jinchang  0.5 935 jinchuan:2 yongchang:1
pingliang 1.8 933 kongtong:2.5 jingchuan:0.9 lingtai:0.7 chongxin:0.4 huating:0.8 zhuanglang:1
                  jingning:1.2
qingyang  2.1 934 xifeng:2.5 qingcheng:0.8 huanxian:0.9 huachi:0.4 heshui:0.4 zhengning:0.6
                  ningxian:1 zhenyuan:1.2
dingxi    2.3 932 anding:1.8 tongwei:1.2 longxi:1.2 weiyuan:0.9 lintao:1.3 zhangxian:0.5 minxian:1
longnan   2.2 939 wudu:2.2 chengxian:0.7 wenxian:0.6 dangchang:0.7 kangxian:0.5 xihe:1 lixian:1
                  huixian:0.5 liangdang:0.1
linxia    2.0 930 linxia:1.5 linxiaxian:0.9 kangle:0.6 yongjing:0.5 guanghe:0.6 hezheng:0.5
                  dongxiang:0.7 jishishan:0.6
gannan    0.7 941 hezuo:1 xiahe:0.6 lintan:0.5 zhuoni:0.3 zhouqu:0.4 diebu:0.15 maqu:0.2 luqu:0.1
""".replace("\n                  ", " ")
)

# fmt: off
# Where a migrant's or a student's ID card comes from when not from the city they live in.
OUTSIDE_REGIONS: tuple[str, ...] = (
    "xian", "chengdu", "xining", "yinchuan", "zhengzhou", "chongqing", "urumqi", "baotou",
    "hanzhong", "guyuan", "zhoukou", "nanchong",
)
# Cities where students live on campus, and their weight.
CAMPUS_CITIES: dict[str, float] = {
    "lanzhou": 0.72, "tianshui": 0.08, "zhangye": 0.04, "jiuquan": 0.03, "pingliang": 0.03,
    "qingyang": 0.03, "dingxi": 0.03, "wuwei": 0.02, "linxia": 0.02,
}
# Mobile number blocks the operator owns, with a weight for how many numbers each holds.
OWN_PREFIXES: tuple[tuple[int, float], ...] = (
    (134, 5), (135, 8), (136, 7), (137, 7), (138, 9), (139, 10), (147, 2), (150, 5), (151, 5),
    (152, 5), (157, 3), (158, 5), (159, 5), (178, 4), (182, 4), (183, 4), (184, 2), (187, 5),
    (188, 4), (198, 5),
)
# Other operators' mobile blocks, for callers outside the operator.
OTHER_PREFIXES: tuple[int, ...] = (
    130, 131, 132, 155, 156, 166, 176, 185, 186, 133, 149, 153, 173, 177, 180, 181, 189, 199,
)
# Service numbers seen in detail records: the operator, banks, hotlines; and SMS gateways.
SERVICE_NUMBERS: tuple[int, ...] = (
    10086, 10086, 10086, 12345, 95588, 95533, 95599, 95555, 12580, 114, 95566, 12306,
)
SMS_GATEWAYS: tuple[int, ...] = (
    10690000, 106575, 1065902, 10658139, 106980095588, 1069070069, 10086, 1065795555,
)
# Channel preference of the young and of the old; ages in between mix the two.
CHANNEL_WEIGHTS_YOUNG = {"hall": 0.08, "web": 0.08, "app": 0.36, "call_centre": 0.09,
                         "ivr": 0.03, "wechat": 0.30, "self_service": 0.06}
CHANNEL_WEIGHTS_OLD = {"hall": 0.36, "web": 0.03, "app": 0.07, "call_centre": 0.32,
                       "ivr": 0.10, "wechat": 0.08, "self_service": 0.04}
# fmt: on


@dataclass(frozen=True)
class Handset:
    model: str
    network: str  # 2g / 3g / 4g / 5g
    weight: float  # popularity
    tier: int  # price tier: 0 budget, 1 mid-range, 2 flagship


def _handsets(table: str) -> tuple[Handset, ...]:
    rows = (line.rsplit(maxsplit=3) for line in table.strip().splitlines())
    return tuple(Handset(model, net, float(weight), int(tier)) for model, net, weight, tier in rows)


# model, network, popularity, price tier
HANDSETS = _handsets("""
Huawei Mate 60 Pro  5g 5 2
Huawei nova 12      5g 5 1
Huawei Pura 70      5g 3 2
Honor 90            5g 4 1
Honor X50           5g 5 0
Xiaomi 14           5g 4 2
Redmi K70           5g 4 1
Redmi Note 13       5g 6 0
OPPO Reno11         5g 4 1
OPPO A2             5g 4 0
vivo X100           5g 3 2
vivo Y36            5g 5 0
iPhone 15           5g 5 2
iPhone 14           5g 3 2
iPhone 13           5g 3 2
Huawei Enjoy 70     4g 4 0
Huawei P40          4g 2 1
iPhone 11           4g 3 1
Redmi Note 9        4g 3 0
OPPO A57            4g 3 0
vivo Y33s           4g 3 0
Honor Play 20       4g 2 0
Samsung Galaxy A52  4g 1 1
Nokia 220 4G        4g 2 0
Xiaomi Mi 8         4g 1 1
Huawei Enjoy 9      3g 1 0
Nokia 105           2g 1 0
Koobee K200         2g 1 0
""")
# Modems and routers carried by data-card-only lines.
DATA_CARD_DEVICES = _handsets("""
Huawei E5576 MiFi     4g 3 0
ZTE MF971 MiFi        4g 2 0
Huawei 5G CPE Pro     5g 2 1
China Mobile 5G MiFi  5g 2 0
""")

# fmt: off
# Complaint and consultation wording, GBK-safe, per category of the complaint file.
COMPLAINT_TEXT: dict[str, tuple[str, ...]] = {
    "billing": ("话费扣费异常，要求核实并退费", "套餐外流量费用过高，对账单有异议",
                "未订购的增值业务被扣费", "月租费与办理时承诺不一致"),
    "network": ("室内信号差，通话经常中断", "5G信号不稳定，网速很慢",
                "农村地区无信号，无法正常通话", "晚高峰上网卡顿"),
    "service": ("营业厅排队时间过长，服务态度差", "10086热线长时间无人接听",
                "工作人员解释不清，问题未解决"),
    "product": ("套餐内容与宣传不符", "流量包无法叠加使用", "宽带安装进度慢"),
    "marketing": ("频繁收到营销短信，要求停止发送", "外呼推销电话太多，影响生活",
                  "未经同意办理了升级套餐"),
    "roaming": ("国际漫游费用过高", "出境后无法上网", "漫游日包未生效"),
    "handset": ("合约机存在质量问题", "购机赠送话费未到账"),
    "other": ("号码被标记为骚扰电话", "积分兑换失败", "实名认证信息有误"),
}
CONSULTATION_TEXT: dict[str, tuple[str, ...]] = {
    "billing": ("咨询本月话费构成", "咨询如何开具电子发票", "查询余额和欠费情况"),
    "network": ("咨询5G网络覆盖范围", "咨询家中宽带测速方法"),
    "service": ("咨询营业厅营业时间", "咨询如何补办SIM卡"),
    "product": ("咨询适合的流量套餐", "咨询家庭融合套餐资费", "咨询携号转网规则"),
    "marketing": ("咨询积分兑换活动", "咨询充值优惠活动"),
    "roaming": ("咨询出国漫游资费", "咨询港澳漫游日包"),
    "handset": ("咨询合约购机政策", "咨询以旧换新活动"),
    "other": ("咨询实名登记流程", "咨询靓号办理"),
}
# fmt: on

CELLS_PER_CITY_WEIGHT = 770  # about 20 k cells in the province
DOMESTIC_ROAMING_CELLS = 4_000
INTERNATIONAL_ROAMING_CELLS = 600


@dataclass(frozen=True)
class Province:
    """Codes for geography and cells; a county code indexes the flat county tables."""

    cities: tuple[City, ...] = CITIES

    @cached_property
    def city_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.cities)

    @cached_property
    def city_weights(self) -> npt.NDArray[np.float64]:
        weights = np.array([c.weight for c in self.cities], dtype=np.float64)
        return np.asarray(weights / weights.sum(), dtype=np.float64)

    @cached_property
    def area_codes(self) -> npt.NDArray[np.int64]:
        return np.array([c.area_code for c in self.cities], dtype=np.int64)

    @cached_property
    def county_names(self) -> tuple[str, ...]:
        return tuple(name for c in self.cities for name, _ in c.counties)

    @cached_property
    def county_city(self) -> npt.NDArray[np.int64]:
        return np.array([i for i, c in enumerate(self.cities) for _ in c.counties], np.int64)

    @cached_property
    def county_first(self) -> npt.NDArray[np.int64]:
        """Code of each city's first county (its urban core)."""
        sizes = np.array([len(c.counties) for c in self.cities], dtype=np.int64)
        return np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)

    @cached_property
    def county_cdf(self) -> npt.NDArray[np.float64]:
        """Per city, cumulative weights of its counties padded to the widest city."""
        width = max(len(c.counties) for c in self.cities)
        cdf = np.ones((len(self.cities), width), dtype=np.float64)
        for i, city in enumerate(self.cities):
            weights = np.array([w for _, w in city.counties], dtype=np.float64)
            cdf[i, : len(weights)] = np.cumsum(weights) / weights.sum()
        return cdf

    @cached_property
    def county_cells(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """First cell code and cell count of each county; cells of a city are contiguous."""
        counts = np.array(
            [
                max(20, round(c.weight * CELLS_PER_CITY_WEIGHT * w / sum(x for _, x in c.counties)))
                for c in self.cities
                for _, w in c.counties
            ],
            dtype=np.int64,
        )
        first = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        return first, counts

    @cached_property
    def city_cells(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        first, counts = self.county_cells
        start = first[self.county_first]
        totals = np.bincount(self.county_city, weights=counts).astype(np.int64)
        return start, totals

    @cached_property
    def home_cell_count(self) -> int:
        first, counts = self.county_cells
        return int(first[-1] + counts[-1])

    @property
    def domestic_roaming_first(self) -> int:
        return self.home_cell_count

    @property
    def international_roaming_first(self) -> int:
        return self.home_cell_count + DOMESTIC_ROAMING_CELLS

    @cached_property
    def cell_ids(self) -> pa.Array:
        """Hex E-UTRAN cell identities (eNodeB id << 8 | sector) for every cell code."""
        total = self.home_cell_count + DOMESTIC_ROAMING_CELLS + INTERNATIONAL_ROAMING_CELLS
        code = np.arange(total, dtype=np.int64)
        enb = np.where(
            code < self.home_cell_count,
            0x5A000 + code // 3,
            np.where(
                code < self.international_roaming_first, 0x21000 + code // 3, 0xC8000 + code // 3
            ),
        )
        eci = (enb << 8) | (code % 3 + 1)
        return pa.array([f"{v:07X}" for v in eci.tolist()], type=pa.string())

    @cached_property
    def region_names(self) -> tuple[str, ...]:
        """ID-card regions: the province's cities first, then places outside it."""
        return (*self.city_names, *OUTSIDE_REGIONS)

    @cached_property
    def campus_cdf(self) -> npt.NDArray[np.float64]:
        weights = np.array([CAMPUS_CITIES.get(c.name, 0.0) for c in self.cities], np.float64)
        return np.asarray(np.cumsum(weights) / weights.sum(), dtype=np.float64)
