"""Default keyword lists (关键词库) for the spam rules.

Weights are log-odds added to the model's score (see :mod:`.rules`): ``STRONG`` alone makes a
message spam, ``MEDIUM`` needs one more signal, ``WEAK`` words (promotion vocabulary that honest
chat also uses) only count together. Chinese entries are matched on the ``compact`` form (spaces
and symbols removed, simplified, casefolded), so ``加 V 信`` and ``加薇信`` are found; Latin and
Cyrillic phrases are matched on whole words of the ``norm`` form.

The Russian stop phrases come from umputun/tg-spam ``data/stop-words.txt`` (MIT), the same list
as ``../shared/data/spam/tg_spam_stop_words.txt``.
"""

from __future__ import annotations

STRONG = 4.0
MEDIUM = 2.0
WEAK = 1.0

#: contact solicitation and scam vocabulary in Chinese (群广告/微商/刷单/贷款/博彩/色情引流)
ZH_STRONG = [
    # add me on WeChat/QQ, in every disguise
    "加微信", "加我微信", "加v", "加vx", "加wx", "加薇", "加威信", "加徽信", "加卫星", "加q", "加qq",
    "飞机搜", "电报搜", "tg搜", "评论区扣1", "评论区扣个1",
    "加扣", "加扣扣", "加企鹅", "加我v", "加我q", "加我qq", "加我好友", "加好友咨询", "私信咨询",
    "加群领取", "扫码加", "扫码进群", "扫码领取", "扫一扫加", "长按识别", "识别二维码",
    "薇信", "威信号", "徽信", "v信", "vx号", "wx号", "微信号", "卫星号",
    # paid tasks / part-time scams (刷单/兼职)
    "刷单", "兼职日结", "日结工资", "日赚", "日入过", "月入过万", "月入上万", "躺赚", "稳赚不赔",
    "打字员", "点赞员", "手工活外发", "宝妈兼职", "在家兼职", "兼职招聘", "招兼职",
    "淘宝刷", "需要垫付", "垫付本金", "做任务赚", "动动手指", "一单一结",
    # loans, invoices, cash-out (贷款/发票/套现)
    "无抵押", "秒下款", "下款快", "黑户可", "信用卡套现", "套现", "代开发票", "开发票", "发票代开",
    "低息贷", "网贷", "借款秒", "征信花",
    # gambling (博彩)
    "博彩", "百家乐", "时时彩", "六合彩", "彩票计划", "北京赛车", "棋牌平台", "网赌",
    # adult lures (色情引流)
    "约炮", "裸聊", "同城约", "福利视频", "看片", "少妇", "成人视频",
    # ad disclaimers group spammers write (广告勿踢/管理勿踢/商请撤回)
    "勿踢", "物踢", "商请撤回", "晋商撤回", "晋商勿踢", "晋商请撤回", "禁商", "可商群", "广告位", "打扰了勿怪",
    # unsubscribe boilerplate of SMS ads
    "回t退订", "退订回t", "拒收请回", "退订回复",
    # agent/affiliate recruiting (招代理/微商)
    "招代理", "诚招代理", "招募代理", "代理加盟", "一件代发", "零投资", "无需投资",
    "引流", "涨粉", "刷粉", "刷赞", "代刷", "多拉多得", "拉人头", "进裙", "加裙", "裙号", "回复td",
    # WeChat-group ad idioms (朋友圈/头像/滴滴/砍一刀/羊毛/博彩/币圈)
    "详情看头像", "看我头像", "加头像", "看我朋友圈", "看朋友圈", "需要的滴滴",
    "滴滴我", "dd我", "帮我砍", "薅羊毛", "撸羊毛", "淘口令", "复制这段", "注册送",
    "彩金", "返水", "美女荷官", "线上娱乐", "稳赚", "保本高收益", "高回报", "无需经验", "一部手机就能",
    "手机就能做", "带你赚钱", "内部渠道", "内部名额", "名额有限", "先到先得", "0元领", "零元购",
    # "my WeChat is my phone number" (微信同号) in its disguises
    "微信同号", "v同号", "vx同号", "薇同号", "威同号", "徽同号", "电话同号", "手机同号",
    # loans that need no credit, illegal look-ups (查人/开房记录/定位)
    "秒批", "黑白户", "白户可", "查开房", "开房记录", "通话记录", "定位手机", "手机定位", "查人找人",
    # profile lures (扫我头像/点我主页) and adult chat lures
    "扫我头像", "点我头像", "头像二维码", "主页有惊喜", "在线陪聊", "真人视频", "真人陪聊",
    # VPN sellers (机场/节点 are VPN slang)
    "机场节点", "特码", "不准不收钱", "起名改名",
    # impersonation openers and code theft (猜猜我是谁, 验证码发给我), debt collectors' threats
    "猜猜我是谁", "验证码发给我", "数字发给我", "验证码告诉我", "通讯录里的所有人", "发给你通讯录", "爆通讯录",
    # credit-card cash-out and repayment services (代还/垫还/养卡)
    "代还", "垫还", "养卡", "空卡",
    # asking for card data or codes: phishing (钓鱼); "请勿泄露/提供验证码" is a warning (see rules)
    *[v + m + o for v in ("回复", "填写", "提供", "发送", "告知", "输入", "登记", "上传", "核对")
      for m in ("", "您的", "你的", "个人")
      for o in ("卡号", "银行卡", "有效期", "背面三位", "安全码", "cvv", "验证码", "身份证号", "银行卡信息")],
    "扫码填写", "扫码认证", "扫码验证",
    # work-from-phone lures, pirated software keys
    "手机可做", "手机即可做", "在家可做", "永久激活",
    # social-platform lures (引流): the goods come by private message, the link sits on a profile
    # or in a second account (加主播小号), the comment section is told to leave a mark (留个1)
    "私信发你", "私信获取", "私信领取", "私信免费领", "不信就私", "链接放我主页", "链接放我笔记",
    "链接在我主页", "链接在主页",
    "群号在我置顶", "加主播小号", "加助理小号", "小号下单", "评论区留个", "留个1", "扣个666",
    # exam fraud, quack cures, loans without checks (代考/祖传秘方/不看征信), paid posting (素人铺量)
    "代考", "替考", "出答案", "祖传秘方", "一个疗程", "男士福音", "不看征信", "不查征信", "不查负债",
    "秒下", "停催", "协商停催", "素人铺量", "笔记代发", "包收录", "闭眼冲", "不买后悔",
    # pig-butchering openers (杀猪盘: a soldier abroad, a lonely expat, a wrong add)
    "维和部队", "加错人了",
    # junk mail (垃圾邮件): paid publication, clearance sales, advance-fee fraud (受益人…事成之后),
    # newsletters' unsubscribe boilerplate, adult shops
    "包发表", "欲购从速", "事成之后", "回复邮件索取", "您收到此邮件", "成人用品",
    # QQ-group ads outside games' own cheats: exam cheating gear, adult "benefit" packs, zero-down
    # phones for students, pirated VIP access, cheap top-ups (作弊耳机, 福利姬, 0首付, 加蔻)
    "看空间", "作弊耳机", "福利姬", "量大从优", "0首付", "私我下单", "加蔻", "蔻蔻", "全站vip", "免费领皮肤",
    "刷战力",
    # scams of 2024-26: recovering lost money, Steam "mistaken report", fake diplomas, cash-out of
    # bank cards and SIMs (收银行卡), "million cover" auto-debits, QR codes "in the attachment"
    "挽回损失", "追回被骗", "误举报", "学信网可查", "刷流水", "收银行卡", "收手机卡", "收闲置手机卡", "百万保障",
    "扫描附件二维码", "保证金认证", "加维", "真人娱乐", "首充送", "提款秒到", "私密发货", "降三高", "同城夜",
    # short-video and marketplace scams: homophones of 微信, a "wrong transfer", screen sharing, a
    # QR code to "unfreeze" a sale, giveaways with a deadline, channels elsewhere, K-line gurus
    "加微", "歪信", "嶶信", "威亻言", "薇亻言", "加个扣扣", "转错了", "屏幕共享", "会议软件", "收款确认",
    "二维码解冻", "付款码你扫", "链接里付款", "逾期视为放弃", "电报频道", "资金翻倍", "带你一起赚", "同城妹子",
    "来主页找我", "入口看简介", "点开头像", "点开我头像", "缴纳培训费", "扣666", "投流渠道", "高价回收",
    # Telegram/Discord gray market: USDT cash-out and laundering, money mules (跑分, 过流水, 收款拿佣金),
    # SMS-code services, seed-phrase theft, escorts, pump groups, account kits (四件套)
    "高价收u", "黑u", "洗u", "u换现金", "现金交割", "成功后再收费", "助记词发给我", "同步助记词", "帮我们收款",
    "收点货款",
    "过流水", "账户借我", "卡农", "外围投注", "外围赛", "全国可约", "商务模特", "不走银行", "四件套", "灰产", "拉盘",
    "喊单", "包机票",
    # the realistic-register set: brothels as tea, betting tips, bulk SMS, cheats, account farms, escorts
 "品茶约会", "高端会所", "上期全红", "要跟的私", "充多少送多少", "短信群发", "扫码申领", "有护照", "透视自瞄",
 "量大价优", "不上不收费", "同城yue", "点击头像", "深夜福利", "入口在简介", "加我薇", "保录用", "好评返现", "首冲",
 "vx在主页", "未认证者将被移出", "链接放评论区", "走个账", "转进来再转出去", "千粉号", "群控", "微信多开",
 "自动加好友", "链接见主页", "一刀999", "新区开服", "1v1视频", "真人在线", "luo聊", "截图找我领", "套出来", "互粉",
 "互关必回", "有关必回", "代练加", "代练私", "代练找我",
 # paid referrals, certificates rented out, degrees without exams, "study now, pay later" (培训贷)
 "证书挂靠", "付费内推", "包进面", "免试入学", "零首付入学", "不就业不收费", "降aigc",
 "原始股", "内部认购",
    # group chats: fake admins collecting data, leveraged stock accounts, betting tips, licence points
 "群主委托我", "配资", "加一下我微信", "原来的号被封", "感谢老师带我", "稳胆", "想跟的私", "真实可约", "消分",
 "不押证",
    # members' register: handles in the profile name or picture, group hijacks, fake parcels, escorts
 "名字里有号", "左边头像", "口口在", "不是打广告", "群马上解散", "今晚解散", "大号被封", "都能刷", "快递空包",
 "扫码即领", "提现秒到", "截图私我", "微同", "男女技师", "高端私密", "刷票", "人工投票", "准时开车",
    # private-message scams: nude photos, renting out accounts and identities, sign-up bounties, coins
    "私房照", "出租微信号", "借你的身份", "借你身份证", "拉得越多", "白送币", "返息", "就能翻倍", "回报率特别高",
    "免息借款", "不好喝不要钱",
    # community-group ads: pinyin-mixed loans, health scams for the elderly, dating groups, returns
    "dai款", "li息", "私me", "免费试睡", "单身交友", "保本保息", "关注就送", "代开各类", "想看图的加我", "追回损失",
    # hold-out 6 (many community kinds): escorts chosen by photo, Putian fakes, sure-fire visas
    "照片选人", "发照片选", "一手货源", "百分百出签", "包出签", "淘宝老号",
    # family and investing groups: chain messages, "tips" to collect, fake fee re-collection
    "不转不是", "是中国人就转", "明日金股", "私信我领", "加我威", "原缴费作废",
    # Taiwan and Hong Kong (繁體, read simplified): LINE as 赖, stock "teachers", the 分期 scam, escorts
    # as tea, loans without a credit check, money mules paid to "lend" an account
    "加赖", "加我赖", "赖id", "加line", "加我line", "加个line", "飙股", "威而钢", "犀利士", "隐密出货",
    "免联征", "作业疏失", "解除分期", "海关没收", "本地妹", "外送茶", "借钱找我", "征币商", "出租银行帐户",
    "出租银行账户", "首存送",
    # Malaysia and Singapore: online casinos, private loans, "doctors won't tell you"
    "网上赌场", "注册就送", "借钱找", "私人借贷", "免抵押", "投注开户", "医生都不告诉你", "扣分代消", "包赢",
    "出靓号",
    # the obfuscation set: knock-out drops, private streams, adult packs
    "迷药", "听话水", "私密直播", "成人资源",
]  # fmt: skip

