"""Rule-based spam detectors (规则检测): keywords, contact handles, links, invites, mentions, QR codes.

Every detector returns :class:`Finding` objects: a short reason code (``contact:wechat``,
``url:deny``, ``keyword:加微信``), a weight in log-odds and the evidence (the matched text). The
detectors run over a whole batch at once: the batch is normalized into one joined string
(:func:`.normalize.normalize_batch`) and each compiled regex / the Aho-Corasick automaton scans it
in a single C-level pass; Python only runs for the (rare) hits.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

import ahocorasick

from . import keywords as kw
from .config import SpamRulesConfig
from .normalize import SEP, compact, normalize, normalize_batch


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of evidence: ``code`` is the reason shown to operators, ``weight`` its log-odds."""

    code: str
    weight: float
    evidence: str = ""


# --- weights (log-odds) -----------------------------------------------------------------------
W_CONTACT = 2.5  # a QQ number with context (QQ 12345678, 加群 12345678)
W_WECHAT = 3.0  # a WeChat handle with an ID (vx: abc123): ordinary members rarely post one
W_PHONE = 1.5  # a bare mainland mobile number
W_SHORTCODE = 2.5  # "text WIN to 80082", "call 09061701461": premium-rate SMS ads
W_COMBO = 2.5  # contact handle + solicitation vocabulary in the same message
W_INVITE = 4.5  # invite link to another group
W_DENY = 6.0
W_ALLOW = -3.0
W_SHORTENER = 1.5
W_URL = 0.25
W_URL_RISKY = 1.5  # cheap TLDs ad and scam sites favour (.top, .xyz, .vip, ...)
W_TG_LINK = 1.0
W_URL_OBFUSCATED = 2.0  # http:xxx without //, "abc. top", wwwabc: hiding a link from filters
W_TRADE = 2.0  # a price (40r, 25元) next to a trade verb (出/卖/收购/找我)
W_OFFER = 2.5  # a message that opens with a trade offer: 出一个…, 收一张…, 出号, 卖vape…
W_INCOME = 2.0  # an income claim: 一天100-300, 日入500, 一单3元 (兼职/刷单 lures)
W_WARNING = -3.0  # a member warning others about a scam (小心刷单诈骗, 我被骗了): the vocabulary is the scam's
W_PROMO = 2.5  # an offer (送/元起/开盘/早鸟价) with a number to call or book (电话：…): a promotion SMS
W_PROMO_OFFER = 3.0  # an offer (x折, 满减, 开业, 招生) + one more sign: a second offer, a way to act, a seller
W_PROMO_SIGN = 0.75  # each further sign
W_PHISH = 2.5  # a link next to an account threat or a prize (冻结/过期/中奖 … 点击/登录)
W_PAYEE = 3.0  # money to a new account (房东换号了，房租打到…卡), a fake authority (涉嫌洗钱…请拨打)
W_NEWS = -2.0  # reporting (记者, 据悉, 同比): demotes strong keywords like a warning
W_REFERRAL = -1.5  # a member recommending a tradesman (表哥介绍的…你提我名字就行): no contact combo
W_NOTICE = -2.5  # a transactional notice (取件码, 行程已结束, 验证码为): its 联系电话/优惠券 are not an ad
W_MASS_MENTION = 3.0
W_MENTION_ALL = 1.5
#: weak keywords only count together; their sum is capped
WEAK_CAP = 2.5
MEDIUM_CAP = 4.0

