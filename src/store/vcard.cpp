#include "store/vcard.h"

#include <cstdio>

#include "core/hash.h"
#include "store/utf8.h"

namespace pm::store {
namespace {

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& c : u)
    if (c >= 'a' && c <= 'z') c = char(c - 32);
  return u;
}

std::string unescape(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      const char c = v[++i];
      out += (c == 'n' || c == 'N') ? '\n' : c;
    } else {
      out += v[i];
    }
  }
  return out;
}

// "Chen;Alice;;;" (N) or an ADR -> the non-empty parts joined by `sep`.
std::string join_parts(std::string_view v, const char* sep) {
  std::string out, part;
  auto flush = [&] {
    const std::string p = unescape(part);
    if (!p.empty()) out += (out.empty() ? "" : sep) + p;
    part.clear();
  };
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      part += v[i];
      part += v[++i];
    } else if (v[i] == ';') {
      flush();
    } else {
      part += v[i];
    }
  }
  flush();
  return out;
}

// vCard times: 20261120T081500Z, 2026-11-20T08:15:00Z, 20261120, 2026-11-20.
Result<Timestamp> parse_vcard_time(std::string v) {
  if (v.size() >= 8 && v.find('-') == std::string::npos) {
    std::string iso = v.substr(0, 4) + "-" + v.substr(4, 2) + "-" + v.substr(6, 2);
    if (v.size() >= 15 && v[8] == 'T')
      iso.append(1, 'T').append(v, 9, 2).append(1, ':').append(v, 11, 2).append(1, ':').append(v, 13, 2).append(v, 15);
    v = iso;
  }
  return parse_iso8601(v);
}

}  // namespace

ConvertResult parse_vcard(std::string_view text, const Timestamp& default_time) {
  ConvertResult out;
  // Unfold (lines starting with a space or tab continue the previous one), keeping line numbers.
  std::vector<std::pair<int64_t, std::string>> lines;
  int64_t no = 0;
  size_t pos = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view l = text.substr(pos, nl - pos);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    pos = nl + 1;
    ++no;
    if (!l.empty() && (l[0] == ' ' || l[0] == '\t') && !lines.empty()) {
      if (lines.back().second.size() < kMaxLineBytes) lines.back().second.append(l.substr(1));
    } else if (!l.empty()) {
      lines.emplace_back(no, std::string(l));
    }
  }

  bool in_card = false;
  int64_t card_line = 0;
  Record r;
  std::string fn, n, uid, first_contact;
  std::vector<std::string> details;
  auto reset = [&] {
    r = Record();
    r.source = "contact";
    r.time = default_time;
    fn.clear(), n.clear(), uid.clear(), first_contact.clear();
    details.clear();
  };
  for (const auto& [line_no, l] : lines) {
    const size_t colon = l.find(':');
    if (colon == std::string::npos) {
      out.errors.emplace_back(line_no, "malformed vCard line (expected NAME[;PARAMS]:VALUE)");
      continue;
    }
    std::string name = upper(std::string_view(l).substr(0, std::min(colon, l.find(';'))));
    if (const size_t dot = name.find('.'); dot != std::string::npos) name = name.substr(dot + 1);  // item1.TEL
    const std::string value = l.substr(colon + 1);
    if (name == "BEGIN" && upper(value) == "VCARD") {
      if (in_card) out.errors.emplace_back(card_line, "BEGIN:VCARD without END:VCARD; card skipped");
      in_card = true;
      card_line = line_no;
      reset();
      continue;
    }
    if (!in_card) continue;
    if (name == "END" && upper(value) == "VCARD") {
      in_card = false;
      std::string title = !fn.empty() ? fn : n;
      if (title.empty() && first_contact.empty()) {
        out.errors.emplace_back(card_line, "vCard without FN, N, TEL or EMAIL skipped");
        continue;
      }
      r.title = title.empty() ? first_contact : title;
      std::string body;
      for (const auto& d : details) body += (body.empty() ? "" : "\n") + d;
      if (!body.empty()) r.text = body;
      if (!uid.empty()) {
        r.id = "vcf:" + std::string(utf8_prefix(uid, 200));
      } else {
        Fnv1a64 h;
        h.update(*r.title);
        h.update(first_contact);
        char buf[32];
        std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h.digest());
        r.id = std::string("vcf:") + buf;
      }
      out.records.push_back(r);
      continue;
    }
    if (name == "FN")
      fn = unescape(value);
    else if (name == "N")
      n = join_parts(value, " ");
    else if (name == "UID")
      uid = value;
    else if (name == "TEL" || name == "EMAIL") {
      if (first_contact.empty()) first_contact = value;
      details.push_back(name + ": " + unescape(value));
    } else if (name == "ORG" || name == "ADR")
      details.push_back(name + ": " + join_parts(value, " "));
    else if (name == "TITLE" || name == "NOTE" || name == "BDAY" || name == "NICKNAME")
      details.push_back(name + ": " + unescape(value));
    else if (name == "CATEGORIES") {
      size_t a = 0;
      while (a <= value.size()) {
        size_t b = value.find(',', a);
        if (b == std::string::npos) b = value.size();
        if (b > a) r.tags.push_back(unescape(value.substr(a, b - a)));
        a = b + 1;
      }
    } else if (name == "REV") {
      Result<Timestamp> t = parse_vcard_time(value);
      if (t.is_ok()) r.time = *t;  // else the file's time stands
    }
  }
  if (in_card) out.errors.emplace_back(card_line, "BEGIN:VCARD without END:VCARD; card skipped");
  return out;
}

}  // namespace pm::store