#: lures that send readers to the poster's profile (引流到主页/简介/签名档): a verb, 我, the place;
#: between STRONG and MEDIUM (the lure itself is the ad, but a creator may point to their works)
PROFILE_LURE = 3.0
#: no verb is inside another (看看我 holds 看我), so one lure gives one finding
_LURE_VERBS = ("看我", "戳我", "点我", "进我", "来我", "去我", "翻我", "在我", "见我")
_LURE_PLACES = (
    "空间", "置顶", "合集", "名字", "头像", "主页", "简介", "签名", "个签", "作品", "专栏", "橱窗", "动态", "资料卡",
    "小店", "店铺", "粉丝群", "昵称",
)  # fmt: skip
PROFILE_LURES = [v + m + p for v in _LURE_VERBS for m in ("", "的") for p in _LURE_PLACES]

ZH_MEDIUM = [
    "兼职", "代理", "返利", "返现", "贷款", "额度", "利息", "放款", "下款", "理财", "荐股", "牛股",
    "涨停", "带单", "收益", "回本", "投资", "赚钱", "副业", "私信我", "详询", "咨询热线",
    "热线", "免费领取", "领红包", "大额红包", "中奖", "恭喜您", "恭喜你", "抽奖", "优惠券", "加盟",
    "招商加盟", "火爆招商", "微商", "进群", "加群", "入群", "群号", "联系方式", "联系电话", "致电", "来电",
    "拨打", "退订", "出售", "收购", "低价", "特价", "秒杀", "折扣", "折起", "促销",
    "秒结", "无上限", "详情咨询", "优惠活动", "可商", "外挂", "卡密", "渱包",
    "代开", "税点", "承接", "无需抵押", "当天到账", "有意者", "菠菜", "必中",
    "私我", "戳我", "扣我", "v我", "领取资格", "免费送", "包赔", "高收益", "宝妈",
    "学生党", "在家", "正规平台", "靠谱平台", "懂的来", "拉群", "入群", "群福利", "优惠券",
    "券后", "助力", "提现", "usdt", "币圈", "合约", "空投", "挖矿", "主页",
    "日结", "一单", "多劳多得", "招募", "包过", "代办", "刷信誉", "补单", "不降权", "重金求子", "神器",
    "无效退款", "不反弹", "包教包会", "不用投入", "零成本", "零风险", "扣1", "扣个1", "免押金", "无押金",
    "招人", "代写", "价格可议", "价格美丽", "砍一刀", "看我主页", "同城交友", "陪聊", "翻墙", "需要的找我",
    "需要了解的", "随时找我",
    # social-platform sales and lures (厂家直供, 夜场, 有缘人, 蓝v号 …)
    "厂家直供", "搜店名", "夜场", "有缘人", "蓝v号", "代发", "铺量", "网d", "日结高薪", "不需要经验",
    "一个人在国外", "在国外工作", "军医",
    # game services and student lures in QQ groups
    "代充", "代打", "成品号", "邀请码", "新人送", "陪玩", "代做", "大尺度", "当天拿机", "地址私聊",
    # junk mail: "reply to this mail for the brochure" (回复本邮件索取), training and fair sellers
    "回复本邮件", "索取",
    # crypto shilling, paid engagement, quack cures, exam leaks, travel bait
    "上币安", "翻百倍", "百倍币", "立返", "高佣", "佣金", "买粉", "买赞", "上热门", "代投", "立竿见影", "纯中药",
    "内部押题", "命中率", "名额仅剩", "不用节食", "夜生活", "轻松副业", "包原创", "出证", "自动扣费", "影响个人征信",
    "各类证件", "一条龙", "祖传", "白条账户", "不然要封号",
    # the realistic-register set: B2B lists, SEO, exam answers, stock groups, growth hacks
 "新人到店", "精准营销", "海关数据", "询盘保证", "谷歌推广", "跟着导师", "薅一波", "下个软件", "客户数据", "代运营",
 "起号", "技能补贴", "东南亚", "打字就行", "不封号", "日卡月卡", "快速排名", "百度首页", "见面付", "懂的都懂",
 "看点不一样的", "降重", "期刊发表", "gu票", "大v带", "写好评", "新盘",  "手慢无", "换绑",
 "考试答案", "增高", "爆率", "库存尾货", "关注领", "回关", "网站建设", "app定制", "资源多多",
    # group chats: teachers who carry you, new accounts, factory prices, fan-club fund-raising moved elsewhere
    "情趣内衣", "保密包装",
 "收集大家信息", "杠杆", "哪个平台", "只带", "券商首席", "房间号", "多赚", "新来的财务", "集资", "改到另一个群",
 "我的新号", "老师带", "又红了", "带的币", "工厂直销", "名字就是", "看了不亏", "违章代办", "抵押车",
    # members' register: casual sales and lures (某宝搜, 报我名字, 拿货价, 跟着群里的老师)
 "头像有", "在头像", "某宝搜", "报我名字", "进新群", "加新群", "一千粉", "真实单号", "赚零花钱", "带我的老师",
 "我的空间有", "还能赚钱", "应用商店搜", "私密护理", "拿货价", "同行价", "跟着群里的老师", "抖音搜", "内购价",
 "带你入门", "内部群",
    # private-message scams: tips, "辛苦费" for an identity, sign-up bounties, expats with a platform
    "垫付", "学生兼职", "刷个礼物", "辛苦费", "拉新", "空投项目", "养老项目", "支付分", "寄个小样", "有好东西分享",
    "在香港做", "在新加坡做", "做外汇", "看一下盘", "只带你", "监管牌照",
    "代付", "柬埔寨", "缅甸", "星探", "科学上网", "接码", "助记词", "私服", "远程处理", "借我用几天", "马尼拉",
    "工作签", "机票公司出", "添加在线客服", "换汇", "汇率比银行", "也能办", "学历证明", "u盾", "对公账户", "做盘",
    "风控冻结", "私下细聊", "搜同名", "下载我们的app", "收抖音号", "出厂价", "私下给",
    "主播的助理", "不满意不收钱", "添加客服", "加助理", "添加助理", "加官方助理", "加我看", "新微信", "看简介",
    "磁疗", "专治", "送鸡蛋", "满五唯一", "比市场价低", "比挂牌价低", "脱单", "扫这个码",
    "直播间号", "群友价", "朋友圈天天更新", "渠道价", "这是我新号", "来我办公室", "zhuang修", "全bao",
    "数量有限", "评职称", "罚没", "受益人", "严格保密", "诚邀", "展位", "内训", "考前培训",
    # off-platform moves and private groups (引流): 去微信聊, 我拉你进群, 进我粉丝群
    "去微信聊", "微信聊", "加微信聊", "私下聊", "体验群", "福利群", "粉丝群",
    "有你想要的", "评论区见", "懂的私",
    # finance ads, investment scams (杀猪盘: a relative/mentor with inside tips)
    "提额", "大额分期", "口子", "点位", "带你做", "带你试试", "先体验", "小额体验", "黄金期货",
    "内部消息", "稳定收益", "收益稳定", "办公室来一趟", "到我办公室", "卖疯了", "我最近在做", "开区",
    "装备全靠打",
    "停息挂账", "债务优化", "征信修复", "逾期协商", "协商还款",
    # jobs that ask nothing (主播招聘/包就业), diet products, knock-offs, game accounts, piracy
    "包就业", "不露脸", "招主播", "线上主播", "新人扶持", "不节食", "减肥茶", "掉秤",
    "高仿", "同厂", "原单", "复刻", "a货", "初始号", "自抽号", "代练", "代肝", "支持中介", "代上分", "看头像", "壮阳",
    "挂靠", "不用到岗", "保面试", "包毕业", "学费可分期", "有偿分享",
    "激活码", "秒发", "网盘链接", "度盘", "资源合集", "全套资源",
    # dating lures, fake official notices (补贴/认证/冻结), fake brand collaborations
    "寂寞", "可以约吗", "同城约吗", "扫码关注", "验证身份", "已失效", "已冻结", "将被冻结", "将被注销", "立即认证",
    "重新认证", "进行认证", "补贴申报", "领取补贴", "补贴领取", "体验官", "免费寄样",
    # pinyin abbreviations (whole words): jz = 兼职, yhq = 优惠券
    "jz", "yhq",
    # site-address lures of gambling, porn and game-server ads (永久地址, 地址发布页, 防走失)
    "永久地址", "最新地址", "地址发布页", "发布页", "防走失",
    # forum and comment-section lures (贴吧/微博/B站): "DM me" slang, the profile or pinned post as the
    # shop, "reply 1 and I send it", stranger openers of romance scams, sellers' lines
    "要的滴滴", "需要的滴滴", "感兴趣的滴滴", "想要的滴滴", "滴滴我", "欢迎来撩", "这里什么都有", "频道里什么都有",
    "里面什么都有", "主页自取", "放主页", "主页置顶", "签名里", "空间有好", "我空间有", "看我空间", "私信聊",
    "挨个发", "你懂的", "有渠道", "已经私你", "私我拿货", "隐私发货", "持久增大", "一比一", "专业批发", "生发",
    "骨骺线", "永久更新", "vip影视", "问答推广", "关键词置顶", "品牌曝光", "收徒", "月入五位数", "月入六位数",
    "很投缘", "想找个哥哥", "加个v聊", "找个人聊聊天",
    # game-cheat sellers' lines in every game community (防封, 绕过检测, 不跑路; 开纪 is 开挂 disguised)
    "防封", "绕过检测", "稳定不封", "不跑路", "开纪",
    # hold-out 6: links and files by private message, giveaways that collect numbers, rebates,
    # home "massage", wholesale liquor, fake class fees, account sales, "secret method" lures
    "链接私发", "私发链接", "需要的扣", "留邮箱", "留下邮箱", "留下手机号", "评论区留手机号", "返点",
    "上门按摩", "年轻技师", "量大可谈", "二维码缴费", "扫码缴费", "不用面签", "顶帖送", "天出单",
    "不便公开", "信誉号",
    # family and investing groups: 会场 gifts, auction-appraisal scams, shills of a "teacher",
    # pensions that pay monthly, ETC and vote phishing, 医保卡 spending, miracle cures
    "送挂面", "送按摩椅", "量血压送", "扫码送", "扫描下方二维码", "高价上拍", "鉴定费", "好项目", "想带带",
    "带你上车", "翻倍不是梦", "点赞一次", "金股", "发1领", "本金随时", "领试用装", "速领", "从没亏过",
    "从来没亏过", "按老师说的", "排毒", "重新缴纳", "扫以下二维码", "刷医保卡", "要清零了", "外面买不到",
    "微信授权",
    # Taiwan and Hong Kong: DMs for the price, tips and sure wins, fast loans, replicas, diet jabs
    "赖我", "私讯报价", "私讯下单", "意者私", "有兴趣私", "先汇款", "明牌", "包中", "老虎机", "爆分", "隐密包装",
    "免保人", "当天拨款", "信用瑕疵", "免留车", "币商", "减肥针", "不用处方", "顶级原单", "现场挑", "女大生",
    "诚意的加", "误设为", "解除设定", "连续扣款", "即可领奖", "幸运粉丝", "直播班", "分析师的助理", "老师的助理",
    "想学的留言", "ig简介", "月报酬", "月息", "躺着领", "天回本", "报了一支", "公开一档", "送一档", "翻倍的股票",
    "老师操作", "义务教学", "购买方式", "出金", "怎么开户", "烟弹", "看价目表", "证照", "快速出件", "跑分",
    # Malaysia and Singapore: DMs (inbox 我), embassy robocalls, auto-debit "errors", amulets, cures
    "inbox我", "工厂货源", "大使馆", "法律文件", "系统错误", "被设置成", "转接人工", "开光", "招财转运", "不用开刀",
    "三天见效", "whatsapp订购", "不收前费", "pinjaman", "开户送", "亚盘", "有眼缘", "老板pm", "抗癌", "癌症克星",
    "度数降",
    # the obfuscation set: the handle in the nickname or a reply, split in halves or to be worked
    # out, a dot spelt out, gambling and betting tips, detectives, cheats, exam answers
    "看昵称", "见昵称", "群在回复里", "图上有号", "评论有惊喜", "前三位", "后六位", "前五位", "后五位", "前半截",
    "后半截", "自己算", "倒过来", "空格去掉", "去掉空格", "www点", "点com", "点cn", "点cc", "点top", "点xyz",
    "点vip", "点net", "某度搜", "围脖搜", "搜我号", "真钱", "上下分", "炸金花", "让球盘", "内部水位", "稳单",
    "内部料", "赌球", "玩大小", "不中退款", "付费内容", "onlyfans", "男人都懂", "要的dd", "需要的dd",
    "私家侦探", "婚姻调查", "估价回收", "秒收", "整合债务", "以贷养贷", "考前一小时", "不准全退", "自瞄",
    "官方检测不到", "增高药", "做任务", "首单必返",
    # campus and dating groups: 代办/代跑 for freshmen, escorts (空降), "the girls nearby" apps, 茶托
    "帮你代办", "一对一陪", "漂亮女生", "空降", "看名字", "代跑", "附近的人", "附近的妹", "附近有个妹子",
    "我在里面等你", "私我上门", "照片合集", "群里不能发", "带你去坐坐", "私我约", "名字私聊",
    # work and developer groups: reviews for sale, app-store ranking, rented payment accounts, licences
    # without an exam
    "差评处理", "好评优化", "加我备注", "刷榜", "刷评论", "私聊详谈", "截客户", "拿试用", "账户出租", "账号出租",
    "实名认证全套", "不用考试", "直接拿证",
    # hold-out 7 (read once untuned, then learnt from): account resale, tax-refund lures, "cures",
    # debts paid later abroad, points on a licence erased, sure bets, group-buying of subscriptions
    "需要的私", "有需要的私", "原生号", "个税退款", "点击领取", "节点稳定", "绿色上网", "调理三高", "药都停了",
    "需要的加我", "先欠后还", "扣1了解", "包开户", "不用本人到场", "天下卡", "代消", "群主朋友", "不提分", "私信了解",
    "关注公众号回复", "小火箭免费", "靓号", "需要的老板", "不赢", "跟着我做", "朋友圈自己看", "会员拼车", "扫码上车",
    "看你头像",
    # very short lures (a few words and a way to act): the model has nothing to go on there
    "一元抢", "tg群见", "在简介里", "加威", "私我拿", "可约", "一周瘦", "推单", "连红", "复制口令", "领现金",
    "驾照分", "极速版", "私信领", "瑟瑟", "每天发福利", "发主页", "点头像", "送资料",
    "上星", "秒到", "莆田鞋",
]  # fmt: skip

