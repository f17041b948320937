#!/usr/bin/env python3
"""Writes data/demo/: a synthetic phone's worth of personal data (deterministic; re-run to regenerate).

  phone.jsonl    SMS, calls (transcripts), photos (captions / OCR), notes, one-off calendar entries
  calendar.ics   recurring events (weekly stand-up, monthly rent, yearly birthday) + one-offs
  contacts.vcf   contacts
  notes/         plain-text notes (.md / .txt)

"Now" for the retrieval cases is Friday 2026-11-20T10:00:00+08:00. Records named in the cases
(tests/retrieval/*.jsonl) are written out by hand below; the rest is filler from templates.
"""
import json, os, random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "demo")
TZ = "+08:00"
rng = random.Random(20261120)

def t(day, hm):  # "2026-11-20", "08:15" -> ISO 8601 at +08:00
    return f"{day}T{hm}:00{TZ}"

records = []
def rec(id, source, time, text=None, sender=None, recipients=None, title=None, start=None, end=None,
        location=None, tags=None):
    records.append({"id": id, "source": source, "time": time, "sender": sender,
                    "recipients": recipients if recipients is not None else ([] if sender is None else ["me"]),
                    "title": title, "text": text, "start": start, "end": end, "location": location,
                    "tags": tags or [], "meta": {}})

# ---- hand-written records the retrieval cases refer to --------------------------------------
rec("sms-mom-dinner", "sms", t("2026-11-20", "08:15"), "周六回家吃饭吗？你爸做了红烧肉。", sender="妈妈")
rec("sms-mom-coat", "sms", t("2026-11-12", "19:30"), "天冷了，记得多穿点衣服，别感冒了。", sender="妈妈")
rec("sms-mom-medicine", "sms", t("2026-11-10", "09:05"), "你奶奶的降压药快吃完了，周末帮忙去药店买两盒。", sender="妈妈")
rec("sms-me-to-mom", "sms", t("2026-11-12", "20:02"), "知道啦，你们也注意保暖。", sender="me", recipients=["妈妈"])
rec("sms-dad-car", "sms", t("2026-11-14", "11:20"), "车的年检我约在下周三上午九点，记得把行驶证放车里。", sender="爸爸")
rec("sms-alice-report", "sms", t("2026-11-19", "17:40"),
    "Can you send me the Q4 budget report before Monday's review? Thanks!", sender="Alice Chen")
rec("sms-alice-lunch", "sms", t("2026-11-12", "11:05"), "Lunch at the dumpling place near the office on Thursday?",
    sender="Alice Chen")
rec("sms-bob-flight", "sms", t("2026-11-18", "22:10"),
    "My flight CA1858 lands at Shanghai Hongqiao at 9:40pm on Saturday, can you pick me up?", sender="Bob Wang")
rec("sms-courier", "sms", t("2026-11-19", "15:32"), "【顺丰速运】您的快递已到达望京SOHO T3 丰巢柜，取件码 563821，请及时取件。",
    sender="顺丰速运")
rec("sms-hotpot-booking", "sms", t("2026-11-17", "13:00"),
    "【海底捞】您已成功预订海底捞火锅（望京店）11月21日18:00 4人桌，请准时到店。", sender="海底捞")
rec("sms-zhangwei-keys", "sms", t("2026-11-16", "18:45"), "钥匙放在前台了，门锁新密码是 2580，别告诉别人。", sender="张伟")
rec("sms-syntax", "sms", t("2026-11-15", "10:00"),
    'Password hint: "blue" OR NEAR(cat*) -- DROP TABLE records; SELECT * FROM users', sender="Li Na")
rec("sms-lina-wifi", "sms", t("2026-11-08", "21:14"), "我家的WiFi密码是 lina2026home，下次来直接连。", sender="李娜")
rec("sms-fullwidth", "sms", t("2026-11-03", "09:00"), "您订购的流量包ＡＢＣ１２３已生效，有效期至月底。", sender="10086")
rec("sms-mom-lastmonth", "sms", t("2026-10-22", "20:30"), "国庆拍的全家福我洗出来了，给你寄了一张。", sender="妈妈")

rec("cal-budget-review", "calendar", t("2026-11-02", "09:00"), "Review the Q4 budget with finance and product.",
    title="Q4 预算评审会", start=t("2026-11-23", "10:00"), end=t("2026-11-23", "11:30"),
    location="望京SOHO T3 12层 大会议室", sender="Alice Chen", recipients=["me", "Bob Wang"])