# --- patterns over the norm form (digits already ASCII and re-joined) ------------------------
_ZH_WECHAT = r"(?:微信号?|威信|薇信|徽信|v信|卫星号?|加v|加我v|加vx|加wx)"
_ID = r"(?:wxid_[a-z0-9_-]{4,}|[a-z][a-z0-9_-]{5,19}|\d{6,11})"
#: a Chinese handle word may be followed by any ID; a Latin one (vx/wx/wechat) needs a colon or
#: an ID holding a digit, so "wxpython" or "wechat users" are not handles
_RE_WECHAT = re.compile(
    rf"{_ZH_WECHAT}[ \t]*(?:id|号)?[ \t]*[:：=]?[ \t]*{_ID}"
    rf"|(?:vx|wx|wechat|weixin)(?:号|id)?[ \t]*"
    rf"(?:[:：=][ \t]*{_ID}|(?=[a-z0-9_-]*\d)[a-z0-9][a-z0-9_-]{{5,19}})"
)
#: literals that start a WeChat handle (searched with str.find before the full regex runs)
_WECHAT_LITERALS = ("微信", "威信", "薇信", "徽信", "v信", "卫星", "加v", "加我v", "vx", "wx", "wechat", "weixin")
#: one alternation of plain literals: a single fast pass instead of a str.find per literal
_RE_WECHAT_LIT = re.compile("|".join(map(re.escape, _WECHAT_LITERALS)))
#: ``v: abc123`` (the letter before ``v`` is checked in code: a literal first char keeps re fast)
_RE_V_HANDLE = re.compile(r"v[ \t]*[:：=][ \t]*([a-z][a-z0-9_-]{5,19}|\d{6,11})")
#: on the compact form (w.e.i.x.i.n: abc888 → weixinabc888): the ID must hold a digit
_RE_WECHAT_COMPACT = re.compile(
    r"(?:weixin|wechat|微信号?|薇信|v信|威信|徽信|卫星号|加vx|加wx|vx号|wx号|加v|加我v)"
    r"(?=[a-z0-9_-]*\d)([a-z0-9][a-z0-9_-]{5,19})"
)
#: context right before a 5-11 digit number that makes it a QQ number (QQ号/群号/加我…)
_RE_QQ_CTX = re.compile(
    r"(?:(?<![a-z])qq|(?<![a-z])q|扣扣|扣|企鹅|群号|裙号|q群|群|裙|加我|加|(?:找|联系)[\u4e00-\u9fff]{0,3}|咨询|私聊|私信|戳|滴滴"
    r"|(?<![a-z])dd)"
    r"[ \t]*(?:号码|号|群)?[ \t]*[:：=]?[ \t]*$"
)
_RE_DIGITS = re.compile(r"[0-9]{5,}")
#: what comes before a 5-digit short code in a premium-rate SMS ad ("txt stop to", "send WIN to")
#: (in the shared SMS train file: 110 of 522 spam, none of 3,614 ham; none in the IRC log)
_RE_SHORTCODE_CTX = re.compile(r"(?<![a-z])(?:text|txt|send|reply|call)(?![a-z])[^.!?\x00]{0,25}?(?<![a-z])(?:to|on) $")
_RE_PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
_TLDS = (
    "com|cn|net|org|top|xyz|cc|me|io|ly|gg|ru|info|club|vip|shop|site|online|ltd|fr|link|co|tk|ml|"
    "app|dev|icu|fun|work|live|pro|biz|tv|us|uk|de|jp|hk|tw|so|to|in|im|ai|store|win|bet|cloud"
)
#: cheap prefilter: only texts with one of these are searched with the full URL regex
#: texts with a link (``://``, ``www.``, ``.com``) get the full URL regex
_RE_URL_HINT = re.compile(rf"://|www\.|\.(?:{_TLDS})(?![a-z0-9])")
#: links spaced out to dodge filters (``abc. top``, ``abc .top``, ``abc。com``, ``abc点cn``); the
#: pattern starts at the dot (a small character set, so ``re`` skips ahead), the rest is checked in code
_RE_DOT_TLD = re.compile(r"[.。点] *(?:com|cn|net|top|xyz|vip|shop|cc|store)(?![a-z0-9])")
#: links written so that filters miss them: ``http:abc`` (no //), ``abc. top``, ``abc点com``, ``wwwabc``.
#: Each pattern starts with a literal or a small set so ``re`` can skip ahead; the rest is checked in code.
_RE_HTTP_NO_SLASH = re.compile(r"https?:(?!//)[a-z0-9]")
_RE_WWW_NO_DOT = re.compile(r"www(?!w)(?=[a-z0-9]{4,})")
#: a price (40r, 25元, ¥99) — spam when a trade verb is in the same message
_RE_PRICE_SIGN = re.compile(r"[元块¥￥]")
_RE_PRICE_R = re.compile(r"\d ?r(?:mb)?(?![a-z])")
#: a trade offer at the start of a message (group-trade slang: 出 = selling, 收 = buying)
#: (at the start of a message of the joined batch, i.e. after SEP: one C-level pass)
_RE_OFFER_START = re.compile(r"\x00((?:出|收|卖|求购|收购|出售)(?:一个|个|一张|张|一台|台|号|[a-z0-9]))")
#: an income claim (the lure of 兼职/刷单/副业 ads)
_RE_INCOME = re.compile(
    r"(?:一天|每天|一单|一小时|每小时|月入|日入|日赚|月赚|日收入|月收入|时薪|日薪|轻松赚|躺赚)"
    r"(?:[^0-9\x00]{0,4}[0-9]+|[一二三四五六七八九十两几百千万]{1,5}[元块k])"
)
#: 一天能赚好几百, 轻松挣几千: the amount in words (no unit needed after 百/千/万); 能/可/松 right
#: before 赚 is checked in code (a pattern that starts with 赚/挣 lets ``re`` skip ahead)
_RE_INCOME_WORDS = re.compile(r"[赚挣](?:到|了)?好?[几一二三四五六七八九十两百千万]{1,4}(?:[元块k]|(?<=[百千万]))")
_RE_TRADE = re.compile(
    r"出售|出一个|出个|出号|收购|卖|售价|购买|代购|找我|需要的|私聊|特价|低价|包月|月卡|永久|终身|秒结"
)
_RE_URL = re.compile(
    r"(?:https?://|www\.)[^\s\x00<>\"'，。！？）)】]+"
    rf"|(?<![a-z0-9@.\-_])(?:[a-z0-9][a-z0-9-]*\.)+(?:{_TLDS})(?![a-z0-9])(?:[/:][^\s\x00<>\"'，。！？）)】]*)?"
)
#: a Telegram handle given as a contact (TG: @abc_123, 飞机 @abc_123, telegram：@abc_123): the
#: handle is found first (the pattern starts with the literal "@"), the words before it second
_RE_AT_HANDLE = re.compile(r"@[a-z][a-z0-9_]{4,31}")
_RE_TG_CTX = re.compile(r"(?:(?<![a-z])tg|telegram|飞机|电报)[ \t]*(?:号|id)?[ \t]*[:：=]?[ \t]*$")
#: words of someone warning about a scam, not running one, or of a group rule naming what is
#: forbidden (群规: 禁止发布广告、刷单兼职…), or of a notice telling people to keep a code secret
_RE_WARNING = re.compile(
    r"被骗|骗了|骗子|骗局|诈骗|被诱导|虚假|千万别信|千万别点|不要点|别点|别上当|不要上当|小心上当|小心诈骗|是诈骗|诈骗电话|刷单诈骗|反诈|防骗"
    r"|谨防|警惕|冒充|不要相信|请勿泄露|切勿泄露|不要泄露|请勿告知|请勿转发"
    r"|禁止发|禁止广告|严禁发|严禁广告|不得发|违者"
)
#: a promotion's call to action with a number (订房电话：0532-88776655, 详询：xxxxxxxxxxx — anonymized
#: data writes digits as x), and the offer words that make the message an ad (促销短信)
_RE_CTA_NUMBER = re.compile(
    r"(?:电话|热线|详询|咨询|预约|预定|预订|订房|订餐|订座|垂询|来电|致电|拨打|报名)"
    r"[^0-9x\x00]{0,4}[0-9x](?:[0-9x]|[- ][0-9x]){6,14}"
)
_RE_OFFER_WORDS = re.compile(
    # 送 as a gift (签单送冰箱, 充100元送50元, 再送, 送好礼), not a delivery (派送, 送达, 送上楼)
    r"赠|[再就即加还并单元0-9x]送|送(?:[0-9x]|好礼|礼|大礼|价值|精美|免费|品牌|话费|流量)"
    r"|元起|[0-9x]起|折|特价|优惠|促销|早鸟|限时|仅限|仅此|仅剩|限量|名额|开盘|认筹|样板间|套餐|礼包|大礼"
    r"|直销|周年庆|店庆|会员日|换新|新品|到店|进店|免费|试听|体验课|抢购|钜惠|惊喜|火爆|热销|预订中"
)
#: transactional service notices (取件码, 行程已结束, 您的验证码为…): not an ad even with a number
_RE_NOTICE = re.compile(
    r"取件码|已签收|已发货|正在派送|正在为您派送|行程已结束|本次费用|验证码为|验证码是|验证码:|动态码|交易提醒"
    r"|挂号成功|值机|派送中|订单已确认|已转入您的|您尾号|尾号为|账户余额|余额为|您购买的|您预订的|您的订单|券号"
    r"|已到达|投递员|您的快件|您的包裹|您的邮件|已寄出|请注意查收|单号|审核通过|已生效|电子保单|如需续费|营业厅办理"
    r"|安全检查|不收取任何费用|成功报名|报名成功|准考证|您预约的|已为您|改约|续费可|配送员|派件员|携带身份证"
)
#: a commercial promotion (商业推广短信): an offer or a price. Every branch starts with a Chinese
#: character (a literal, not a set: one ``[充存]`` or ``[0-9x]`` branch made this pass 20x slower);
#: ``折`` is checked in code (x折, 五折, 折起 are offers; 骨折, 折叠 are not)
_RE_PROMO_OFFER = re.compile(
    r"折|低至|半价|买[0-9x一二两三]送|满[0-9x]+元?(?:[减送返]|包邮)|充[0-9x]+元?送|存[0-9x]+元?送|立减|再减"
    r"|大酬宾|甩卖|清仓"
    r"|送(?:好礼|礼品|精美|价值)|赠送|特惠|特价|钜惠|巨惠|惠民|优惠价|会员价|今日价|全包价|原价|现价|只要[0-9x]"
    r"|仅需?[0-9x]|免费(?:试听|验光|体检|上门|测量|送货|试驾|评估|体验|设计|领取|重学|鉴定|检测|试学|领)"
    r"|首月免费|免租|包教包会|保过|包过|不过退费|元(?:起|/[位人桌次只斤平月年件套盒]|一?[斤只件个位次人桌套盒])"
    r"|每(?:平米|平方|平|人|位|只|斤|件|次|节|小时)(?:仅|只要|只需)?[0-9x]|新到|到货|新款上线|上新|新品上市"
    r"|开业(?!主)|店庆|周年庆|会员日|招生|招商中|招租|出租|办卡|火热进行|认筹|开盘|首付[0-9x一二两三]+万|月供|大促"
    r"|感恩回馈|喜讯|好消息|团购价|秒杀|以旧换新|直补|高价回收|大量收购|打包处理|低于市场价|现货"
    r"|再送|加送|就送|即送|还送|送货上门|送货到|包接送|首单|新客|预售|特卖|让利|团购|出售|急售|转让|处理一批"
    r"|套餐[0-9x]|套系|明码标价|先出国后付费|不准不收|满意后付款|胜诉后|只需[0-9x]|认购|即将售罄|先到先选"
)
_OFFER_DIGITS = frozenset("0123456789x一二三四五六七八九半")
#: ... a seller's promise (上门, 包吃包住, 货到付款, 不成功不收费) ...
_RE_PROMO_PROMISE = re.compile(
    r"上门(?:服务|维修|回收|安装|保洁|清洗|取货)|分钟上门|小时上门|包吃包住|包食宿|持证上岗|质量保证|现货供应|货到付款|厂家直销|产地直发|不成功不收费|不修好不收费|满意再付款"
    r"|隐私保护|专家坐诊|包就业|可分租|价格面议|价格公道|随叫随到|现金交易|现场鉴定|全国可做|诚信经营|一站式|一条龙"
    r"|质保|售后无忧|正品保证|名师|小班教学|小班上课|一对一|急招|高薪诚聘|诚聘|招聘|批发零售|品种齐全|种类齐全"
    r"|价格实惠|价格透明|价格优惠|出货快|当场过户|现金结款|现款|不成功退|天天发车|每日发车|上门提货|诚邀|现货充足"
    r"|专业处理|专业鉴定|专业开锁|专业维修|专业承接|专业代办|专业定制|公安备案|持健康证|经过专业培训|车型齐全|拿证快"
    r"|专业快修|包安装|包调试|分钟取机|有兴趣可|感兴趣可"
)
#: ... with a way to act on it (电话, 地址：, 凭此短信, 回复kt办理, 欢迎光临) ...
_RE_PROMO_ACT = re.compile(
    r"电话|热线|咨询|详询|垂询|报名|预约|订座|订房|订餐|地址|凭此短信|凭短信|凭本短信|回复[a-z]{1,4}(?![a-z])"
    r"|立即下载|下载地址|期待您|欢迎[^\x00，。！,.!]{0,8}(?:光临|来电|咨询|选购|莅临|惠顾|品尝|参观|洽谈|拿货|订购|前来)"
    r"|不见不散|速来|进店|到店|来店|来电|快来抢|来抢|下单|联系[^\x00]{0,4}[0-9x]{7}|[0-9x]{11}|退订|拒收|官网"
    r"|www\.|https?:|点击"
)
#: ... a contact field (电话：…, QQ：…, 地址：…): with a list of goods or services (、), a quiet ad
_RE_CONTACT_FIELD = re.compile(  # flat literal branches (a group first would cost a 10x slower pass)
    r"电话[:：]|热线[:：]|qq[:：]|手机[:：]|tel[:：]|地址[:：]|电话[0-9x]{5}|热线[0-9x]{5}|qq[0-9x]{5}|回电[0-9x]{5}"
)
#: a message that ends with a name (or a shop) and a phone number: 张老师xxxxxxxxxxx, 天顺物流 xxx-xxxxxxxx
#: (not a labelled number: 会议号 728361945, 单号, 取件码)
_RE_SIGNED_NUMBER = re.compile(r"[\u4e00-\u9fff](?<![号码])(?<!id) ?[0-9x]{3,4}-?[0-9x]{3,4}-?[0-9x]{3,4}[ 。.]*$")
_NUMBER_END = frozenset("0123456789x。. ")
#: a member passing on a tradesman's or a shop's number (表哥介绍的师傅…电话…，你提我名字就行)
_RE_REFERRAL = re.compile(r"介绍的|提我名字|说是我介绍|你可以问问|我用过|给我家做过|我家做过")
#: chat between people who know each other (一起去, 改天, 给你留): a tip, not a shop's voice
_RE_CHAT_VOICE = re.compile(r"一起去|改天|味道还不错|我买了|给你家|给你带|你家")
#: a person speaking or spoken to (我/你/他, family words): not the voice of an ad
_RE_PERSONAL = re.compile(r"我|你|咱|他|她|妈|爸|哥|姐|弟|妹|老公|老婆|宝宝|大家|同学|老师")
#: ... or a business speaking (【签名】, 本店, 售楼处, 王经理, a shop's name at the end) ...
_RE_PROMO_SENDER = re.compile(
    r"【|本店|我店|我司|本公司|本院|我院|本中心|本机构|售楼处|售楼部|经理|店长|顾问|客服"
    r"|(?:店|馆|中心|公司|厂|学校|医院|机构|工作室|商行|超市|广场|先生|女士|阿姨|老师)[ 。.!！]*(?:\x00|$)"
)
#: ... unless it is news about one (记者, 据悉, 同比): reporting quotes the vocabulary it reports on
_RE_NEWS = re.compile(
    r"记者|据悉|据了解|数据显示|同比|环比|报道称|消息称|出台|通报|统计局|发布会|我市|我省|我区|全市|全省|政策调整"
    r"|监管|总局|业内人士|专家提醒|提醒广大|印发|部署|银监会|银保监|人民银行|不少|受.{0,8}影响|共有|最终录用"
    r"|投资者|消费者需|据报道|据介绍|宣布|一些|有些商家|该县|该市|该省|该区|该公司|该平台|该行|上调至|下调至|提高至"
    r"|警方提醒|打掉|团伙|抓获|破获|落网|判处|立案|一名(?:男子|女子|退休|老人|学生|市民|网友|员工|司机)|一男子|一女子|多地|某地|当地|消协|提醒消费者"
)
#: phishing: a link with an account threat or a prize (已冻结…请点击 http://…, 恭喜您…请登录 www…领取)
_RE_PHISH_HOOK = re.compile(
    r"过期|冻结|失效|异常|停用|注销|升级|核实|认证|领取|中奖|抽中|兑换|补贴|退款|理赔|积分|额度|无法派送|重新填写"
    r"|成绩单|照片|相册|视频"
)
_RE_PHISH_VERB = re.compile(r"登录|登陆|点击|访问|打开|进入|查看|看看")
#: a new payee (换号了，房租打到这张卡): money redirected to an account named in the message
_RE_PAYEE = re.compile(
    r"(?:打到|转到|汇到|转入|汇入|打入)[^\x00]{0,14}?(?:卡|账户|账号|银行)|往[^\x00]{0,8}?(?:卡|账户|账号)上?(?:转|打|汇)"
    r"|(?:打|转|汇)[^\x00，。]{0,6}?到[^\x00]{0,8}?(?:卡|账户|账号)|转[一二两三四五六七八九十几百千万0-9x]+(?:块|元)?给"
    r"|打[我他她][^\x00，。]{0,4}?卡上|(?:汇款|转账|打款)到[^\x00]{0,6}?[0-9x]{12}"
)
_RE_PAYEE_CTX = re.compile(
    r"换了?(?:手机|卡)?号|新号|户名|房租|房东|老板|领导|财务|手机坏了|同学的号|急需|急用|别打电话|不方便接电话|账号我发你|否则"
    r"|手机掉|同学手机|钱包被偷|出差|指定账户|回去马上还|抢救|手术费"
)
#: impersonated authorities (冒充公检法/医保局): a case or a frozen account, and a number to call
_RE_AUTHORITY = re.compile(
    r"涉嫌|洗钱|配合调查|安全账户|解冻|通缉|传票|强制执行|违章记录|未处理|移交公安|异常消费|办理退税|可获退税"
    r"|违禁品|已扣押|承担法律责任|退还购置税|atm机|按提示操作"
)
_RE_AUTHORITY_ACT = re.compile(r"拨打|致电|回电|联系|点击|登录|转入|转到|汇入|配合|按[0-9x]号键")
#: refund scams (退款诈骗): compensation offered through a "customer service" contact
_RE_REFUND = re.compile(r"退款|理赔|赔付|双倍赔偿|退货退款|可获补偿|获得补偿|可获赔偿|延误补偿|元补偿|补偿金")
_RE_REFUND_ACT = re.compile(
    r"(?:联系|添加|加|拨打)(?:官方)?(?:客服|专员|理赔专员|售后)|(?:客服|专员)(?:qq|微信|电话|热线)?[:：]|(?:客服|专员)(?:qq|微信)"
    r"|(?:致电|拨打)[0-9x][0-9x-]{6}"
)
#: "reply a code to get it" (回复x获取, 回复Y查看详细资料, 请速按x号键): premium/scam SMS
_RE_REPLY_CODE = re.compile(r"回复[a-z0-9]{1,4}(?:即可)?(?:获取|查看|订购|开通|领取|参与|了解|查询)|按[0-9x]号键")
#: an 11-character number masked as x (anonymized corpora write 13812345678 as xxxxxxxxxxx)
_RE_MASKED_PHONE = re.compile(r"xxxxxxxxxxx(?!x)")  # a literal: 20x faster than x{11}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_RE_MENTION_ALL = re.compile(r"@(?:全体成员|全体|所有人|all|everyone|here)(?![a-z])")