ZH_WEAK = [
    "优惠", "活动", "限时", "免费", "领取", "备注", "客服", "拉你进", "福利", "会员", "折优惠", "抢购", "预约", "报名",
    "咨询", "代购",
    "价格", "联系", "电话", "微信", "qq", "官网", "名额", "仅需", "只需", "赠送", "元起",
    "新品", "上市", "全场", "惊喜", "火爆", "钜惠", "巨惠", "最低", "机会", "商家",
    "尊敬的客户", "尊敬的会员", "满减", "特惠", "五折", "大促", "私聊", "发票", "实惠", "详聊",
    "跨境电商", "有兴趣的", "感兴趣的", "有意", "速来", "诚信", "当面交易", "正品", "专柜",
    "划算", "半价", "查重", "捧场", "包邮", "充值", "价格好说", "有惊喜",
    "保真", "吱一声", "交个朋友", "高薪", "公开课", "通过率", "报价单", "发表论文",
    "网课", "脚本", "终身", "闲鱼价", "埋伏", "回电", "押题", "急售", "年化", "费率", "迪拜", "测试员",
    "冲榜", "我是卖", "外汇", "支持验货", "批发价", "专享价", "拨款", "贴士", "正妹",
    "灵验", "见效", "赔率", "送礼首选", "专属优惠", "jackpot",
 "带飞", "辅助",
    # 红包 is everyday group chat (群主发红包, a 红包 activity): only 领红包/大额红包 are medium
    "红包",
]  # fmt: skip

