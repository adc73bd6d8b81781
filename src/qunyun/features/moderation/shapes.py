"""Shapes of Chinese ads and scams (推广短信、钓鱼、冒充、退款诈骗) and the contexts that excuse them.

The keyword lists know *words*; these rules know the *shape* of a commercial SMS or a scam: an offer
with a way to act or a business voice, a quiet listing with a contact field, a phishing link, money
redirected to a new account, a fake authority, compensation through "customer service" — and the
contexts in which such words are innocent (a notice, reporting, a warning, a referral). They were
built from blind sets of Chinese SMS and group chat written by helper sessions that never saw them
(docs/moderation.md, "Measured"); the model, trained on QQ-group trade, English SMS and Telegram,
cannot carry such text.

:func:`scan_chinese` runs over the batch's texts with CJK characters only, joined with ``SEP``.
Every pattern run over the whole batch is a flat alternation of literals, so ``re`` skips ahead:
one ``[充存]…`` or ``(?:店|馆)…`` branch made a pass 10-20x slower.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from .findings import W_PHONE, W_SHORTCODE, Finding, bounds, find_all, has_code, without
from .normalize import SEP

# --- weights (log-odds) -----------------------------------------------------------------------
W_INCOME = 2.0  # an income claim: 一天100-300, 日入500, 一单3元 (兼职/刷单 lures)
W_WARNING = -3.0  # a member warning others about a scam (小心刷单诈骗, 我被骗了): the vocabulary is the scam's
W_PROMO_CONTACT = 2.5  # an offer (送/元起/开盘/早鸟价) with a number to call or book (电话：…): a promotion SMS
W_PROMO_OFFER = 3.0  # an offer (x折, 满减, 开业, 招生) + one more sign: a second offer, a way to act, a seller
W_PROMO_SIGN = 0.75  # each further sign
W_PHISH = 2.5  # a link next to an account threat or a prize (冻结/过期/中奖 … 点击/登录)
W_PAYEE = 3.0  # money to a new account (房东换号了，房租打到…卡), a fake authority (涉嫌洗钱…请拨打)
W_NEWS = -2.0  # reporting (记者, 据悉, 同比): demotes strong keywords like a warning
W_REFERRAL = -1.5  # a member recommending a tradesman (表哥介绍的…你提我名字就行): no contact combo
W_FORUM = -3.0  # a forwarded forum post (发信人/信区): like a notice, its prices and numbers are not an ad
W_PEERS = -1.5  # people who know each other (同学/师兄/室友/课题组), a member's own used things
W_PAID_TASK = 3.0  # money per click: 投一票给2块红包, 助力成功每人发红包, 注册完给你5块 (拉人头/刷单)
W_DM_SCAM = 3.0  # a private-message scam: impersonated relative/boss, 杀猪盘, code theft, fee first
W_NOTICE = -2.5  # a transactional notice (取件码, 行程已结束, 验证码为): its 联系电话/优惠券 are not an ad

#: the codes of the shapes above that recognise an ad or a scam by its form, not its words: where
#: one fires, the detector does not let the model's "ham" outvote it (``detector.STRUCTURAL_FLOOR``)
STRUCTURAL = frozenset(
    {
        "promo:offer", "promo:contact", "promo:search", "phish:link", "scam:payee", "scam:authority",
        "scam:refund", "scam:paid_task", "scam:recovery", "scam:marketplace", "scam:impersonation",
        "scam:romance", "scam:code", "scam:fee_first", "sms:reply", "chain:forward",
    }
)  # fmt: skip

# --- patterns over the norm form -------------------------------------------------------------
#: an income claim (the lure of 兼职/刷单/副业 ads)
_RE_INCOME = re.compile(
    r"(?:一天|每天|一单|一小时|每小时|月入|日入|日赚|月赚|日收入|月收入|时薪|日薪|轻松赚|躺赚)"
    r"(?:[^0-9\x00]{0,4}[0-9]+|[一二三四五六七八九十两几百千万]{1,5}(?:[元块k]|(?<=万)))"
)
#: a promised return on a stake (投100第二天就返130): the shape of a Ponzi or task scam (a separate
#: pattern: as a branch of the one above it made that pass four times slower)
_RE_RETURN = re.compile(
    r"投[0-9一二两三四五六七八九十百千万]{2,}[元块]?[^0-9\x00]{0,8}返(?:息)?[0-9一二两三四五六七八九十百千万]{2,}"
)

#: 一天能赚好几百, 轻松挣几千: the amount in words (no unit needed after 百/千/万); 能/可/松 right
#: before 赚 is checked in code (a pattern that starts with 赚/挣 lets ``re`` skip ahead)
_RE_INCOME_WORDS = re.compile(r"[赚挣](?:到|了)?好?[几一二三四五六七八九十两百千万]{1,4}(?:[元块k]|(?<=[百千万]))")

#: words of someone warning about a scam, not running one, or of a group rule naming what is
#: forbidden (群规: 禁止发布广告、刷单兼职…), or of a notice telling people to keep a code secret
_RE_WARNING = re.compile(
    r"被骗|骗了|骗子|骗局|诈骗|被诱导|虚假|千万别信|千万别点|不要点|别点|别上当|不要上当|小心上当|小心诈骗|是诈骗|诈骗电话|刷单诈骗|反诈|防骗"
    r"|谨防|警惕|冒充|不要相信|请勿泄露|切勿泄露|不要泄露|请勿告知|请勿转发"
    r"|禁止发|禁止广告|严禁发|严禁广告|不得发|违者"
    # complaints about spam and questions about a scheme: the member talks *about* the ad
    r"|全是广告|都是广告|打广告|广告打得|营销号|是托|传销|骚扰|差点就信|差点信了|大家小心|能不能管管|管管吧"
    r"|烦死了|求助|靠谱吗|该信吗|可信吗|是真的吗|直接划走|果断拒绝|割韭菜|智商税|已举报|举报了"
    r"|千万别碰|别碰|违法的|是违法|要谨慎|千万别去|别信|你们也小心|小心点|要小心|禁止|截图了|谁发谁|别转账|都是假的|是假的|自称|没这回事|直接挂了"
    # ... and saying what they do *not* do (不用加微信, 平台有保障, 群里只聊天不卖东西)
    r"|不加微信|不用加微信|不会让你(?:交|付|转|先|们|加)|平台有保障|压根没|引流号|不卖东西|那个广告|广告说|楼上那个|不要随便|不会以任何理由"
    r"|是钓鱼|钓鱼链接|钓鱼网站|被盗号|直接举报|被坑|一眼p|被管理踢|绝对不会|旗号|不带货"
    # admins and members discussing spam words themselves (关键词过滤, 说白了就是洗钱, 血的教训)
    r"|关键词(?:过滤|屏蔽)|屏蔽关键词|自动删|然后踢|好奇|说白了|血的教训|被盗过"
    r"|别理|不对劲|不可靠|退群|没有任何私下|不打算用|不收任何押金"
    # reports and explanations (避雷, 已报警, 科普一下…帮信罪, 别扫, 当真了, 有坑吗)
    r"|避雷|报警|投诉|别扫|踢了|留个心眼|确认了一下|科普|帮信罪|坐牢|别回|当真|有坑"
    # ... and jokes in ad slang (月入过万不是梦，是梦，醒醒; 稳赚不赔项目：早睡; 工资日结（结不了）)
    r"|醒醒|结不了|早睡|笑死|哈哈哈|😂|🤣|梦里|我也想|管住嘴|一杯奶茶|早点睡"
    r"|这种短信|收到过|差点点了|不靠谱|开玩笑|疯狂星期四|又在骗"
    # forum talk about other comments' ads and about a scheme (我劝她别代理了, 这种号就不能封了吗,
    # 这东西是合法的吗, 充500送50划算吗, 给大家提个醒; each starts with a rarer character: a common
    # first character — 的, 我, 就, 真 — makes this pass half as slow again)
    r"|劝[她他你]别|别来\)|别去加|别加那些|不要加那些|封了吗|合法的?吗|划算吗|值得吗|提个醒|引以为戒"
    # explainers of a scheme (杀猪盘的流程, 这套话术, 二次诈骗, 软广, 抽奖号), members asking (想问下),
    # the shop or the player refusing it (不以任何形式, 不欢迎代练), and the lure as a joke
    # (点我头像有惊喜——惊喜就是我长得丑); the sixth session's game, commerce and Weibo/Zhihu sets
    r"|杀猪盘|这套话术|话术都|二次诈骗|破绽|中招|软广|抽奖号|查得很严|想问下|想问一下|一律不要|服了"
    r"|不以任何形式|不欢迎|惊喜就是|毕生所学|直接挂断|请挂断|还有人信|还信啊|这梗|挺坑|没理他|没理她|我没理"
    # admins keeping the group to talk (别在群里喊单, 理性讨论); hold-out 6
    r"|别在群里|理性讨论"
    # ... a bank's or a broker's own risk statements, "borrowing on WeChat is not me" (family set)
    r"|别乱点|千万不要|须谨慎|需谨慎|绕过关键词|也会查|又来一个|已封|别私聊|直接踢|不负责|不用找人|不用找任何人|别找|都不信|不保本|风险测评|都不是我|千万别买|假冒|请勿转给|不构成建议"
)

#: an advertiser's disclaimer (我不是打广告啊，就是真心推荐…): it names ads, but to deny being one
#: (不是骗子 too, but not 是不是骗子, a question: checked in code, as a lookbehind here would cost
#: ``re`` its skip-ahead)
_RE_DISCLAIMER = re.compile(
    r"不是打广告|不是广告|没打广告|不算广告|不是骗子|不是骗人|不是传销|不是赌博|不让发广告|这个是真的|这次是真的"
)

#: quoting what spammers write (有人说"看我主页有惊喜", 那种「高薪兼职群」, 网上说的"信用卡提额"): found by the
#: opening quote, then the word before it is checked (as alternatives of the warning pattern, their
#: common first characters 发/说/写 made that pass twice as slow)
_RE_QUOTE_OPEN = re.compile('["“「『]')
#: ... but a quoted reply code (发“1”自动回复, 回“1”我私你) is an instruction, not a quote
_QUOTE_CLOSE = '"”」』'
_QUOTE_VERBS = (
    "写", "发", "收到", "那个", "号称", "说", "说的", "什么", "那种", "这种", "一堆", "看到", "所谓", "叫",
    "都是", "全是", "那些", "以为", "转发", "写着", "很多", "有个", "大量", "私聊我", "私信我", "被",
)  # fmt: skip
#: a comment-section seller with no handle: "有需要考公资料的可以找我", "想学的来找我", "懂的来，不懂的别问",
#: "想赚钱的来，不想的划走", "加我说一下就行" (an offer of help — 有需要帮忙的可以找我 — is not one)
#: (found by the rarer tail — 找我, 划走 … — and the head before it checked in code: led by 有/想/要,
#: which start a tenth of all Chinese words, the pattern was tried at every such position)
_RE_ASK_TAIL = re.compile(r"找我|加我说一下|划走|别问|勿扰|别来|私我|滴滴")
_RE_ASK_NEED = re.compile(r"(?:有需要|想学|想赚钱|想要|要资源)[^\x00,。!?]{0,12}?的(?:可以)?(?:来)?$")
#: ... or "DM me" after a reader's curiosity (想知道是啥的私我, 想了解私我: the product is kept hidden),
#: 滴滴 after any wish (需要的老板滴滴), or 滴滴 alone closing a message after a comma (…百分百出签，滴滴);
#: members selling their own things write 要的私我 (not matched), and 滴滴 the taxi is 打/叫/坐 滴滴
_RE_ASK_CURIOUS = re.compile(r"(?:想知道|想了解)[^\x00,。!?]{0,10}$")
_RE_ASK_DM = re.compile(r"(?:想知道|想了解|想要|要的|需要|感兴趣|想学|想入|想做|想试)[^\x00,。!?]{0,10}$")
_RE_ASK_HEAD = re.compile(r"的来[, ]?不[^\x00,。!?]{0,3}的$")
_HELP = ("帮忙", "帮助", "问题")
W_ASK_ME = 2.0

#: a signature line under a comment (笑死哈哈哈 ———— 全网VIP影视免费看): the ad after it is not excused
#: by the joke or the warning before it
_SEPARATORS = ("———", "----", "====", "____", "~~~~")

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
    r"|您已成功|账户尾号|卡尾号|已临时调升|骑手已|骑手电话|预计送达|保养已完成|来店取车|可以取车|核销"
    r"|如非本人操作|如有疑问请|开奖号码|已开奖|已退回|已放款|已转入|存入尾号|扣款|已修改成功|已变更为|已欠费"
    r"|无需任何操作|户号|收件人|停水|停电|物业通知|检修|售后组|全国联保|运单号|寄回|签收|挂号信|税号"
    # a school's own offices (院办通知, 校医院, 教务处)
    r"|院办|校医院|教务处|研究生院|学工办|就业指导中心|图书馆通知"
    # a lost pet or relative, a found dog (走失, 寻主): the phone number is how to bring it back
    r"|走失|寻主|寻狗|寻猫|寻人启事|捡到一只"
    # ... a found thing, an adoption (领养问卷): the number is how to give it back or take it home
    r"|捡到一个|捡到了|领养"
    # ... a residents' committee's own notice (社区通知, 居委会)
    r"|社区通知|居委会|同乡会通知|寺庙通知|庙方|法会|信众|辅导员通知"
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
_DIGIT_X = frozenset("0123456789x")

#: a self-introduction of a dating group (女，96，170，重庆…, 本人男，35，国企…): a member, unless the
#: profile talks money (本人女，29，做黄金现货，跟着老师赚了不少: the 杀猪盘 opener)
_RE_PROFILE = re.compile(r"[男女][,，] ?[0-9]{2}(?:年|岁|后)?[,，]")
_RE_PROFILE_MONEY = re.compile(r"期货|黄金|现货|带她|带你|赚了|收益|平台|投资")

#: people who know each other (同学, 师兄, 室友, 课题组, 学生会) or a member selling their own
#: used things (骑了一年, 有点划痕, 毕业带不走, 可小刀): a campus mailing list, a class group
_RE_PEERS = re.compile(
    r"各位同学|同学们|各位校友|各位老师|各位同门|师弟|师妹|师兄|师姐|同门|课题组|实验室|室友|宿舍|学生会|研究生会"
    r"|团委|社团|组会|老乡|我们班|班费|多退少补|老板让我|年买的|月买的|骑了|划痕|带不走|用不了了|不议价|小刀|站内信"
    r"|邮件列表|学长|学姐|学弟|学妹|考完了|用了一年|原价转|去不了|自用的|自用闲置|本人自用|自己闲置|个人闲置|群主自费"
    r"|接龙|团长|班长|邻居|自家闲置|自提|自取|闲置的|群友优先|车友会|跑团|中介勿扰|义卖|善款|自愿捐|公示"
    r"|改备注|群名片|aa制|场地费|买错|用过几次|自己来搬|自己搬|我家上个月|我私发你"
    # overseas students' own things and real job referrals (毕业回国, 转租, 内推, 领英)
    r"|毕业回国|毕业大甩卖|转租|来看车|内推|领英|无报酬|纯爱发电|团建"
    r"|只穿过|穿过一次|闲着没事|孩子长大了|用不完|送了|群满了|社区组织"
    r"|吃灰|年会抽的|家里有了|白送|给个邮费|没时间玩|穿过一两次|水群|找管理|聚餐|群主抽奖|留地址"
    # an admin pointing to the group's own places (备用群, 群号在群公告里)
    r"|备用群|群公告|公告里|见公告|放公告"
    # a family's outgrown or spare things and a buyer's budget (穿小的, 自己来拿, 预算三百以内, 限本小区)
    r"|穿小|自己来拿|出闲置|盒子有点|预算|本小区"
    # a load board: drivers and shippers trade loads with a phone number (找车, 能装, 回程车)
    r"|找车:|厢车|装货|卸货|回程车"
    # Taiwan and Hong Kong second-hand sales: meet to hand over (面交, 交收), the 7-11 parcel service
    r"|面交|交收|卖货便|用咗|自家院子|自家种|自己做的|家里多余|临时不能去|agent勿扰|钉钉|各付各的|群主组织|群昵称"
)

#: a forum post forwarded by mail (发信人: …, 信区: …, 发信站, 转载自, 原文由…所发表): a campus BBS or
#: mailing list, whose members sell, rent and organise among themselves; spam is not sent that way
_RE_FORUM = re.compile(r"发信人|信区|发信站|转载自|原文由")

#: a member passing on a tradesman's or a shop's number (表哥介绍的师傅…电话…，你提我名字就行)
_RE_REFERRAL = re.compile(
    r"介绍的|楼上问的|提我名字|说是我介绍|你可以问问|我用过|给我家做过|我家做过|人实在|不坑|我妹开了|咱村|我哥开了|我姐开了"
)

#: chat between people who know each other (一起去, 改天, 给你留): a tip, not a shop's voice
_RE_CHAT_VOICE = re.compile(r"一起去|改天|味道还不错|我买了|给你家|给你带|你家|刚买了|不知道质量|挺甜|我妈")

#: a person speaking or spoken to (我/你/他, family words): not the voice of an ad
_RE_PERSONAL = re.compile(r"我|你|咱|他|她|妈|爸|哥|姐|弟|妹|老公|老婆|宝宝|大家|同学|老师")

#: ... or a business speaking (【签名】, 本店, 售楼处, 王经理, a shop's name at the end) ...
_RE_PROMO_SENDER = re.compile(
    r"【|本店|我店|我司|本公司|本院|我院|本中心|本机构|售楼处|售楼部|经理|店长|顾问|客服|本厂|我厂"
    r"|(?:店|馆|中心|公司|厂|学校|医院|机构|工作室|商行|超市|广场|先生|女士|阿姨|老师)[ 。.!！]*(?:\x00|$)"
)

#: ... unless it is news about one (记者, 据悉, 同比): reporting quotes the vocabulary it reports on
_RE_NEWS = re.compile(
    r"快讯|记者|据悉|据了解|数据显示|同比|环比|报道称|消息称|出台|通报|统计局|发布会|我市|我省|我区|全市|全省|政策调整"
    r"|监管|总局|业内人士|专家提醒|提醒广大|印发|部署|银监会|银保监|人民银行|不少|受.{0,8}影响|共有|最终录用"
    r"|投资者|消费者需|据报道|据介绍|宣布|一些|有些商家|该县|该市|该省|该区|该公司|该平台|该行|上调至|下调至|提高至"
    r"|警方提醒|打掉|团伙|抓获|破获|落网|判处|立案|一名(?:男子|女子|退休|老人|学生|市民|网友|员工|司机)|一男子|一女子|多地|某地|当地|消协|提醒消费者"
)

#: phishing: a link with an account threat or a prize (已冻结…请点击 http://…, 恭喜您…请登录 www…领取)
_RE_PHISH_HOOK = re.compile(
    r"过期|冻结|失效|异常|停用|注销|升级|核实|认证|领取|中奖|抽中|兑换|补贴|退款|理赔|积分|额度|无法派送|重新填写"
    r"|成绩单|照片|相册|视频|清零|无法投递|被盗|异地登录|更新地址|逾期退回|助记词|永久封禁|违规|存在风险|限制收款"
    r"|被锁|锁定|暂停|断电|到期|待处理|未缴|税费|重新派送|解锁|验证"
)

_RE_PHISH_VERB = re.compile(
    r"登录|登陆|点击|访问|打开|进入|查看|看看|解冻|通过|同步|完成|速点|授权|支付|付款|处理|更新|验证|解锁|激活"
)

#: a new payee (换号了，房租打到这张卡): money redirected to an account named in the message
_RE_PAYEE = re.compile(
    r"(?:打到|转到|汇到|转入|汇入|打入)[^\x00]{0,14}?(?:卡|账户|账号|银行)|往[^\x00]{0,8}?(?:卡|账户|账号)上?(?:转|打|汇)"
    r"|(?:打|转|汇)[^\x00，。,]{0,6}?到[^\x00]{0,8}?(?:卡|账户|账号)|转[一二两三四五六七八九十几百千万0-9x]+(?:块|元)?给"
    r"|打[我他她][^\x00，。,]{0,4}?卡上|(?:汇款|转账|打款)到[^\x00]{0,6}?[0-9x]{12}"
    r"|(?:转|打|汇)(?:到)?(?:这个|这张)卡|(?:转|打)我(?:支付宝|微信)|转至[^\x00]{0,8}?账户"
)
#: ... or to a bare card number (请先转5000到 6217…): found by its literal 到, the amount checked
#: before it (one more branch in the pattern above would double the cost of its pass)
_RE_PAYEE_CARD = re.compile(r"到 ?[0-9x]{12}")
_RE_PAYEE_AMOUNT = re.compile(r"[转打汇][0-9x]{2,}(?:块|元)?$")

_RE_PAYEE_CTX = re.compile(
    r"换了?(?:手机|卡)?号|新号|户名|房租|房东|老板|领导|财务|手机坏了|同学的号|急需|急用|别打电话|不方便接电话|账号我发你|否则"
    r"|手机掉|同学手机|钱包被偷|出差|指定账户|回去马上还|抢救|手术费|别告诉|个人账户|应急"
)

#: impersonated authorities (冒充公检法/医保局): a case or a frozen account, and a number to call
_RE_AUTHORITY = re.compile(
    r"涉嫌|洗钱|配合调查|安全账户|解冻|通缉|传票|强制执行|违章记录|未处理|移交公安|异常消费|办理退税|可获退税"
    r"|违禁品|已扣押|承担法律责任|退还购置税|atm机|按提示操作"
)

_RE_AUTHORITY_ACT = re.compile(r"拨打|致电|回电|联系|点击|登录|转入|转到|汇入|配合|按[0-9x]号键")

#: refund scams (退款诈骗): compensation offered through a "customer service" contact
_RE_REFUND = re.compile(
    r"退款|理赔|赔付|双倍赔偿|退货退款|可获补偿|获得补偿|可获赔偿|延误补偿|元补偿|补偿金|赔偿|自动续费|罚款|扣押"
    r"|自动扣款|每月将扣|重复扣款|多扣|召回|补交|补缴"
)

_RE_REFUND_ACT = re.compile(
    r"(?:联系|添加|加|加下|加一下|拨打)(?:官方|处理)?(?:客服|专员|理赔专员|售后)|(?:客服|专员)(?:qq|微信|电话|热线)?[:：]|(?:客服|专员)(?:qq|微信)"
    r"|(?:致电|拨打|联系|回电) ?[0-9x][0-9x-]{6}"
    # ... or steps only a scammer asks for: a QR code, a "reserve fund", a search in Alipay, screen sharing
    r"|扫描下方二维码|扫码进入|加一下微信|备用金|支付宝搜|按照我的指引|按指引|按客服的步骤|开通保证金|缴纳保证金"
    r"|屏幕共享|会议软件"
    # ... a loan app to open to "refund through", screenshots of the wallet, the code received, a payee
    r"|配合操作|配合一下|开通微粒贷|开通了微粒贷|开通借呗|开通了借呗|零钱截图|余额截图|收到的验证码|转账到这个|支付宝账号"
    # ... Taiwan's 分期 scam: "add the official LINE" to cancel the instalments
    r"|官方line|客服line|加line|加入官方|加我whatsapp|whatsapp办理|加whatsapp"
)

#: second-hand marketplace scams (闲鱼/转转 买家诈骗): the "buyer" has paid, and the seller must click a
#: link, scan a code or sign an agreement before the money arrives
_RE_MARKET = re.compile(
    r"确认收款|链接收款|才能收款|卖家协议|卖家认证|保证金才能|才能把钱|钱到不了|到不了你|付款码才能|确认收货就行|解冻收款"
)
_RE_MARKET_ACT = re.compile(r"链接|二维码|扫一下|扫码|付款码|点击|点一下|点这个|点开|我发的码")

#: "search for this name" soft ads (某宝搜‘小白丸’第一家, 搜“轻盈梅”就有): a quoted product name to
#: search for, and where the result is; found by the quote after 搜
_RE_SEARCH_AD = re.compile(
    r"搜[\"“‘「『'][^\"”’」』'\x00]{1,12}[\"”’」』'](?:就有|就行|即可|第一家|第一个|就出来|可见)"
)
W_SEARCH_AD = 2.5

#: "reply a code to get it" (回复x获取, 回复Y查看详细资料, 请速按x号键): premium/scam SMS
_RE_REPLY_CODE = re.compile(
    r"回复 ?[a-z0-9]{1,4} ?(?:即可)?(?:获取|查看|订购|开通|领|参与|了解|查询)|按[0-9x]号键"
    r"|按[0-9] ?(?:查询|转接|了解|进入|收听|咨询)"  # 请按9查询详情, 按1转接人工客服 (a robocall's menu)
)

#: money per click (投一票给2块红包, 每人发红包) ... next to the click it pays for
_RE_PAID = re.compile(
    r"给你发[0-9一二两三四五六七八九十]|给[0-9一二两三四五六七八九十]|发[0-9一二两三四五六七八九十]|送[0-9一二两三四五六七八九十]"
    r"|每人发|每人给"
)
_RE_PAID_TAIL = re.compile(r"[0-9一二两三四五六七八九十]{0,3}(?:块|元)?(?:钱)?(?:的)?红包")
_RE_TASK = re.compile(r"投票|投一票|投个票|助力|砍一刀|帮砍|注册|下载|点一下|点赞|关注|转发|好评|拉人")

#: recovery scams (追回损失, 成功后再收费): they speak the victims' words (被骗), which must not count
#: as a scam warning there
_RE_RECOVERY = re.compile(r"追回|挽回损失")
_RE_RECOVERY_ACT = re.compile(r"团队|专业|收费|成功后|律师|技术")
#: ... unless a member tells what happened to them (还好我上网查了一下, 差点, 之前有个"律师")
_RE_NARRATIVE = re.compile(r"还好|差点|之前有个|上网查")

#: scams told in a private message (私信诈骗): each needs two signs in one message
#: - someone you know (or your boss) asks for money, urgently or secretly (熟人/领导借钱)
_RE_IMPERSONATE = re.compile(
    r"我是你|我是您|换号了|换了号|新号码|私人微信|我是.{1,4}的同学|我是.{1,2}总|我是.{1,2}局"
    r"|哥,|姐,|爸,|妈,|舅舅|叔叔您好|阿姨您好|在外地|手机摔坏|手机坏了|借同事的|借朋友的手机"
)
_RE_MONEY_ASK = re.compile(
    r"转我|转给我|先转|给我转|转一笔|打给我|借[0-9一二两三四五六七八九十几百千万]|找我一趟|来我办公室|来公司找我"
    r"|有笔款|一笔款|先借我|借我一下"
    r"|交[^\x00，。,]{0,6}?(?:押金|保释金|手术费|医药费|罚款)"
)
_RE_URGENT = re.compile(r"急|别告诉|别跟|先别|不方便接|马上|住院|出事|派出所|千万别|声张")
#: - an endearment and an investment platform in one message (杀猪盘: 亲爱的…平台今天开放充值)
#: (我老公搞二手车的 is a husband, not an endearment: the 我 is checked in :func:`_endearments`)
_RE_ENDEAR = re.compile(r"亲爱的|宝贝|老婆|老公")
_RE_PLATFORM = re.compile(r"平台|充值|收益|提现|提出来|保证金|赚了|翻倍|老师|看盘|信号|行情")
#: - the verification code someone "sent by mistake" (验证码发错了，告诉我)
_RE_CODE_THEFT = re.compile(
    r"验证码[^\x00]{0,24}?(?:告诉我|发给我|发我|报给我|念给我)|六位数字告诉我|那串数字告诉我|数字告诉我"
)
#: - a fee before the job, the date, the payout or the unfreezing (先交押金/入会费/认证费/保证金)
_RE_FEE = re.compile(
    r"押金|入会费|会员费|认证费|培训费|保证金|手续费|解冻费|激活费|违约金|购买培训课程|信息费|税金|会费|材料费"
)
#: ... paid first: 交/缴纳 within a few characters before the fee (the fee nouns are the rarer
#: literals, so they lead the batch pass)
_RE_FEE_PAID = re.compile(r"(?:交|缴纳|付)[^\x00，。,]{0,6}$")
_RE_FEE_CTX = re.compile(
    r"工作|入职|接单|见面|开通|拍|项目|签约|放行|解冻|收款|提现|流量|结业|包分配|写真|派单|货主|奖金|领奖|扫码|审核|样品|大单"
)

#: chain messages (转发这条消息到三个群…): forwarding is what they ask for (不转不是中国人 is a keyword:
#: a branch led by 不, one of the commonest characters, would cost the pass its skip-ahead)
_RE_CHAIN = re.compile(r"转发[^\x00,。!?]{0,8}?[0-9一二两三四五六七八九十几]+个群")
W_CHAIN = 2.5

#: an 11-character number masked as x (anonymized corpora write 13812345678 as xxxxxxxxxxx)
_RE_MASKED_PHONE = re.compile(r"xxxxxxxxxxx(?!x)")  # a literal: 20x faster than x{11}


def scan_chinese(norm: str, norm_starts: list[int], linked: list[int]) -> list[list[Finding]]:
    """The rules for Chinese text (income claims, promotions, notices, scams, warnings), run
    over the batch's texts with CJK characters only (``norm`` joins just those): a dozen
    literal-led patterns cost ~0.03 s per 100,000 mixed messages each over the whole batch."""
    out: list[list[Finding]] = [[] for _ in norm_starts]
    _mark(_RE_INCOME, "claim:income", W_INCOME, norm, norm_starts, out)
    _mark(_RE_RETURN, "claim:income", W_INCOME, norm, norm_starts, out)
    for m in _RE_INCOME_WORDS.finditer(norm):
        if m.start() > 0 and norm[m.start() - 1] in "能可松":
            i = bisect_right(norm_starts, m.start()) - 1
            if not has_code(out[i], "claim:income"):
                out[i].append(Finding("claim:income", W_INCOME, norm[m.start() - 1 : m.end()]))
    for m in _RE_CTA_NUMBER.finditer(norm):
        i = bisect_right(norm_starts, m.start()) - 1
        lo, hi = bounds(norm, norm_starts, i)
        if _RE_OFFER_WORDS.search(norm, lo, hi) and not has_code(out[i], "promo:contact"):
            out[i].append(Finding("promo:contact", W_PROMO_CONTACT, m.group(0)))
    for m in _RE_ASK_TAIL.finditer(norm):
        k = m.start()
        i = bisect_right(norm_starts, k) - 1
        if has_code(out[i], "keyword:找我"):
            continue
        tail = m.group(0)
        lo = max(norm_starts[i], k - 20)
        if tail == "加我说一下":
            start: int | None = k
        elif tail in ("私我", "滴滴"):
            head = (_RE_ASK_DM if tail == "滴滴" else _RE_ASK_CURIOUS).search(norm, lo, k)
            start = None if head is None else head.start()
            if start is None and tail == "滴滴" and norm[k - 1 : k] == "," and norm[m.end() : m.end() + 1] in ("", SEP):
                start = k - 1
        else:
            head = (_RE_ASK_NEED if tail == "找我" else _RE_ASK_HEAD).search(norm, lo, k)
            start = None if head is None else head.start()
        if start is not None and not any(h in norm[lo:k] for h in _HELP):
            out[i].append(Finding("keyword:找我", W_ASK_ME, norm[start : m.end()]))
    notices = _mark(_RE_NOTICE, "context:notice", W_NOTICE, norm, norm_starts, out)
    news = _hits(_RE_NEWS, norm, norm_starts)
    peers = _mark(_RE_PEERS, "context:peers", W_PEERS, norm, norm_starts, out)
    peers |= _mark(_RE_FORUM, "context:forum", W_FORUM, norm, norm_starts, out)
    for i in sorted(_hits(_RE_PROFILE, norm, norm_starts)):
        lo, hi = bounds(norm, norm_starts, i)
        if _RE_PROFILE_MONEY.search(norm, lo, hi) is not None:
            out[i].append(Finding("scam:romance", W_DM_SCAM, "profile"))
        elif i not in peers:
            out[i].append(Finding("context:peers", W_PEERS, "profile"))
            peers.add(i)
    _mark(_RE_SEARCH_AD, "promo:search", W_SEARCH_AD, norm, norm_starts, out)
    _mark(_RE_CHAIN, "chain:forward", W_CHAIN, norm, norm_starts, out)
    _promotions(norm, norm_starts, out, news | notices | peers)
    _quiet_ads(norm, norm_starts, out, news | peers)
    for i in sorted(news):
        out[i].append(Finding("context:news", W_NEWS, ""))
    # warnings are found once: the scam shapes skip the messages that warn about them, and the
    # findings are added after the scams' (in the order the rules have always produced them)
    # (误举报了 is the Steam "mistaken report" scam, not a member who reported one: checked here, a
    # lookbehind in the pattern made its pass eight times slower)
    warnings = [
        (bisect_right(norm_starts, m.start()) - 1, m.group(0), m.start())
        for m in _RE_WARNING.finditer(norm)
        if not (m.group(0) == "举报了" and norm[m.start() - 1 : m.start()] == "误")
    ]
    # a warning or joke above a signature line does not excuse the ad under it
    signed = _separators(norm, norm_starts)
    if signed:
        warnings = [w for w in warnings if not (w[0] in signed and w[2] < signed[w[0]])]
    warned = {i for i, _, _ in warnings}
    _scams(norm, norm_starts, out, set(linked), news, frozenset(warned))
    _mark(_RE_REFERRAL, "context:referral", W_REFERRAL, norm, norm_starts, out)
    for i, evidence, _ in warnings:
        out[i].append(Finding("context:warning", W_WARNING, evidence))
    disclaimers = {
        bisect_right(norm_starts, m.start()) - 1
        for m in _RE_DISCLAIMER.finditer(norm)
        if not (m.group(0).startswith("不是骗") and norm[m.start() - 1 : m.start()] == "是")
    }
    for i in sorted(disclaimers & warned):
        out[i] = without(out[i], "context:warning")
        warned.discard(i)
    for m in _RE_QUOTE_OPEN.finditer(norm):
        k = m.start()
        if norm.endswith(_QUOTE_VERBS, max(0, k - 3), k):
            if any(c in _QUOTE_CLOSE for c in norm[k + 1 : k + 4]):
                continue
            i = bisect_right(norm_starts, k) - 1
            out[i].append(Finding("context:warning", W_WARNING, norm[max(norm_starts[i], k - 3) : k + 1]))
            warned.add(i)
    for i in sorted(warned & _hits(_RE_RECOVERY, norm, norm_starts)):
        lo, hi = bounds(norm, norm_starts, i)
        if _RE_RECOVERY_ACT.search(norm, lo, hi) is not None and _RE_NARRATIVE.search(norm, lo, hi) is None:
            out[i] = without(out[i], "context:warning")
            out[i].append(Finding("scam:recovery", W_PAYEE, ""))
    return out


def _endearments(norm: str, norm_starts: list[int]) -> set[int]:
    """Messages with an endearment: 亲爱的, 宝贝, 老婆/老公 but not 我老婆/我老公."""
    return {
        bisect_right(norm_starts, m.start()) - 1
        for m in _RE_ENDEAR.finditer(norm)
        if not (m.group(0).startswith("老") and norm[m.start() - 1 : m.start()] == "我")
    }


def _separators(norm: str, norm_starts: list[int]) -> dict[int, int]:
    """Message → the position of its last signature line (one ``str.find`` scan per kind of line:
    a regex with five different first characters tried every position and cost 2x this pass)."""
    found: dict[int, int] = {}
    for sep in _SEPARATORS:
        for k in find_all(norm, sep):
            i = bisect_right(norm_starts, k) - 1
            found[i] = max(found.get(i, k), k)
    return found


def _mark(
    pattern: re.Pattern[str], code: str, weight: float, norm: str, norm_starts: list[int], out: list[list[Finding]]
) -> set[int]:
    """A finding for every match of ``pattern``; returns the messages it was found in."""
    hit: set[int] = set()
    for m in pattern.finditer(norm):
        i = bisect_right(norm_starts, m.start()) - 1
        out[i].append(Finding(code, weight, m.group(0)))
        hit.add(i)
    return hit


def _hits(pattern: re.Pattern[str], norm: str, norm_starts: list[int]) -> set[int]:
    """The messages in which ``pattern`` matches (one pass over the batch)."""
    return {bisect_right(norm_starts, m.start()) - 1 for m in pattern.finditer(norm)}


def _promotions(norm: str, norm_starts: list[int], out: list[list[Finding]], excused: set[int]) -> None:
    """Commercial promotions (推广): an offer or a seller's promise plus one more sign of an ad.

    The offer and promise patterns run over the batch (one pass each); the signs are looked for
    only in the messages they hit. ``excused``: news and notices, which are not looked at.
    """
    offers: dict[int, set[str]] = {}
    for m in _RE_PROMO_OFFER.finditer(norm):
        word, k = m.group(0), m.start()
        if word == "折":
            after = norm[k + 1 : k + 2]
            if not ((k > 0 and norm[k - 1] in _OFFER_DIGITS) or after == "起" or norm[k - 1 : k] == "打"):
                continue
            word = norm[max(0, k - 1) : k + 1]
        offers.setdefault(bisect_right(norm_starts, k) - 1, set()).add(word)
    promises: dict[int, str] = {}  # the first promise of each message
    for m in _RE_PROMO_PROMISE.finditer(norm):
        promises.setdefault(bisect_right(norm_starts, m.start()) - 1, m.group(0))
    for i in sorted((offers.keys() | promises.keys()) - excused):
        lo, hi = bounds(norm, norm_starts, i)
        offer = offers.get(i, set())
        act = _RE_PROMO_ACT.search(norm, lo, hi)
        sender = _RE_PROMO_SENDER.search(norm, lo, hi)
        promise = promises.get(i)
        # an offer (or a seller's promise) needs one more sign of an ad: a second offer, a
        # promise, a way to act, a business voice
        listing = norm.count("、", lo, hi) >= 2
        signs = (len(offer) > 1) + (promise is not None) + (act is not None) + (sender is not None) + listing
        if sender is None and _RE_CHAT_VOICE.search(norm, lo, hi) is not None:
            signs -= 1  # a neighbour's tip (开业打八折，味道还不错，改天一起去吃) is no shop's voice
        if (offer and signs) or (promise is not None and signs > 1):
            if not offer:
                signs -= 1  # the promise was the first sign
            signed = (m.group(0).strip() for m in (act, sender) if m is not None)
            found = [*sorted(offer)[:2], *([promise] if promise is not None else []), *signed]
            weight = W_PROMO_OFFER + W_PROMO_SIGN * (min(signs, 3) - 1)
            out[i].append(Finding("promo:offer", weight, " ".join(found)))


def _quiet_ads(norm: str, norm_starts: list[int], out: list[list[Finding]], news: set[int]) -> None:
    """Ads without offer words (蚂蚁搬家，居民搬家、公司搬迁，电话：…, 办证刻章…小陈xxxxxxxxxxx)."""
    # quiet ads (no offer words): a contact field in a message that lists goods or services
    # (蚂蚁搬家，居民搬家、公司搬迁、钢琴搬运，电话：…) or speaks as nobody in particular (办证刻章，
    # 各类证件，电话…); a member giving their number says 我, reporting gives no number
    fields: list[tuple[int, str]] = []
    for m in _RE_CONTACT_FIELD.finditer(norm):
        i = bisect_right(norm_starts, m.start()) - 1
        lo, hi = bounds(norm, norm_starts, i)
        prev = norm[m.start() - 1] if m.start() > lo else " "
        if m.group(0)[0].isascii() and (norm[lo:hi].isascii() or prev.isalpha()):
            continue  # "tel:"/"qq:" in English chat, or the end of a nick (kartonschachtel:)
        fields.append((i, m.group(0)))
    # ... or ends with a name and a number (张老师xxxxxxxxxxx): only messages ending in a
    # digit are searched
    for i, part in enumerate(norm.split(SEP)):
        # the pattern ends in a digit or x and optional 。/./space: nearly every Chinese sentence
        # ends in 。, so look past those before paying for a search
        if len(part) > 12 and part[-1] in _NUMBER_END and part.rstrip("。. ")[-1:] in _DIGIT_X:
            tail = _RE_SIGNED_NUMBER.search(part, len(part) - 40 if len(part) > 40 else 0)
            if tail is not None:
                fields.append((i, tail.group(0)))
    for i, evidence in fields:
        if i in news or any(f.code in ("promo:offer", "context:notice") for f in out[i]):
            continue
        lo, hi = bounds(norm, norm_starts, i)
        if norm.count("、", lo, hi) >= 2 or _RE_PERSONAL.search(norm, lo, hi) is None:
            out[i].append(Finding("promo:offer", W_PROMO_OFFER, "… " + evidence))


def _scams(
    norm: str,
    norm_starts: list[int],
    out: list[list[Finding]],
    linked: set[int],
    news: set[int],
    warned: frozenset[int],
) -> None:
    """Phishing links, new payees, fake authorities, refund scams, reply-a-code SMS, masked phones."""
    for i in sorted(linked):
        lo, hi = bounds(norm, norm_starts, i)
        hook = _RE_PHISH_HOOK.search(norm, lo, hi)
        if hook is not None and _RE_PHISH_VERB.search(norm, lo, hi) is not None:
            out[i] = without(out[i], "context:notice")  # a phishing link dressed as a notice
            out[i].append(Finding("phish:link", W_PHISH, hook.group(0)))
    # a payee needs its context (换号了, 急需, 老板 …): that literal pass picks the few messages the
    # costly payee pattern (its branches start with 打/转/汇, common characters) then reads
    payee_ctx = _hits(_RE_PAYEE_CTX, norm, norm_starts)
    for i in sorted(payee_ctx):
        lo, hi = bounds(norm, norm_starts, i)
        for m in _RE_PAYEE.finditer(norm, lo, hi):
            if "您的" in m.group(0) or "你的" in m.group(0):
                continue  # 款项将打入您的工资卡: money to the reader's own account
            # a new payee dressed as a notice (物业通知：水费请转入新账户…): the notice does not apply
            out[i] = without(out[i], "context:notice")
            out[i].append(Finding("scam:payee", W_PAYEE, m.group(0)))
    for m in _RE_PAYEE_CARD.finditer(norm):
        i = bisect_right(norm_starts, m.start()) - 1
        lo, hi = bounds(norm, norm_starts, i)
        if (
            i in payee_ctx
            and _RE_PAYEE_AMOUNT.search(norm, max(lo, m.start() - 12), m.start()) is not None
            and not has_code(out[i], "scam:payee")
        ):
            out[i].append(Finding("scam:payee", W_PAYEE, norm[max(lo, m.start() - 8) : m.end()]))
    for i in sorted(_hits(_RE_AUTHORITY, norm, norm_starts) - news):
        lo, hi = bounds(norm, norm_starts, i)
        # an anti-fraud notice (凡自称公检法…都是诈骗) describes the scam in the scam's own words
        if _RE_AUTHORITY_ACT.search(norm, lo, hi) is not None and i not in warned:
            out[i].append(Finding("scam:authority", W_PAYEE, ""))
    for i in sorted(_hits(_RE_REFUND, norm, norm_starts) - news):
        lo, hi = bounds(norm, norm_starts, i)
        if _RE_REFUND_ACT.search(norm, lo, hi) is not None and i not in warned:
            # a scam dressed as a notice (您购买的商品…): the notice context does not apply
            out[i] = without(out[i], "context:notice")
            out[i].append(Finding("scam:refund", W_PAYEE, ""))
    for i in sorted(_hits(_RE_MARKET, norm, norm_starts) - news - warned):
        lo, hi = bounds(norm, norm_starts, i)
        if _RE_MARKET_ACT.search(norm, lo, hi) is not None:
            out[i] = without(out[i], "context:notice")  # 已付款，请查收…: dressed as the platform's notice
            out[i].append(Finding("scam:marketplace", W_PAYEE, ""))
    for code, first, rest in (
        ("scam:impersonation", _hits(_RE_IMPERSONATE, norm, norm_starts), (_RE_MONEY_ASK, _RE_URGENT)),
        ("scam:romance", _endearments(norm, norm_starts), (_RE_PLATFORM,)),
    ):
        for i in sorted(first - news):
            lo, hi = bounds(norm, norm_starts, i)
            if all(pattern.search(norm, lo, hi) is not None for pattern in rest):
                out[i].append(Finding(code, W_DM_SCAM, ""))
    for m in _RE_FEE.finditer(norm):
        i = bisect_right(norm_starts, m.start()) - 1
        if i in news or has_code(out[i], "scam:fee_first"):
            continue
        lo, hi = bounds(norm, norm_starts, i)
        paid = m.group(0) == "购买培训课程" or _RE_FEE_PAID.search(norm, max(lo, m.start() - 8), m.start()) is not None
        if paid and _RE_FEE_CTX.search(norm, lo, hi) is not None and i not in warned:
            out[i].append(Finding("scam:fee_first", W_DM_SCAM, ""))
    for m in _RE_CODE_THEFT.finditer(norm):
        if "别" in m.group(0) or "不要" in m.group(0) or "勿" in m.group(0):
            continue  # 验证码别发给我: the opposite
        i = bisect_right(norm_starts, m.start()) - 1
        if not has_code(out[i], "scam:code"):
            out[i].append(Finding("scam:code", W_DM_SCAM, m.group(0)))
    for m in _RE_PAID.finditer(norm):
        tail = _RE_PAID_TAIL.match(norm, m.end() - (0 if m.group(0)[-1] in "发给" else 1))
        if tail is None:
            continue
        i = bisect_right(norm_starts, m.start()) - 1
        lo, hi = bounds(norm, norm_starts, i)
        if _RE_TASK.search(norm, lo, hi) is not None and not has_code(out[i], "scam:paid_task"):
            out[i].append(Finding("scam:paid_task", W_PAID_TASK, norm[m.start() : tail.end()]))
    for m in _RE_REPLY_CODE.finditer(norm):
        i = bisect_right(norm_starts, m.start()) - 1
        if not has_code(out[i], "sms:reply"):
            out[i].append(Finding("sms:reply", W_SHORTCODE, m.group(0)))
    for m in _RE_MASKED_PHONE.finditer(norm):
        k = m.start()
        if k == 0 or not ("a" <= norm[k - 1] <= "z"):
            i = bisect_right(norm_starts, k) - 1
            if not has_code(out[i], "contact:phone"):
                out[i].append(Finding("contact:phone", W_PHONE, m.group(0)))