rec("cal-dentist", "calendar", t("2026-11-01", "12:00"), None, title="Dentist appointment",
    start=t("2026-11-20", "16:30"), end=t("2026-11-20", "17:15"), location="Bright Smile Dental, Chaoyang")
rec("cal-family-hotpot", "calendar", t("2026-11-17", "13:05"), "带爸妈去吃火锅，已订4人桌。", title="和家人吃火锅",
    start=t("2026-11-21", "18:00"), end=t("2026-11-21", "20:00"), location="海底捞（望京店）")
rec("cal-flight-sz", "calendar", t("2026-11-10", "08:00"), "Booking ref 7XK2QP", title="Flight to Shenzhen CZ3108",
    start=t("2026-11-27", "08:00"), end=t("2026-11-27", "11:10"), location="Beijing Daxing Airport T1")
rec("cal-1on1-alice", "calendar", t("2026-11-01", "12:00"), "Career goals, Q1 planning.", title="1:1 with Alice",
    start=t("2026-11-19", "14:00"), end=t("2026-11-19", "14:30"), location="Room 1203", sender="Alice Chen",
    recipients=["me"])
rec("cal-fire-training", "calendar", t("2026-11-01", "12:00"), "全员参加，地点在一楼报告厅。", title="消防安全培训",
    start=t("2026-11-11", "15:00"), end=t("2026-11-11", "16:00"), location="一楼报告厅")
rec("cal-car-inspection", "calendar", t("2026-11-14", "11:30"), "带上行驶证和保险单。", title="车辆年检",
    start=t("2026-11-25", "09:00"), end=t("2026-11-25", "10:00"), location="北京朝阳机动车检测场")

rec("call-mom-weekend", "call", t("2026-11-17", "20:10"),
    "妈妈：你这周末回来吗？我：回来，周六中午到。妈妈：那我多买点菜，你爸想吃饺子。", sender="妈妈", title="与妈妈通话 6分钟")
rec("call-landlord", "call", t("2026-11-15", "16:40"),
    "房东：下个月开始房租涨到六千五，合同可以续签两年。我：我考虑一下，周一回复您。", sender="房东老王", title="与房东老王通话 4分钟")
rec("call-bob-demo", "call", t("2026-11-18", "10:25"),
    "Bob: the client moved the demo to next Tuesday afternoon. Me: okay, I'll update the slides and the pricing table.",
    sender="Bob Wang", title="Call with Bob Wang, 7 min")
rec("call-doctor", "call", t("2026-11-06", "09:30"),
    "Dr. Smith: your blood test results are normal. Come back for a check-up in three months.", sender="Dr. Smith",
    title="Call with Dr. Smith, 3 min")

rec("photo-hotpot-receipt", "photo", t("2026-11-08", "20:45"), "海底捞火锅 收据 合计 486元 4人 望京店 2026-11-08",
    location="北京市朝阳区望京", tags=["receipt"])
rec("photo-whiteboard", "photo", t("2026-11-19", "16:05"),
    "Whiteboard: Q4 roadmap, launch date December 15, owners Alice and Bob", location="Office, Room 1203")
rec("photo-parking", "photo", t("2026-11-18", "08:50"), "停车位 B2-137 电梯口旁边", location="望京SOHO 地下车库")
rec("photo-cat", "photo", t("2026-11-14", "13:10"), "我家猫咪在阳台晒太阳", location="家")
rec("photo-passport", "photo", t("2026-10-30", "22:00"), "Passport photo page scan, expires 2028-05-01",
    tags=["document"])

rec("note-gift", "note", t("2026-11-16", "22:30"), "妈妈生日礼物：羊绒围巾（灰色），预算一千元以内；生日蛋糕提前三天订。",
    title="妈妈的生日礼物")
rec("note-books", "note", t("2026-11-05", "23:00"),
    "Books to read: Thinking, Fast and Slow; The Three-Body Problem (三体); The Pragmatic Programmer", title="Reading list")
rec("note-recipe", "note", t("2026-10-28", "19:00"), "红烧肉做法：五花肉切块焯水，冰糖小火炒出糖色，加生抽老抽和八角炖一个小时。",
    title="红烧肉")
rec("note-meeting", "note", t("2026-11-16", "17:30"),
    "Meeting notes 11/16: we decided to postpone the launch; the connections between services need retries and timeouts.",
    title="Launch sync")