EN_STRONG = [
    "free entry", "claim your", "you have won", "you've won", "cash prize", "call now to claim",
    "text stop", "reply stop", "txt stop", "send stop", "unsubscribe", "guaranteed return",
    "passive income", "work from home", "earn from home", "investment platform", "click the link below",
    "dm me for", "message me on whatsapp", "whatsapp me", "contact me on telegram", "join my channel",
    "crypto signals", "forex signals", "airdrop", "double your", "make money online",
    # wallet-drainer giveaways (Telegram/Discord): none in the SMS, Telegram ham or #ubuntu log
    "drop your wallet", "connect your wallet", "send your wallet address", "add whatsapp", "part-time job available",
]  # fmt: skip

EN_MEDIUM = [
    "claim", "prize", "winner", "urgent", "guaranteed", "click here", "limited offer",
    "bonus", "crypto", "bitcoin", "forex", "investment", "withdrawal", "profit", "earn", "income",
    "ringtone", "voucher", "award", "dm me", "inbox me", "telegram", "whatsapp",
    "presale", "altcoin", "received my payment", "add my whatsapp",
]  # fmt: skip

#: not used by default: the SMS-trained model already knows them and they are common in chat
EN_WEAK = [
    "offer", "call", "reply", "cash", "win", "won", "discount", "subscribe", "promo", "deal",
]  # fmt: skip