#: invite links to other groups: (substring of the URL without scheme, code)
_INVITES = [
    ("qm.qq.com", "invite:qq"),
    ("jq.qq.com", "invite:qq"),
    ("qun.qq.com/qqweb/qunpro/share", "invite:qq"),
    ("t.me/joinchat", "invite:telegram"),
    ("t.me/+", "invite:telegram"),
    ("telegram.me/joinchat", "invite:telegram"),
    ("discord.gg/", "invite:discord"),
    ("discord.com/invite", "invite:discord"),
    ("chat.whatsapp.com", "invite:whatsapp"),
    ("weixin.qq.com/g/", "invite:wechat"),
    ("work.weixin.qq.com/gm", "invite:wechat"),
    ("u.wechat.com", "contact:wechat"),
    ("weixin.qq.com/r/", "contact:wechat"),
    ("line.me/ti/g", "invite:line"),
]


#: TLDs that cost next to nothing and carry most throw-away ad/scam sites
_RISKY_TLDS = frozenset(
    ("top", "xyz", "vip", "shop", "icu", "cc", "ltd", "club", "win", "bet", "fun", "work", "live", "online")
    + ("site", "store", "tk", "ml", "ga", "cf", "gq", "buzz", "rest", "cyou")
)


def _host(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url
    host = re.split(r"[/:?#]", rest, maxsplit=1)[0]
    return host.removeprefix("www.").strip(".")


def _domain_in(host: str, domains: frozenset[str]) -> str | None:
    """The listed domain ``host`` is or is under (``a.b.example.com`` is under ``example.com``)."""
    if host in domains:
        return host
    dot = host.find(".")
    while dot >= 0:
        suffix = host[dot + 1 :]
        if suffix in domains:
            return suffix
        dot = host.find(".", dot + 1)
    return None


@lru_cache(maxsize=64)
def _domain_set(domains: tuple[str, ...]) -> frozenset[str]:
    return frozenset(d.strip().lower().removeprefix("www.").strip(".") for d in domains if d.strip())


def classify_url(url: str, config: SpamRulesConfig) -> Finding:
    """One finding for one link: invite, deny/allow list, shortener, Telegram or plain link."""
    low = url.lower()
    bare = low.split("://", 1)[1] if "://" in low else low
    bare = bare.removeprefix("www.")
    for needle, code in _INVITES:
        if bare.startswith(needle) or ("." + needle) in bare:
            return Finding(code, W_INVITE, url)
    host = _host(low)
    if _domain_in(host, _domain_set(tuple(config.deny_domains))):
        return Finding("url:deny", W_DENY, url)
    if _domain_in(host, _domain_set(tuple(config.allow_domains))):
        return Finding("url:allow", W_ALLOW, url)
    if _domain_in(host, _domain_set(tuple(config.shortener_domains))):
        return Finding("url:shortener", W_SHORTENER, url)
    if host in ("t.me", "telegram.me"):
        # t.me/channel/123 is a post people share; t.me/someone is where spam sends you
        post = re.search(r"/[^/]+/\d+", bare)
        return Finding("url:telegram", W_TG_LINK / 2 if post else W_TG_LINK, url)
    if host.rsplit(".", 1)[-1] in _RISKY_TLDS:
        return Finding("url:risky", W_URL_RISKY, url)
    return Finding("url:other", W_URL, url)


class RuleSet:
    """The compiled rules of one :class:`SpamRulesConfig` (automata and domain lists)."""

    def __init__(self, config: SpamRulesConfig | None = None) -> None:
        self.config = config or SpamRulesConfig()
        words: dict[str, float] = kw.default_keywords() if self.config.use_default_keywords else {}
        for w in self.config.weak_keywords:
            words[w] = max(kw.WEAK, words.get(w, 0.0))
        for w in self.config.keywords:
            words[w] = kw.STRONG + 2.0  # an operator's own 违禁词 is decisive
        ignored = {self._key(w)[0] for w in self.config.ignore_keywords}
        self._compact_ac = ahocorasick.Automaton()
        self._word_ac = ahocorasick.Automaton()
        n_compact = n_word = 0
        for word, weight in words.items():
            key, on_compact = self._key(word)
            if not key or key in ignored:
                continue
            if on_compact:
                self._compact_ac.add_word(key, (word, weight))
                n_compact += 1
            else:
                self._word_ac.add_word(key, (word, weight, len(key)))
                n_word += 1
        latin = {w for w, _ in kw.COMPACT_LATIN}
        self._compact_latin = {
            self._key(w)[0]: (w, weight) for w, weight in words.items() if w in latin and self._key(w)[0] not in ignored
        }
        # longest first, so the alternation prefers "jiaweixin" over "weixin"
        keys = sorted(self._compact_latin, key=len, reverse=True)
        self._compact_latin_re = re.compile("|".join(map(re.escape, keys))) if keys else None
        self._has_compact = n_compact > 0
        self._has_word = n_word > 0
        if self._has_compact:
            self._compact_ac.make_automaton()
        if self._has_word:
            self._word_ac.make_automaton()

    @staticmethod
    def _key(word: str) -> tuple[str, bool]:
        """Normalize a keyword like the text; CJK and contact spellings match on ``compact``."""
        norm = " ".join(normalize(word).split())
        is_cjk = any("\u3400" <= ch <= "\u9fff" for ch in norm)
        latin_compact = norm in {w for w, _ in kw.COMPACT_LATIN}
        if is_cjk or latin_compact:
            return compact(norm), True
        return norm, False

    # -- batch scanning ------------------------------------------------------------------------
    def scan_batch(self, texts: Sequence[str]) -> list[list[Finding]]:
        """Findings per text (same order); the text-only rules (no images, no mentions)."""
        norm, comp = normalize_batch(texts)
        return self.scan_normalized(norm, comp, len(texts))

    def scan_normalized(self, norm: str, comp: str, n: int) -> list[list[Finding]]:
        """Findings for ``n`` texts given their joined ``norm``/``compact`` forms.

        Speed matters here (it runs on every message): regexes begin with a literal so ``re`` can
        skip ahead, rare shapes are found with ``str.find`` first and only then matched, and
        the CJK keyword automaton reads only the texts that are not pure ASCII.
        """
        out: list[list[Finding]] = [[] for _ in range(n)]
        norm_starts = _starts(norm)
        comp_parts = comp.split(SEP)
        comp_starts = _starts_of(comp_parts)

        # the texts with CJK characters: the Chinese keywords and shapes are looked for only there
        # (Russian and other non-ASCII texts are a third of the characters of a mixed batch)
        search = _CJK.search
        wide = [i for i, p in enumerate(comp_parts) if not p.isascii() and search(p) is not None]
        if self._has_compact:
            if wide:
                sub = SEP.join(comp_parts[i] for i in wide)
                sub_starts = _starts_of([comp_parts[i] for i in wide])
                for end, (word, weight) in self._compact_ac.iter(sub):
                    i = wide[bisect_right(sub_starts, end) - 1]
                    out[i].append(Finding(f"keyword:{word}", weight, word))
            # ... and the Latin contact spellings (w.e.i.x.i.n) are found in the others
            if self._compact_latin_re is not None:
                cjk = set(wide)
                for lm in self._compact_latin_re.finditer(comp):
                    i = bisect_right(comp_starts, lm.start()) - 1
                    if i not in cjk:
                        word, weight = self._compact_latin[lm.group(0)]
                        out[i].append(Finding(f"keyword:{word}", weight, word))
        if self._has_word:
            for end, (word, weight, keylen) in self._word_ac.iter(norm):
                start = end - keylen + 1
                before = norm[start - 1] if start > 0 else " "
                after = norm[end + 1] if end + 1 < len(norm) else " "
                if before.isalnum() or after.isalnum():
                    continue
                i = bisect_right(norm_starts, end) - 1
                out[i].append(Finding(f"keyword:{word}", weight, word))

        # contact handles: find the handle word, then match the full shape right there
        for lm in _RE_WECHAT_LIT.finditer(norm):
            pos = lm.start()
            if lm.group(0)[0].isascii() and pos > 0 and "a" <= norm[pos - 1] <= "z":
                continue
            m = _RE_WECHAT.match(norm, pos)
            if m is not None:
                i = bisect_right(norm_starts, pos) - 1
                out[i].append(Finding("contact:wechat", W_WECHAT, m.group(0)))
        for m in _RE_V_HANDLE.finditer(norm):
            if m.start() > 0 and "a" <= norm[m.start() - 1] <= "z":
                continue
            i = bisect_right(norm_starts, m.start()) - 1
            out[i].append(Finding("contact:wechat", W_WECHAT, m.group(0)))
        for m in _RE_WECHAT_COMPACT.finditer(comp):
            i = bisect_right(comp_starts, m.start()) - 1
            out[i].append(Finding("contact:wechat", W_WECHAT, m.group(0)))
        # numbers: one scan for digit runs, then QQ context / phone shape per (rare) hit
        for m in _RE_DIGITS.finditer(norm):
            digits = m.group(0)
            if len(digits) > 11:
                continue
            i = bisect_right(norm_starts, m.start()) - 1
            if len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789":
                out[i].append(Finding("contact:phone", W_PHONE, digits))
                continue  # a mobile number, not a QQ number
            if len(digits) == 11 and digits.startswith("09"):
                # UK premium-rate numbers (SMS spam: 105 of 522, no ham); also a landline with
                # an 09xx area code, which in a group chat is a contact handle all the same
                out[i].append(Finding("sms:premium", W_SHORTCODE, digits))
                continue
            if len(digits) == 5:
                ctx = norm[max(norm_starts[i], m.start() - 40) : m.start()]
                if _RE_SHORTCODE_CTX.search(ctx):
                    out[i].append(Finding("sms:shortcode", W_SHORTCODE, ctx[-20:] + digits))
                    continue
            before = norm[max(norm_starts[i], m.start() - 12) : m.start()]
            if before and _RE_QQ_CTX.search(before):
                out[i].append(Finding("contact:qq", W_CONTACT, before.strip() + digits))
        hinted = {bisect_right(norm_starts, m.start()) - 1 for m in _RE_URL_HINT.finditer(norm)}
        for m in _RE_DOT_TLD.finditer(norm):
            k = m.start()
            glue = m.group(0)
            spaced_before = k > 1 and norm[k - 1] == " " and norm[k - 2].isascii() and norm[k - 2].isalnum()
            if glue[0] == "." and " " not in glue and not spaced_before:
                continue  # an ordinary domain: the URL rules handle it
            before = norm[k - 2] if spaced_before else (norm[k - 1] if k > 0 else " ")
            # 点 + a TLD is a spoken-out dot whatever comes before it (搜 y y 影 视 点 cc)
            if (before.isascii() and before.isalnum()) or glue[0] == "点":
                i = bisect_right(norm_starts, k) - 1
                evidence = norm[max(norm_starts[i], k - 12) : m.end()]
                out[i].append(Finding("url:obfuscated", W_URL_OBFUSCATED, evidence))
                tld = glue.lstrip(".。点 ")
                if tld in _RISKY_TLDS:  # a throw-away domain *and* hidden from filters
                    out[i].append(Finding("url:risky", W_URL_RISKY, evidence))
        if hinted:
            parts = norm.split(SEP)
            for i in sorted(hinted):
                for m in _RE_URL.finditer(parts[i]):
                    out[i].append(classify_url(m.group(0).rstrip(".,;:!?"), self.config))
        for m in _RE_HTTP_NO_SLASH.finditer(norm):
            i = bisect_right(norm_starts, m.start()) - 1
            out[i].append(Finding("url:obfuscated", W_URL_OBFUSCATED, norm[m.start() : m.start() + 40].split(" ")[0]))
        for m in _RE_WWW_NO_DOT.finditer(norm):
            if m.start() > 0 and norm[m.start() - 1].isalnum():
                continue
            i = bisect_right(norm_starts, m.start()) - 1
            out[i].append(Finding("url:obfuscated", W_URL_OBFUSCATED, norm[m.start() : m.start() + 40].split(" ")[0]))
        trade = self.config.trade_rules
        for m in _RE_OFFER_START.finditer(SEP + norm) if trade else ():  # position p here is p - 1 in norm
            i = bisect_right(norm_starts, m.start(1) - 1) - 1
            out[i].append(Finding("trade:offer", W_OFFER, m.group(1)))
        priced: set[int] = set()
        for m in _price_hits(norm) if trade else ():
            i = bisect_right(norm_starts, m.start()) - 1
            if i in priced:
                continue
            priced.add(i)
            end = norm_starts[i + 1] - 1 if i + 1 < len(norm_starts) else len(norm)
            t = _RE_TRADE.search(norm, norm_starts[i], end)
            verb = t.group(0) if t is not None else ("出" if norm.startswith("出", norm_starts[i]) else "")
            if verb:  # 出… at the start of a message is "selling …" in group-trade slang
                out[i].append(Finding("trade:price", W_TRADE, f"{verb} {m.group(0)}"))
        if wide:
            linked = hinted | {i for i, fs in enumerate(out) if fs and any(f.code == "url:obfuscated" for f in fs)}
            parts = norm.split(SEP)
            sub = SEP.join([parts[i] for i in wide])
            linked_sub = [j for j, i in enumerate(wide) if i in linked]
            sub_out = self._scan_chinese(sub, _starts_of([parts[i] for i in wide]), linked_sub)
            promos = self.config.promo_rules
            for i, fs in zip(wide, sub_out, strict=True):
                if fs:
                    out[i].extend(fs if promos else [f for f in fs if not f.code.startswith("promo:")])
        if "@" in norm:
            for m in _RE_AT_HANDLE.finditer(norm):
                i = bisect_right(norm_starts, m.start()) - 1
                before = norm[max(norm_starts[i], m.start() - 16) : m.start()]
                if _RE_TG_CTX.search(before):
                    out[i].append(Finding("contact:telegram", W_CONTACT, before.strip() + m.group(0)))
            for m in _RE_MENTION_ALL.finditer(norm):
                i = bisect_right(norm_starts, m.start()) - 1
                out[i].append(Finding("mention:all", W_MENTION_ALL, m.group(0)))
        return out

    @classmethod
    def _scan_chinese(cls, norm: str, norm_starts: list[int], linked: list[int]) -> list[list[Finding]]:
        """The rules for Chinese text (income claims, promotions, notices, scams, warnings), run
        over the batch's texts with CJK characters only (``norm`` joins just those): a dozen
        literal-led patterns cost ~0.03 s per 100,000 mixed messages each over the whole batch."""
        out: list[list[Finding]] = [[] for _ in norm_starts]
        for m in _RE_INCOME.finditer(norm):
            i = bisect_right(norm_starts, m.start()) - 1
            out[i].append(Finding("claim:income", W_INCOME, m.group(0)))
        for m in _RE_INCOME_WORDS.finditer(norm):
            if m.start() > 0 and norm[m.start() - 1] in "能可松":
                i = bisect_right(norm_starts, m.start()) - 1
                if not any(f.code == "claim:income" for f in out[i]):
                    out[i].append(Finding("claim:income", W_INCOME, norm[m.start() - 1 : m.end()]))
        for m in _RE_CTA_NUMBER.finditer(norm):
            i = bisect_right(norm_starts, m.start()) - 1
            end = norm_starts[i + 1] - 1 if i + 1 < len(norm_starts) else len(norm)
            if _RE_OFFER_WORDS.search(norm, norm_starts[i], end) and not any(f.code == "promo:contact" for f in out[i]):
                out[i].append(Finding("promo:contact", W_PROMO, m.group(0)))
        for m in _RE_NOTICE.finditer(norm):
            i = bisect_right(norm_starts, m.start()) - 1
            out[i].append(Finding("context:notice", W_NOTICE, m.group(0)))
        cls._scan_promotions(norm, norm_starts, out, set(linked))
        for m in _RE_REFERRAL.finditer(norm):
            i = bisect_right(norm_starts, m.start()) - 1
            out[i].append(Finding("context:referral", W_REFERRAL, m.group(0)))
        for m in _RE_WARNING.finditer(norm):
            i = bisect_right(norm_starts, m.start()) - 1
            out[i].append(Finding("context:warning", W_WARNING, m.group(0)))
        return out

    @staticmethod
    def _scan_promotions(norm: str, norm_starts: list[int], out: list[list[Finding]], linked: set[int]) -> None:
        """Commercial promotions, phishing links, new-payee scams and reporting (推广短信/钓鱼/换号诈骗).

        The offer pattern runs over the batch (one pass); the rest only over the few messages it
        or a payee/masked-number pattern hits.
        """

        def bounds(i: int) -> tuple[int, int]:
            return norm_starts[i], (norm_starts[i + 1] - 1 if i + 1 < len(norm_starts) else len(norm))

        offers: dict[int, set[str]] = {}
        for m in _RE_PROMO_OFFER.finditer(norm):
            word, k = m.group(0), m.start()
            if word == "折":
                after = norm[k + 1 : k + 2]
                if not ((k > 0 and norm[k - 1] in _OFFER_DIGITS) or after == "起" or norm[k - 1 : k] == "打"):
                    continue
                word = norm[max(0, k - 1) : k + 1]
            offers.setdefault(bisect_right(norm_starts, k) - 1, set()).add(word)
        promises = {bisect_right(norm_starts, m.start()) - 1 for m in _RE_PROMO_PROMISE.finditer(norm)}
        news = {bisect_right(norm_starts, m.start()) - 1 for m in _RE_NEWS.finditer(norm)}
        notices = {i for i, fs in enumerate(out) if fs and any(f.code == "context:notice" for f in fs)}
        for i in sorted((offers.keys() | promises) - news - notices):
            lo, hi = bounds(i)
            offer = offers.get(i, set())
            act = _RE_PROMO_ACT.search(norm, lo, hi)
            sender = _RE_PROMO_SENDER.search(norm, lo, hi)
            promise = _RE_PROMO_PROMISE.search(norm, lo, hi) if i in promises else None
            # an offer (or a seller's promise) needs one more sign of an ad: a second offer, a
            # promise, a way to act, a business voice
            listing = norm.count("、", lo, hi) >= 2
            signs = (len(offer) > 1) + (promise is not None) + (act is not None) + (sender is not None) + listing
            if sender is None and _RE_CHAT_VOICE.search(norm, lo, hi) is not None:
                signs -= 1  # a neighbour's tip (开业打八折，味道还不错，改天一起去吃) is no shop's voice
            if (offer and signs) or (promise is not None and signs > 1):
                if not offer:
                    signs -= 1  # the promise was the first sign
                found = [*sorted(offer)[:2], *(m.group(0).strip() for m in (promise, act, sender) if m is not None)]
                weight = W_PROMO_OFFER + W_PROMO_SIGN * (min(signs, 3) - 1)
                out[i].append(Finding("promo:offer", weight, " ".join(found)))
        # quiet ads (no offer words): a contact field in a message that lists goods or services
        # (蚂蚁搬家，居民搬家、公司搬迁、钢琴搬运，电话：…) or speaks as nobody in particular (办证刻章，
        # 各类证件，电话…); a member giving their number says 我, reporting gives no number
        fields: list[tuple[int, str]] = []
        for m in _RE_CONTACT_FIELD.finditer(norm):
            i = bisect_right(norm_starts, m.start()) - 1
            lo, hi = bounds(i)
            prev = norm[m.start() - 1] if m.start() > lo else " "
            if m.group(0)[0].isascii() and (norm[lo:hi].isascii() or prev.isalpha()):
                continue  # "tel:"/"qq:" in English chat, or the end of a nick (kartonschachtel:)
            fields.append((i, m.group(0)))
        # ... or ends with a name and a number (张老师xxxxxxxxxxx): only messages ending in a
        # digit are searched
        for i, part in enumerate(norm.split(SEP)):
            if len(part) > 12 and part[-1] in _NUMBER_END:
                tail = _RE_SIGNED_NUMBER.search(part, len(part) - 40 if len(part) > 40 else 0)
                if tail is not None:
                    fields.append((i, tail.group(0)))
        for i, evidence in fields:
            if i in news or any(f.code in ("promo:offer", "context:notice") for f in out[i]):
                continue
            lo, hi = bounds(i)
            if norm.count("、", lo, hi) >= 2 or _RE_PERSONAL.search(norm, lo, hi) is None:
                out[i].append(Finding("promo:offer", W_PROMO_OFFER, "… " + evidence))
        for i in sorted(news):
            out[i].append(Finding("context:news", W_NEWS, ""))
        for i in sorted(linked):
            lo, hi = bounds(i)
            hook = _RE_PHISH_HOOK.search(norm, lo, hi)
            if hook is not None and _RE_PHISH_VERB.search(norm, lo, hi) is not None:
                out[i] = [f for f in out[i] if f.code != "context:notice"]  # a phishing link dressed as a notice
                out[i].append(Finding("phish:link", W_PHISH, hook.group(0)))
        for m in _RE_PAYEE.finditer(norm):
            if "您的" in m.group(0) or "你的" in m.group(0):
                continue  # 款项将打入您的工资卡: money to the reader's own account
            i = bisect_right(norm_starts, m.start()) - 1
            lo, hi = bounds(i)
            if _RE_PAYEE_CTX.search(norm, lo, hi) is not None:
                out[i].append(Finding("scam:payee", W_PAYEE, m.group(0)))
        for i in sorted({bisect_right(norm_starts, m.start()) - 1 for m in _RE_AUTHORITY.finditer(norm)} - news):
            lo, hi = bounds(i)
            if _RE_AUTHORITY_ACT.search(norm, lo, hi) is not None:
                out[i].append(Finding("scam:authority", W_PAYEE, ""))
        for i in sorted({bisect_right(norm_starts, m.start()) - 1 for m in _RE_REFUND.finditer(norm)} - news):
            lo, hi = bounds(i)
            if _RE_REFUND_ACT.search(norm, lo, hi) is not None:
                # a scam dressed as a notice (您购买的商品…): the notice context does not apply
                out[i] = [f for f in out[i] if f.code != "context:notice"]
                out[i].append(Finding("scam:refund", W_PAYEE, ""))
        for m in _RE_REPLY_CODE.finditer(norm):
            i = bisect_right(norm_starts, m.start()) - 1
            if not any(f.code == "sms:reply" for f in out[i]):
                out[i].append(Finding("sms:reply", W_SHORTCODE, m.group(0)))
        for m in _RE_MASKED_PHONE.finditer(norm):
            k = m.start()
            if k == 0 or not ("a" <= norm[k - 1] <= "z"):
                i = bisect_right(norm_starts, k) - 1
                if not any(f.code == "contact:phone" for f in out[i]):
                    out[i].append(Finding("contact:phone", W_PHONE, m.group(0)))

    def scan(self, text: str) -> list[Finding]:
        return self.scan_batch([text])[0]


def _starts(joined: str) -> list[int]:
    """Start offset of each SEP-separated part of a joined string."""
    return _starts_of(joined.split(SEP))


def _starts_of(parts: Sequence[str]) -> list[int]:
    """Offsets of the parts in ``SEP.join(parts)``: running sum of lengths plus one SEP each."""
    if not parts:
        return [0]
    return [c + i for i, c in enumerate(accumulate(map(len, parts), initial=0))][: len(parts)]


def _price_hits(norm: str) -> Iterator[re.Match[str]]:
    """Prices: ``40r``/``5 rmb`` directly, ``25元``/``¥99`` when a digit is next to the sign."""
    yield from _RE_PRICE_R.finditer(norm)
    for m in _RE_PRICE_SIGN.finditer(norm):
        k = m.start()
        before = norm[k - 1] if k > 0 else ""
        if before == " " and k > 1:
            before = norm[k - 2]
        after = norm[k + 1] if k + 1 < len(norm) else ""
        if before.isdigit() or (m.group(0) in "¥￥" and after.isdigit()):
            yield m


# --- combining --------------------------------------------------------------------------------


def rule_logit(findings: Sequence[Finding]) -> float:
    """Sum of finding weights with caps: weak and medium keywords only add up so far.

    A contact handle (WeChat/QQ/phone) next to any solicitation keyword earns the combo bonus,
    so ``vx: abc123 兼职`` is spam even when the model has never seen such text. A scam warning
    (``context:warning``: 被骗, 千万别信 …) subtracts and demotes strong keywords to medium ones;
    handles, links and QR codes keep their full weight (a "防骗" ad with a WeChat ID is spam).
    """
    total = 0.0
    weak = medium = 0.0
    seen: set[str] = set()
    has_contact = has_phone = False
    solicit = 0.0
    # someone warning about a scam quotes its vocabulary: strong words count as medium ones then
    warned = any(f.code in ("context:warning", "context:news", "context:notice") for f in findings)
    for f in findings:
        if f.code in seen:
            continue
        seen.add(f.code)
        if f.code.startswith("keyword:"):
            solicit += f.weight
            if warned and f.weight > kw.MEDIUM:
                medium += kw.MEDIUM
            elif f.weight <= kw.WEAK:
                weak += f.weight
            elif f.weight <= kw.MEDIUM:
                medium += f.weight
            else:
                total += f.weight
        else:
            if f.code == "contact:phone":
                has_phone = True
            elif f.code.startswith(("contact:", "qr:contact", "invite:")):
                has_contact = True
            total += f.weight
    # one weak word is ordinary chat (价格, 活动); only the second and later ones count
    total += min(max(weak - kw.WEAK, 0.0), WEAK_CAP) + min(medium, MEDIUM_CAP)
    # a handle (WeChat/QQ/invite) with any sales word; a phone number needs a real solicitation
    # (not in a transactional notice: a courier's 联系电话 is how to reach him, not a sales pitch)
    noticed = any(f.code in ("context:notice", "context:referral") for f in findings)
    if not noticed and ((has_contact and solicit >= kw.WEAK) or (has_phone and solicit >= kw.MEDIUM)):
        total += W_COMBO
    return total


def mention_findings(mentions: int, config: SpamRulesConfig) -> list[Finding]:
    if mentions >= config.mass_mention:
        return [Finding("mention:mass", W_MASS_MENTION, str(mentions))]
    return []


# --- QR codes in images -----------------------------------------------------------------------

ImageInput = bytes | str | Path


def decode_qr(image: ImageInput) -> list[str]:
    """Texts of the QR codes (and other 2D codes) in an image given as bytes or a local path.

    Decoding uses zxing-cpp (maintained C++ port of ZXing, wheels for every platform) on an image
    opened by Pillow. Unreadable images give ``[]``: a broken image is not evidence of spam.
    """
    import io

    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        img: Image.Image = Image.open(io.BytesIO(image) if isinstance(image, bytes | bytearray) else Path(image))
        img.load()
    except (OSError, UnidentifiedImageError, ValueError):
        return []
    if img.mode not in ("L", "RGB"):
        img = img.convert("RGB")
    try:
        results = zxingcpp.read_barcodes(img)
    except Exception:  # noqa: BLE001 - a decoder failure must never break moderation
        return []
    return [r.text for r in results if r.text]


def qr_findings(images: Iterable[ImageInput], config: SpamRulesConfig) -> list[Finding]:
    """Findings for the QR codes in a message's images: ``qr:invite``, ``qr:contact``, ``qr:pay``, ..."""
    out: list[Finding] = []
    for image in images:
        for text in decode_qr(image):
            low = text.strip().lower()
            if low.startswith("wxp://") or "qr.alipay.com" in low:
                out.append(Finding("qr:pay", 3.0, text))
                continue
            m = _RE_URL.search(low)
            if m is None:
                out.append(Finding("qr:code", 1.5, text))
                continue
            f = classify_url(m.group(0), config)
            if f.code.startswith("invite:"):
                out.append(Finding("qr:invite", W_INVITE + 0.5, text))
            elif f.code == "contact:wechat":
                out.append(Finding("qr:contact", 4.0, text))
            elif f.code == "url:allow":
                out.append(Finding("qr:url", 0.5, text))
            elif f.code == "url:deny":
                out.append(Finding("qr:deny", W_DENY, text))
            else:
                out.append(Finding("qr:url", 2.0, text))
    return out