# ---- filler ----------------------------------------------------------------------------------
friends_cn = ["李娜", "王磊", "刘洋", "陈静", "杨帆", "赵敏"]
friends_en = ["Emma Liu", "David Zhou", "Sophie Martin", "James Lee"]
sms_cn = ["明天一起去健身房吗？", "周末爬山去不去？", "我到楼下了，你下来吧。", "晚上看电影吗？新上映的那部评价不错。",
          "帮我带一杯美式咖啡，谢谢！", "下班一起打羽毛球？", "这周的读书会改到周日下午了。", "刚到家，今天好累。",
          "生日快乐！祝你天天开心。", "记得把上次借的书还我哦。", "那家新开的面馆很好吃，推荐你去试试。", "孩子的家长会定在下周四晚上。"]
sms_en = ["Running late, be there in 10.", "Are we still on for tennis this weekend?", "Happy birthday! Drinks on me tonight.",
          "Can you share the slides from today's talk?", "Traffic is terrible on the ring road, taking the subway.",
          "Just landed, heading to the hotel.", "Did you see the game last night?", "Thanks for the book recommendation!"]
service_sms = [("京东", "【京东】您的订单已发货，预计明天送达。"), ("美团外卖", "【美团】骑手已取餐，预计30分钟送达。"),
               ("中国移动", "【中国移动】您本月话费账单已出，请及时缴费。"), ("滴滴出行", "【滴滴】您的行程已结束，费用32.5元。"),
               ("支付宝", "【支付宝】验证码 {code}，五分钟内有效，请勿泄露。"), ("12306", "【铁路12306】您购买的G{n}次列车车票已出票。")]
photo_caps = ["公园里的银杏叶黄了", "晚霞很美", "Lunch: ramen and gyoza", "Street market at night", "咖啡拉花", "Screenshot of a map",
              "朋友聚会合影", "Sunset over the river", "办公室窗外下雪了", "Hand-written shopping list: milk, eggs, bread"]
note_lines = ["待办：交水电费，预约理发", "Ideas: weekend trip to the Great Wall", "健身计划：周一三五跑步五公里",
              "Packing list: charger, passport, adapter", "学习计划：每天背二十个英语单词", "Gift ideas for Sophie: scarf, tea set"]
cal_titles = [("健身", "Gym", "健身房"), ("周会", "Weekly sync", "Room 1203"), ("读书会", "Book club", "三里屯书店"),
              ("体检", "Health check", "社区医院"), ("Team dinner", "Team dinner", "Din Tai Fung")]

days = [f"2026-{m:02d}-{d:02d}" for m, n in ((9, 30), (10, 31), (11, 30), (12, 31)) for d in range(1, n + 1)]
past = [d for d in days if d <= "2026-11-20"]
def hm():
    return f"{rng.randint(7, 22):02d}:{rng.choice(['00', '05', '12', '20', '30', '41', '45', '58'])}"

for i in range(120):
    day = rng.choice(past)
    if rng.random() < 0.6:
        who = rng.choice(friends_cn); txt = rng.choice(sms_cn)
    else:
        who = rng.choice(friends_en); txt = rng.choice(sms_en)
    rec(f"sms-{i:04d}", "sms", t(day, hm()), txt, sender=who)
for i in range(70):
    day = rng.choice(past)
    who, txt = rng.choice(service_sms)
    rec(f"sms-svc-{i:04d}", "sms", t(day, hm()), txt.format(code=rng.randint(100000, 999999), n=rng.randint(1, 999)),
        sender=who)
for i in range(40):
    day = rng.choice(past)
    cap = rng.choice(photo_caps)
    rec(f"photo-{i:04d}", "photo", t(day, hm()), cap, location=rng.choice(["北京", "Beijing", "家", None]))
for i in range(30):
    day = rng.choice(past)
    who = rng.choice(friends_cn + friends_en)
    if who in friends_cn:
        txt = f"{who}：周末有空吗？我：有的，{rng.choice(['周六', '周日'])}下午可以。{who}：那就约在老地方。"
    else:
        txt = f"{who.split()[0]}: are you free this weekend? Me: sure, {rng.choice(['Saturday', 'Sunday'])} afternoon works."
    rec(f"call-{i:04d}", "call", t(day, hm()), txt, sender=who, title=f"通话 {rng.randint(1, 15)}分钟")
for i in range(30):
    day = rng.choice(days)
    cn, en, place = rng.choice(cal_titles)
    h = rng.randint(8, 20)
    title = cn if rng.random() < 0.5 else en
    rec(f"cal-{i:04d}", "calendar", t(day, "08:00"), None, title=title, start=t(day, f"{h:02d}:00"),
        end=t(day, f"{h + 1:02d}:00"), location=place)
