"""The billing product catalogue: plans per brand, packs, value-added services, bundles.

Prices are China Mobile-like list prices in CNY a month. Subscribers hold product codes
(positions in ``CATALOGUE``); each add-on slot draws from its own group, so the products a
subscriber holds never repeat and the subscription key stays unique by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from steward.ingest.schemas import PRODUCT
from steward.synth.writer import arrow_schema


@dataclass(frozen=True)
class Product:
    product_id: str
    name_zh: str
    name_en: str
    kind: str
    category: str
    monthly_fee: float
    brand: str | None = None


def _plan(pid: str, zh: str, en: str, fee: float, brand: str, category: str = "voice") -> Product:
    return Product(pid, zh, en, "plan", category, fee, brand)


PLANS_GOTONE: tuple[Product, ...] = (
    _plan("PLAN_GT_58", "全球通畅享套餐58元", "GoTone Enjoy 58", 58, "gotone"),
    _plan("PLAN_GT_88", "全球通畅享套餐88元", "GoTone Enjoy 88", 88, "gotone"),
    _plan("PLAN_GT_128", "全球通5G畅享套餐128元", "GoTone 5G Enjoy 128", 128, "gotone", "data"),
    _plan("PLAN_GT_158", "全球通5G畅享套餐158元", "GoTone 5G Enjoy 158", 158, "gotone", "data"),
    _plan("PLAN_GT_198", "全球通5G尊享套餐198元", "GoTone 5G Premier 198", 198, "gotone", "data"),
    _plan("PLAN_GT_238", "全球通5G尊享套餐238元", "GoTone 5G Premier 238", 238, "gotone", "data"),
    _plan("PLAN_GT_288", "全球通商务套餐288元", "GoTone Business 288", 288, "gotone"),
    _plan("PLAN_GT_388", "全球通商务套餐388元", "GoTone Business 388", 388, "gotone"),
    _plan("PLAN_GT_588", "全球通钻石套餐588元", "GoTone Diamond 588", 588, "gotone"),
)
PLANS_MZONE: tuple[Product, ...] = (
    _plan("PLAN_MZ_18", "动感地带潮玩卡18元", "M-Zone Play 18", 18, "mzone", "data"),
    _plan("PLAN_MZ_28", "动感地带潮玩卡28元", "M-Zone Play 28", 28, "mzone", "data"),
    _plan("PLAN_MZ_38", "动感地带芒果卡38元", "M-Zone Mango 38", 38, "mzone", "data"),
    _plan("PLAN_MZ_58", "动感地带5G青春卡58元", "M-Zone 5G Youth 58", 58, "mzone", "data"),
    _plan("PLAN_MZ_78", "动感地带5G青春卡78元", "M-Zone 5G Youth 78", 78, "mzone", "data"),
    _plan("PLAN_MZ_98", "动感地带5G王者卡98元", "M-Zone 5G King 98", 98, "mzone", "data"),
)
PLANS_EASYOWN: tuple[Product, ...] = (
    _plan("PLAN_EO_8", "神州行畅听卡8元", "Easyown Talk 8", 8, "easyown"),
    _plan("PLAN_EO_18", "神州行大众卡18元", "Easyown Basic 18", 18, "easyown"),
    _plan("PLAN_EO_28", "神州行大众卡28元", "Easyown Basic 28", 28, "easyown"),
    _plan("PLAN_EO_38", "神州行5G卡38元", "Easyown 5G 38", 38, "easyown", "data"),
    _plan("PLAN_EO_58", "神州行5G卡58元", "Easyown 5G 58", 58, "easyown", "data"),
)
CAMPUS_PLAN = _plan(
    "PLAN_MZ_CAMPUS_29", "动感地带校园卡29元", "M-Zone Campus 29", 29, "mzone", "data"
)
ELDER_PLAN = _plan("PLAN_EO_ELDER_8", "神州行敬老卡8元", "Easyown Senior 8", 8, "easyown")
DATA_CARD_PLAN = _plan(
    "PLAN_EO_DATA_30", "随身WiFi流量卡30元", "Easyown Data Card 30", 30, "easyown", "data"
)
FAMILY_PLAN = _plan(
    "PLAN_GT_FAM_169", "全家享融合套餐169元", "GoTone Family Bundle 169", 169, "gotone", "family"
)

DATA_PACKS: tuple[Product, ...] = (
    Product("DP_5GB_20", "5GB流量包20元", "5 GB data pack", "data_pack", "data", 20),
    Product("DP_10GB_30", "10GB流量包30元", "10 GB data pack", "data_pack", "data", 30),
    Product("DP_20GB_50", "20GB流量包50元", "20 GB data pack", "data_pack", "data", 50),
    Product("DP_NIGHT_10GB_10", "夜间10GB流量包", "Night 10 GB pack", "data_pack", "data", 10),
    Product("DP_5G_BOOST_15", "5G加速包15元", "5G speed boost", "data_pack", "data", 15),
)
VAS: tuple[Product, ...] = (
    Product("VAS_CRBT_5", "彩铃5元", "Colour ring-back tone", "vas", "vas", 5),
    Product("VAS_CALLER_ID_5", "来电显示", "Caller ID", "vas", "voice", 5),
    Product("VAS_VOICE_200_20", "语音包200分钟20元", "200-minute voice pack", "vas", "voice", 20),
    Product("VAS_CLOUD_10", "和彩云10元", "Cloud storage", "vas", "vas", 10),
    Product("VAS_SECURITY_6", "手机安全卫士6元", "Mobile security", "vas", "vas", 6),
    Product("VAS_SMS_100_5", "短信包100条5元", "100-SMS pack", "vas", "vas", 5),
)
CONTENT: tuple[Product, ...] = (
    Product("CT_MIGU_VIDEO_15", "咪咕视频会员15元", "Migu Video membership", "vas", "content", 15),
    Product(
        "CT_MIGU_MUSIC_10", "咪咕音乐白金会员10元", "Migu Music platinum", "vas", "content", 10
    ),
    Product("CT_MIGU_READ_5", "咪咕阅读5元", "Migu Reading", "vas", "content", 5),
    Product("CT_GAME_10", "咪咕快游10元", "Migu cloud gaming", "vas", "content", 10),
    Product(
        "CT_VIDEO_DIR_9", "视频定向流量包9元", "Video zero-rated pack", "data_pack", "content", 9
    ),
)
FAMILY: tuple[Product, ...] = (
    Product("FAM_NET_0", "亲情网", "Family calling circle", "vas", "family", 0),
    Product("FAM_SHARE_10", "家庭流量共享10元", "Family data sharing", "vas", "family", 10),
    Product("FAM_GUARD_5", "家庭守护5元", "Family guardian", "vas", "family", 5),
)
ROAMING: tuple[Product, ...] = (
    Product(
        "ROAM_INTL_DAY_25",
        "国际漫游日包25元",
        "International roaming day pass",
        "data_pack",
        "roaming",
        25,
    ),
    Product(
        "ROAM_HKMO_DAY_15",
        "港澳漫游日包15元",
        "Hong Kong/Macau day pass",
        "data_pack",
        "roaming",
        15,
    ),
    Product(
        "ROAM_INTL_VOICE_30",
        "国际漫游语音包30元",
        "International roaming voice pack",
        "vas",
        "roaming",
        30,
    ),
)
HANDSET_OFFERS: tuple[Product, ...] = (
    Product(
        "HS_5G_CONTRACT_24",
        "5G合约购机24个月",
        "5G handset on 24-month contract",
        "handset",
        "handset",
        99,
    ),
    Product(
        "HS_5G_CONTRACT_12",
        "5G合约购机12个月",
        "5G handset on 12-month contract",
        "handset",
        "handset",
        69,
    ),
    Product("HS_TRADE_IN", "以旧换新购机", "Handset trade-in", "handset", "handset", 0),
)
BROADBAND: tuple[Product, ...] = (
    Product(
        "BB_100M_30", "100M家庭宽带", "100 Mbit/s home broadband", "broadband", "broadband", 30
    ),
    Product(
        "BB_300M_50", "300M家庭宽带", "300 Mbit/s home broadband", "broadband", "broadband", 50
    ),
    Product(
        "BB_1000M_100", "千兆家庭宽带", "Gigabit home broadband", "broadband", "broadband", 100
    ),
)

PLANS_BY_BRAND: tuple[tuple[Product, ...], ...] = (PLANS_GOTONE, PLANS_MZONE, PLANS_EASYOWN)
SPECIAL_PLANS: tuple[Product, ...] = (CAMPUS_PLAN, ELDER_PLAN, DATA_CARD_PLAN, FAMILY_PLAN)
# Add-on slots in subscription order; one product at most per slot.
ADDON_GROUPS: tuple[tuple[str, tuple[Product, ...]], ...] = (
    ("data", DATA_PACKS),
    ("vas", VAS),
    ("content", CONTENT),
    ("family", FAMILY),
    ("roaming", ROAMING),
    ("handset", HANDSET_OFFERS),
    ("broadband", BROADBAND),
)
CATALOGUE: tuple[Product, ...] = (
    *PLANS_GOTONE,
    *PLANS_MZONE,
    *PLANS_EASYOWN,
    *SPECIAL_PLANS,
    *(p for _, group in ADDON_GROUPS for p in group),
)
CODE = {p.product_id: i for i, p in enumerate(CATALOGUE)}
FEES: npt.NDArray[np.float64] = np.array([p.monthly_fee for p in CATALOGUE], dtype=np.float64)
PRODUCT_IDS = pa.array([p.product_id for p in CATALOGUE], type=pa.string())


def codes(products: tuple[Product, ...]) -> npt.NDArray[np.int64]:
    return np.array([CODE[p.product_id] for p in products], dtype=np.int64)


def product_table() -> pa.Table:
    """The catalogue as the product interface file."""
    columns = {name: [getattr(p, name) for p in CATALOGUE] for name in PRODUCT.field_names}
    return pa.Table.from_pydict(columns, schema=arrow_schema(PRODUCT))