#: tg-spam stop phrases (instant spam in tg-spam) plus a few common Russian lures
RU_STRONG = [
    "в личку", "писать в лc", "пишите в лс", "в лuчные сообщенuя", "личных сообщениях",
    "заработок удалённо", "заработок в интернете", "заработок в сети", "для yдaлённoгo зaрaбoткa",
    "детали в лс", "ищу партнеров",
    "пиши в лс", "пишите в личку", "напиши в лс", "доход от", "без опыта", "удаленная работа",
    "удалённая работа", "пассивный доход", "в день без вложений",
]  # fmt: skip

RU_MEDIUM = [
    "заработок", "доход", "в лс", "крипта", "криптовалют", "арбитраж", "инвестиц", "вложений",
    "набираю людей", "ищу людей", "подработка", "оплата ежедневно",
]  # fmt: skip

#: Latin spellings of contact words that are matched on the compact form (w.e.i.x.i.n → weixin)
COMPACT_LATIN = [
    ("weixin", MEDIUM), ("wechat", WEAK), ("jiaweixin", STRONG), ("jiav", MEDIUM),
    ("qmqqcom", STRONG), ("jqqqcom", STRONG), ("tmejoinchat", STRONG), ("discordgg", MEDIUM),
    ("chatwhatsappcom", STRONG),
]  # fmt: skip


def default_keywords() -> dict[str, float]:
    """Every default keyword with its weight (the strongest wins when a word is listed twice)."""
    out: dict[str, float] = {}
    for words, weight in (
        (ZH_WEAK, WEAK),
        (ZH_MEDIUM, MEDIUM),
        (EN_MEDIUM, WEAK),
        (RU_MEDIUM, MEDIUM),
        (ZH_STRONG, STRONG),
        (PROFILE_LURES, PROFILE_LURE),
        (EN_STRONG, STRONG),
        (RU_STRONG, MEDIUM + 1.0),
    ):
        for w in words:
            out[w] = max(weight, out.get(w, weight))
    for w, weight in COMPACT_LATIN:
        out[w] = max(weight, out.get(w, weight))
    return out