for i in range(25):
    day = rng.choice(past)
    rec(f"note-{i:04d}", "note", t(day, hm()), rng.choice(note_lines), title=None)

records.sort(key=lambda r: r["time"])
os.makedirs(ROOT, exist_ok=True)
with open(os.path.join(ROOT, "phone.jsonl"), "w", encoding="utf-8") as f:
    for r in records:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")

with open(os.path.join(ROOT, "calendar.ics"), "w", encoding="utf-8", newline="") as f:
    f.write("\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//pocketmind//demo//EN",
        "BEGIN:VEVENT", "UID:standup-2026", "DTSTAMP:20260901T000000Z",
        "DTSTART;TZID=Asia/Shanghai:20260907T093000", "DTEND;TZID=Asia/Shanghai:20260907T094500",
        "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20261231T235959Z", "EXDATE;TZID=Asia/Shanghai:20261102T093000",
        "SUMMARY:Team stand-up 站会", "LOCATION:Room 1203", "ORGANIZER;CN=Alice Chen:mailto:alice@example.com",
        "END:VEVENT",
        "BEGIN:VEVENT", "UID:rent-2026", "DTSTART;VALUE=DATE:20260901", "RRULE:FREQ=MONTHLY;BYMONTHDAY=1;COUNT=12",
        "SUMMARY:交房租", "DESCRIPTION:转账给房东老王，每月六千元。", "END:VEVENT",
        "BEGIN:VEVENT", "UID:mom-birthday", "DTSTART;VALUE=DATE:19701203", "RRULE:FREQ=YEARLY",
        "SUMMARY:妈妈生日", "DESCRIPTION:记得订蛋糕\\, 买花。", "END:VEVENT",
        "BEGIN:VEVENT", "UID:yoga-class", "DTSTART:20261105T113000Z", "DURATION:PT1H",
        "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;COUNT=6", "SUMMARY:Yoga class", "LOCATION:Lotus Studio",
        "BEGIN:VALARM", "TRIGGER:-PT15M", "ACTION:DISPLAY", "DESCRIPTION:Yoga", "END:VALARM",
        "END:VEVENT",
        "BEGIN:VEVENT", "UID:parents-meeting", "DTSTART;TZID=Asia/Shanghai:20261126T190000",
        "DTEND;TZID=Asia/Shanghai:20261126T203000", "SUMMARY:孩子家长会", "LOCATION:实验小学 三年级二班", "END:VEVENT",
        "END:VCALENDAR", ""]))

with open(os.path.join(ROOT, "contacts.vcf"), "w", encoding="utf-8", newline="") as f:
    cards = [("alice", "Alice Chen", "Chen;Alice;;;", "+86 138 0000 1111", "alice@example.com", "Acme Robotics",
              "Product manager"),
             ("bob", "Bob Wang", "Wang;Bob;;;", "+86 139 0000 2222", "bob@example.com", "Acme Robotics", "Sales"),
             ("mom", "妈妈", "妈妈;;;;", "+86 137 0000 3333", None, None, None),
             ("landlord", "房东老王", "王;老;;;", "+86 136 0000 4444", None, None, "房东，望京花园 3 号楼"),
             ("dentist", "Bright Smile Dental", None, "+86 10 6400 5555", None, "Bright Smile Dental", None)]
    for uid, fn, n, tel, email, org, title in cards:
        lines = ["BEGIN:VCARD", "VERSION:3.0", f"UID:{uid}", f"FN:{fn}"]
        if n: lines.append(f"N:{n}")
        lines.append(f"TEL;TYPE=CELL:{tel}")
        if email: lines.append(f"EMAIL:{email}")
        if org: lines.append(f"ORG:{org}")
        if title: lines.append(f"TITLE:{title}")
        lines += ["REV:20261101T000000Z", "END:VCARD"]
        f.write("\r\n".join(lines) + "\r\n")

notes = os.path.join(ROOT, "notes")
os.makedirs(notes, exist_ok=True)
with open(os.path.join(notes, "装修.md"), "w", encoding="utf-8") as f:
    f.write("# 厨房装修\n\n- 橱柜选白色哑光\n- 水槽换成单槽大号\n- 预算控制在三万以内\n")
with open(os.path.join(notes, "travel-japan.txt"), "w", encoding="utf-8") as f:
    f.write("Japan trip ideas\nKyoto in autumn: Kiyomizu-dera, Arashiyama bamboo grove.\nRemember the JR pass.\n")
print(f"wrote {len(records)} records to {os.path.relpath(ROOT)}/phone.jsonl, plus calendar.ics, contacts.vcf, notes/")
