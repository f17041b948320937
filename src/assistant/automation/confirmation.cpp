// The readable confirmation of parsed rules (rule.h: confirmation_text, conflict_text).
#include <map>

#include "assistant/automation/rule.h"

namespace pm::automation {

namespace {

using json = nlohmann::ordered_json;

std::string s(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string days_text(const json& days, bool zh) {
  static const std::map<std::string, std::pair<std::string, std::string>> kNames = {
      {"mon", {"一", "Mon"}}, {"tue", {"二", "Tue"}}, {"wed", {"三", "Wed"}}, {"thu", {"四", "Thu"}},
      {"fri", {"五", "Fri"}}, {"sat", {"六", "Sat"}}, {"sun", {"日", "Sun"}}};
  std::vector<std::string> d;
  for (const json& x : days)
    if (x.is_string()) d.push_back(x.get<std::string>());
  const std::vector<std::string> weekdays = {"mon", "tue", "wed", "thu", "fri"};
  if (d == weekdays) return zh ? "每周一至周五" : "on weekdays (Mon-Fri)";
  if (d == std::vector<std::string>{"sat", "sun"}) return zh ? "每个周末" : "on weekends";
  std::string out = zh ? "每周" : "on ";
  for (size_t i = 0; i < d.size(); ++i) {
    auto it = kNames.find(d[i]);
    const std::string n = it == kNames.end() ? d[i] : (zh ? it->second.first : it->second.second);
    out += (i ? (zh ? "、" : ", ") : "") + n;
  }
  return out;
}

std::string place_text(const std::string& p, bool zh) {
  if (!zh) return p;
  if (p == "home") return "家";
  if (p == "work") return "公司";
  return p;
}

std::string setting_name(const std::string& key, bool zh) {
  static const std::map<std::string, std::pair<std::string, std::string>> k = {
      {"wifi", {"WiFi", "Wi-Fi"}},
      {"bluetooth", {"蓝牙", "Bluetooth"}},
      {"do_not_disturb", {"勿扰模式", "do not disturb"}},
      {"airplane_mode", {"飞行模式", "airplane mode"}},
      {"mobile_data", {"移动数据", "mobile data"}},
      {"flashlight", {"手电筒", "the flashlight"}},
      {"brightness", {"屏幕亮度", "the brightness"}},
      {"ringer", {"铃声", "the ringer"}},
      {"media", {"媒体音量", "the media volume"}},
      {"ring", {"铃声音量", "the ring volume"}},
      {"alarm", {"闹钟音量", "the alarm volume"}}};
  auto it = k.find(key);
  if (it == k.end()) return key;
  return zh ? it->second.first : it->second.second;
}

std::string mode_zh(const std::string& m) {
  if (m == "silent") return "静音";
  if (m == "vibrate") return "振动";
  if (m == "normal") return "响铃";
  return m;
}

std::string duration_text(const json& v, bool zh) {
  if (!v.is_number_integer()) return v.dump();
  const int64_t n = v.get<int64_t>();
  if (n % 3600 == 0) return std::to_string(n / 3600) + (zh ? "小时" : n == 3600 ? " hour" : " hours");
  if (n % 60 == 0) return std::to_string(n / 60) + (zh ? "分钟" : n == 60 ? " minute" : " minutes");
  return std::to_string(n) + (zh ? "秒" : " seconds");
}

std::string event_text(const json& t, bool zh) {
  const std::string e = s(t, "event");
  const json f = t.value("filter", json::object());
  auto opt = [&](const char* key, const std::string& zh_pre, const std::string& en_pre) {
    return f.contains(key) ? (zh ? zh_pre + s(f, key) : en_pre + s(f, key)) : std::string();
  };
  if (e == "headphones.connected") return zh ? "耳机连接时" : "when headphones connect";
  if (e == "headphones.disconnected") return zh ? "耳机断开时" : "when headphones disconnect";
  if (e == "bluetooth.connected")
    return zh ? "蓝牙设备" + opt("device", "“", "") + (f.contains("device") ? "”" : "") + "连接时"
              : "when Bluetooth " + (f.contains("device") ? "device " + s(f, "device") : "a device") + " connects";
  if (e == "bluetooth.disconnected")
    return zh ? "蓝牙设备" + opt("device", "“", "") + (f.contains("device") ? "”" : "") + "断开时"
              : "when Bluetooth " + (f.contains("device") ? "device " + s(f, "device") : "a device") + " disconnects";
  if (e == "charger.connected") return zh ? "接上充电器时" : "when the charger is plugged in";
  if (e == "charger.disconnected") return zh ? "拔掉充电器时" : "when the charger is unplugged";
  if (e == "battery.low")
    return zh ? "电量低" + opt("below", "于", "") + (f.contains("below") ? "%" : "") + "时"
              : "when the battery is low" + opt("below", "", " (below ") + (f.contains("below") ? "%)" : "");
  if (e == "location.arrived")
    return zh ? "到达" + place_text(s(f, "place"), true) + "时" : "when arriving at " + s(f, "place");
  if (e == "location.left")
    return zh ? "离开" + place_text(s(f, "place"), true) + "时" : "when leaving " + s(f, "place");
  if (e == "wifi.connected")
    return zh ? "连上WiFi" + opt("ssid", "“", "") + (f.contains("ssid") ? "”" : "") + "时"
              : "when the phone joins " +
                    (f.contains("ssid") ? "the Wi-Fi \"" + s(f, "ssid") + "\"" : "a Wi-Fi network");
  if (e == "call.missed")
    return zh ? "有" + opt("from", "", "") + (f.contains("from") ? "的" : "") + "未接来电时"
              : "when a call " + opt("from", "", "from ") + (f.contains("from") ? " " : "") + "is missed";
  if (e == "sms.received")
    return zh ? "收到" + opt("from", "", "") + (f.contains("from") ? "的" : "") + "短信时"
              : "when a text " + opt("from", "", "from ") + (f.contains("from") ? " " : "") + "arrives";
  if (e == "app.opened") return zh ? "打开" + s(f, "app") + "时" : "when " + s(f, "app") + " is opened";
  return (zh ? "事件 " : "on event ") + e;
}

std::string trigger_text(const json& t, bool zh) {
  const std::string type = s(t, "type");
  if (type == "time") {
    std::string when;
    if (t.contains("date"))
      when = zh ? s(t, "date") + " " : "on " + s(t, "date") + " ";
    else if (t.contains("weekdays"))
      when = days_text(t["weekdays"], zh) + " ";
    else
      when = zh ? "每天" : "every day ";
    return zh ? when + s(t, "at") : when + "at " + s(t, "at");
  }
  if (type == "interval") {
    std::string out = zh ? "每" + s(t, "every_minutes") + "分钟" : "every " + s(t, "every_minutes") + " minutes";
    if (t.contains("between") && t["between"].is_array() && t["between"].size() == 2)
      out += zh ? "（" + t["between"][0].get<std::string>() + "至" + t["between"][1].get<std::string>() + "之间）"
                : " between " + t["between"][0].get<std::string>() + " and " + t["between"][1].get<std::string>();
    return out;
  }
  if (type == "event") return event_text(t, zh);
  return t.dump();
}

std::string condition_text(const json& c, bool zh) {
  const std::string type = s(c, "type");
  if (type == "time_between") {
    if (s(c, "after") == "00:00" && s(c, "before") == "23:59" && c.contains("weekdays"))
      return days_text(c["weekdays"], zh);
    std::string out = zh ? "在" + s(c, "after") + "至" + s(c, "before") + "之间"
                         : "between " + s(c, "after") + " and " + s(c, "before");
    if (c.contains("weekdays")) out = days_text(c["weekdays"], zh) + (zh ? "" : ", ") + out;
    return out;
  }
  if (type == "battery")
    return c.contains("below")
               ? (zh ? "电量低于" + s(c, "below") + "%" : "the battery is below " + s(c, "below") + "%")
               : (zh ? "电量高于" + s(c, "above") + "%" : "the battery is above " + s(c, "above") + "%");
  if (type == "location") return zh ? "人在" + place_text(s(c, "place"), true) : "you are at " + s(c, "place");
  if (type == "state") {
    const std::string key = s(c, "key"), v = s(c, "equals");
    if (!zh)
      return (key == "charging" ? std::string("the phone is ") + (v == "true" ? "" : "not ") + "charging"
                                : setting_name(key == "ringer_mode" ? "ringer" : key, false) + " is " + v);
    if (key == "charging") return v == "true" ? "正在充电" : "没有在充电";
    if (key == "ringer_mode") return "手机处于" + mode_zh(v) + "模式";
    return setting_name(key, true) + (v == "on" ? "已打开" : "已关闭");
  }
  return c.dump();
}

std::string action_text(const Action& a, bool zh) {
  const json& g = a.args;
  const std::string t = a.tool;
  if (t == "weather.read") {
    const bool tomorrow = s(g, "when") == "tomorrow";
    const std::string place = s(g, "place");
    return zh ? "播报" + place + (tomorrow ? "明天" : "今天") + "的天气"
              : "read " + std::string(tomorrow ? "tomorrow's" : "today's") + " weather" +
                    (place.empty() ? "" : " for " + place);
  }
  if (t == "music.play") {
    if (s(g, "playlist") == "favorites") return zh ? "播放收藏的歌曲" : "play your favourites";
    if (g.contains("playlist"))
      return zh ? "播放歌单“" + s(g, "playlist") + "”" : "play the playlist \"" + s(g, "playlist") + "\"";
    if (g.contains("query")) return zh ? "播放“" + s(g, "query") + "”" : "play \"" + s(g, "query") + "\"";
    return zh ? "播放音乐" : "play music";
  }
  if (t == "phone.set_ringer_mode")
    return zh ? "把手机设为" + mode_zh(s(g, "mode")) + "模式" : "set the ringer to " + s(g, "mode");
  if (t == "alarm.set") {
    std::string when = g.contains("date") ? s(g, "date") + " " : "";
    if (g.contains("weekdays")) when = days_text(g["weekdays"], zh) + " ";
    return zh ? "设置" + when + s(g, "time") + "的闹钟" : "set an alarm for " + when + s(g, "time");
  }
  if (t == "timer.start")
    return zh ? "开始" + duration_text(g.value("duration_s", json()), true) + "的计时"
              : "start a timer for " + duration_text(g.value("duration_s", json()), false);
  if (t == "reminder.create")
    return zh ? "创建提醒（" + s(g, "at") + "）：" + s(g, "text")
              : "create a reminder at " + s(g, "at") + ": " + s(g, "text");
  if (t == "calendar.create_event")
    return zh ? "在日历中添加“" + s(g, "title") + "”（" + s(g, "start") + (g.contains("end") ? "-" + s(g, "end") : "") +
                    "）"
              : "add \"" + s(g, "title") + "\" to the calendar (" + s(g, "start") +
                    (g.contains("end") ? "-" + s(g, "end") : "") + ")";
  if (t == "phone.call") return zh ? "给" + s(g, "contact") + "打电话" : "call " + s(g, "contact");
  if (t == "sms.send")
    return zh ? "给" + s(g, "to") + "发短信：" + s(g, "text") : "text " + s(g, "to") + ": " + s(g, "text");
  if (t == "media.pause") return zh ? "暂停播放" : "pause playback";
  if (t == "phone.set_volume")
    return zh ? "把" + setting_name(s(g, "stream"), true) + "调到" + s(g, "level")
              : "set " + setting_name(s(g, "stream"), false) + " to " + s(g, "level");
  if (t == "settings.set") {
    const std::string key = s(g, "setting"), v = s(g, "value");
    if (key == "brightness") return zh ? "把屏幕亮度调到" + v : "set the brightness to " + v;
    return zh ? (v == "on" ? "打开" : "关闭") + setting_name(key, true) : "turn " + v + " " + setting_name(key, false);
  }
  if (t == "news.read") return zh ? "播报新闻" : "read the news";
  if (t == "app.open") return zh ? "打开" + s(g, "app") : "open " + s(g, "app");
  if (t == "navigation.start")
    return zh ? "导航到" + place_text(s(g, "destination"), true) : "navigate to " + s(g, "destination");
  if (t == "tts.speak") return zh ? "朗读：" + s(g, "text") : "say: " + s(g, "text");
  if (t == "notification.show") return zh ? "提醒你：" + s(g, "text") : "notify you: " + s(g, "text");
  return t + " " + g.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string confirmation_text(const std::vector<Rule>& rules, bool zh) {
  std::string out;
  for (size_t i = 0; i < rules.size(); ++i) {
    const Rule& r = rules[i];
    std::string when;
    for (size_t k = 0; k < r.triggers.size(); ++k)
      when += (k ? (zh ? "，或" : ", or ") : "") + trigger_text(r.triggers[k], zh);
    std::string cond;
    for (size_t k = 0; k < r.conditions.size(); ++k)
      cond += (k ? (zh ? "且" : " and ") : "") + condition_text(r.conditions[k], zh);
    std::string what;
    for (size_t k = 0; k < r.actions.size(); ++k)
      what += (k ? (zh ? "，然后" : ", then ") : "") + action_text(r.actions[k], zh);
    if (zh)
      out +=
          "规则" + std::to_string(i + 1) + "：" + when + (cond.empty() ? "" : "，如果" + cond) + "，" + what + "。\n";
    else
      out += "Rule " + std::to_string(i + 1) + ": " + when + (cond.empty() ? "" : ", if " + cond) + ", " + what + ".\n";
  }
  return out;
}

std::string conflict_text(const Conflict& c, const std::vector<Rule>& rules, bool zh) {
  (void)rules;
  if (!zh) return "Conflict: " + c.message;
  // target is "ringer mode", "<stream> volume" or "<setting> setting" (rule.cpp target_of).
  std::string what = c.target;
  auto value = [&](const json& v) {
    const std::string t = v.is_string() ? v.get<std::string>() : v.dump();
    if (c.target == "ringer mode") return mode_zh(t);
    if (t == "on") return std::string("打开");
    if (t == "off") return std::string("关闭");
    return t;
  };
  if (what == "ringer mode")
    what = "铃声模式";
  else if (what.size() > 7 && what.substr(what.size() - 7) == " volume")
    what = setting_name(what.substr(0, what.size() - 7), true);
  else if (what.size() > 8 && what.substr(what.size() - 8) == " setting")
    what = setting_name(what.substr(0, what.size() - 8), true);
  const std::string values = "“" + value(c.value_a) + "”和“" + value(c.value_b) + "”";
  if (c.rule_a == c.rule_b) return "冲突：规则" + std::to_string(c.rule_a + 1) + "把" + what + "同时设为" + values;
  return "冲突：规则" + std::to_string(c.rule_a + 1) + "和规则" + std::to_string(c.rule_b + 1) + "可能同时触发，却把" +
         what + "分别设为" + values;
}

}  // namespace pm::automation
