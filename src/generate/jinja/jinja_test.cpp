// Unit tests of the Jinja-subset interpreter: expressions, statements, whitespace control, Python
// string semantics, error positions, and the limits that keep hostile templates bounded. Expected
// values are what jinja2 (under transformers' settings) and Python produce.
#include "generate/jinja/jinja.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "test_util.h"

namespace pm::jinja {
namespace {

using Json = nlohmann::ordered_json;

std::string render(const std::string& src, const Json& ctx = Json::object(), RenderOptions opt = {}) {
  Result<Template> t = Template::parse(src);
  if (!t.is_ok()) return "PARSE ERROR: " + t.status().message();
  Result<std::string> out = t->render(ctx, opt);
  if (!out.is_ok()) return "ERROR: " + out.status().message();
  return *out;
}

TEST(Jinja, ExpressionsFollowPython) {
  const Json ctx = {{"xs", {1, 2, 3}}, {"s", "你好, world"}, {"d", {{"a", 1}, {"b", "x"}}}, {"n", nullptr}};
  const std::pair<const char*, const char*> cases[] = {
      {"{{ 1 + 2 * 3 }}", "7"},
      {"{{ 7 // 2 }}|{{ -7 // 2 }}|{{ -7 % 3 }}|{{ 7 / 2 }}|{{ 2 ** 10 }}", "3|-4|2|3.5|1024"},
      {"{{ 1.0 }}|{{ 0.1 + 0.2 }}|{{ 1e20 }}|{{ 3 * 1.5 }}", "1.0|0.30000000000000004|1e+20|4.5"},
      {"{{ 'a' ~ 1 ~ none ~ true }}", "a1NoneTrue"},
      {"{{ true }}|{{ False }}|{{ none }}|{{ undefined_thing }}|", "True|False|None||"},
      {"{{ xs }}|{{ d }}|{{ ['it\\'s'] }}", "[1, 2, 3]|{'a': 1, 'b': 'x'}|[\"it's\"]"},
      {"{{ xs[-1] }}|{{ xs[1:] }}|{{ xs[::-1] }}|{{ s[:2] }}|{{ s[-5:] }}|{{ xs[5] }}|",
       "3|[2, 3]|[3, 2, 1]|你好|world||"},
      {"{{ 2 in xs }}|{{ 'a' in d }}|{{ 'wor' in s }}|{{ 5 not in xs }}|{{ not 2 in xs }}",
       "True|True|True|True|False"},
      {"{{ 1 < 2 < 3 }}|{{ 'b' > 'a' }}|{{ [1, 2] == [1, 2] }}|{{ 1 == 1.0 }}|{{ d == {'a': 1, 'b': 'x'} }}",
       "True|True|True|True|True"},
      {"{{ n or 'dflt' }}|{{ 0 and 1 }}|{{ 'x' if xs else 'y' }}|{{ 'x' if n }}|", "dflt|0|x||"},
      {"{{ d.a }}|{{ d['b'] }}|{{ d.missing is defined }}|{{ d.get('a') }}|{{ d.get('z', 9) }}|{{ d.get('z') }}",
       "1|x|False|1|9|None"},
      {"{{ -xs[0] }}|{{ -(1 + 2) }}|{{ +3 }}", "-1|-3|3"},
      {"{{ 'ab' * 3 }}|{{ [0] * 2 }}|{{ xs + [4] }}", "ababab|[0, 0]|[1, 2, 3, 4]"},
      {"{{ 'a' 'b' }}|{{ \"q\\\"\\n\" | length }}|{{ '\\u4f60' }}", "ab|3|你"},
      {"{{ () | length }}|{{ (1, 2) | length }}", "0|2"},
  };
  for (const auto& [src, want] : cases) EXPECT_EQ(render(src, ctx), want) << src;
}

TEST(Jinja, StringMethodsAreCodePointAware) {
  const std::pair<const char*, const char*> cases[] = {
      {"{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '\\n\\nq\\n'.lstrip('\\n') }}|{{ 'q\\n\\n'.rstrip() }}",
       "a b|a|q\n|q"},
      {"{{ '　全角　'.strip() }}", "全角"},  // U+3000 is whitespace to Python
      {"{{ 'a,b,,c'.split(',') }}|{{ '  a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a<t>b<t>c'.split('<t>')[-1] "
       "}}",
       "['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|c"},
      {"{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'c')) }}|{{ 'Hello'.upper() }}|{{ 'Hello'.lower() }}",
       "True|True|HELLO|hello"},
      {"{{ 'hello world'.title() }}|{{ 'hELLO'.capitalize() }}|{{ 'aXbX'.replace('X', '-') }}|{{ 'ab'.replace('', '.') "
       "}}",
       "Hello World|Hello|a-b-|.a.b."},
      {"{{ '你好世界' | length }}|{{ '你好世界'[1] }}|{{ '你好世界'.find('世') }}|{{ ', '.join(['a', 'b']) }}",
       "4|好|2|a, b"},
  };
  for (const auto& [src, want] : cases) EXPECT_EQ(render(src), want) << src;
}

TEST(Jinja, FiltersAndTests) {
  const Json ctx = {{"tools", {{{"name", "f"}, {"v", 2}}, {{"name", "g"}, {"v", 1}}}},
                    {"msgs", {{{"role", "user"}}, {{"role", "system"}}, {{"role", "user"}}}},
                    {"obj", {{"z", "中文"}, {"a", {1, 2}}}}};
  const std::pair<const char*, const char*> cases[] = {
      {"{{ obj | tojson }}", R"({"z": "中文", "a": [1, 2]})"},
      {"{{ obj | tojson(indent=2) }}", "{\n  \"z\": \"中文\",\n  \"a\": [\n    1,\n    2\n  ]\n}"},
      {"{{ obj | tojson(ensure_ascii=true, sort_keys=true) }}", R"({"a": [1, 2], "z": "\u4e2d\u6587"})"},
      {"{{ 'a\"\\n' | tojson }}|{{ none | tojson }}|{{ 1.5 | tojson }}|{{ [] | tojson(indent=4) }}",
       "\"a\\\"\\n\"|null|1.5|[]"},
      {"{{ tools | map(attribute='name') | join(', ') }}|{{ tools | map(attribute='name') | list | length }}",
       "f, g|2"},
      {"{{ msgs | selectattr('role', 'equalto', 'user') | list | length }}|{{ msgs | rejectattr('role', 'eq', 'user') "
       "| length }}",
       "2|1"},
      {"{{ ['a', 'b', 'c'] | reject('equalto', 'b') | join }}|{{ [3, 1, 2] | sort | join }}|{{ [1, 2] | reverse | list "
       "}}",
       "ac|123|[2, 1]"},
      {"{{ tools | sort(attribute='v') | map(attribute='name') | first }}|{{ tools | last }}",
       "g|{'name': 'g', 'v': 1}"},
      {"{% for k, v in obj | items %}{{ k }}={{ v }};{% endfor %}", "z=中文;a=[1, 2];"},
      {"{% for k, v in obj.items() %}{{ k }}{% endfor %}|{{ obj.keys() | list }}|{{ obj.values() | length }}",
       "za|['z', 'a']|2"},
      {"{{ undefined_x | default('d') }}|{{ '' | default('d') }}|{{ '' | default('d', true) }}|{{ none | default(1) }}",
       "d||d|None"},
      {"{{ ' x ' | trim }}|{{ 'Ab' | upper }}{{ 'Ab' | lower }}|{{ 42 | string }}|{{ '12' | int + 1 }}|{{ 'x' | int "
       "}}|{{ '1.5' | float }}",
       "x|ABab|42|13|0|1.5"},
      {"{{ [1, 2, 1] | unique | list }}|{{ [1, 5, 3] | max }}|{{ [1, 5, 3] | min }}|{{ [1, 2, 3] | sum }}|{{ -3 | abs "
       "}}",
       "[1, 2]|5|1|6|3"},
      {"{{ 'a\\nb' | indent(2) }}|{{ 2.567 | round(2) }}|{{ 'hi' | safe }}", "a\n  b|2.57|hi"},
      {"{{ x is defined }}|{{ none is none }}|{{ 'a' is string }}|{{ obj is mapping }}|{{ 'a' is iterable }}|{{ 3 is "
       "number }}",
       "False|True|True|True|True|True"},
      {"{{ true is true }}|{{ 0 is false }}|{{ 4 is even }}|{{ 9 is divisibleby 3 }}|{{ 1 is equalto 1 }}|{{ 'x' is "
       "not string }}",
       "True|False|True|True|True|False"},
      {"{{ [] is iterable }}|{{ 3 is integer }}|{{ 3.0 is float }}|{{ obj.a is sequence }}|{{ 'b' is in ['a', 'b'] }}",
       "True|True|True|True|True"},
  };
  for (const auto& [src, want] : cases) EXPECT_EQ(render(src, ctx), want) << src;
}

TEST(Jinja, StatementsAndScopes) {
  const Json ctx = {{"messages", {{{"role", "system"}, {"content", "S"}}, {{"role", "user"}, {"content", "U"}}}}};
  const std::pair<const char*, const char*> cases[] = {
      {"{% if 0 %}a{% elif 1 %}b{% else %}c{% endif %}", "b"},
      {"{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% "
       "endfor %}",
       "10TrueFalse2;21FalseTrue2;"},
      {"{% for m in messages[::-1] %}{{ m.role }}{% if not loop.last %},{% endif %}{% endfor %}", "user,system"},
      {"{% for x in [] %}x{% else %}empty{% endfor %}", "empty"},
      {"{% for x in [1, 2, 3, 4] if x is even %}{{ x }}{{ loop.length }}{% endfor %}", "2242"},
      {"{% for x in [1, 2, 3, 4] %}{% if x == 3 %}{% break %}{% endif %}{{ x }}{% endfor %}", "12"},
      {"{% for x in [1, 2, 3, 4] %}{% if x is odd %}{% continue %}{% endif %}{{ x }}{% endfor %}", "24"},
      {"{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}", "37"},
      {"{% for c in 'ab' %}{{ c }}.{% endfor %}{% for k in {'x': 1} %}{{ k }}{% endfor %}", "a.b.x"},
      {"{% for x in [1, 2] %}{% for y in [3] %}{{ loop.index }}{% endfor %}{{ loop.index }}{% endfor %}", "1112"},
      {"{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}", "1"},
      {"{% set ns = namespace(n=0, found=false) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n "
       "}}{{ ns.found }}",
       "6False"},
      {"{% set a, b = 1, 2 %}{{ a }}{{ b }}|{% set messages = messages[1:] %}{{ messages | length }}", "12|1"},
      {"{% set block %}x{{ 1 + 1 }}{% endset %}[{{ block }}]", "[x2]"},
      {"{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', "
       "punct='?') }}",
       "Hi A! Hi B?"},
      {"{{ range(3) | list }}|{{ range(1, 7, 2) | list }}|{{ range(3, 0, -1) | join }}", "[0, 1, 2]|[1, 3, 5]|321"},
      {"{% raw %}{{ not rendered }}{% endraw %}", "{{ not rendered }}"},
      {"{# comment #}a{% generation %}b{% endgeneration %}", "ab"},
      {"{{ dict(a=1)['a'] }}|{{ namespace(x=[1]).x }}", "1|[1]"},
  };
  for (const auto& [src, want] : cases) EXPECT_EQ(render(src, ctx), want) << src;
}

// trim_blocks and lstrip_blocks as transformers sets them, and - / + markers.
TEST(Jinja, WhitespaceControl) {
  const std::pair<const char*, const char*> cases[] = {
      {"{% if true %}\nyes\n{% endif %}\nafter", "yes\nafter"},
      {"  {% if true %}\n  x\n  {% endif %}\n", "  x\n"},
      {"a  {%- if true -%}  b  {%- endif -%}  c", "abc"},
      {"a\n{{- 'b' -}}\nc", "abc"},
      {"{{ 'a' }}\n{{ 'b' }}", "a\nb"},  // trim_blocks does not apply to {{ }}
      {"  {%+ if true %}x{% endif %}", "  x"},
      {"{% if true +%}\nx{% endif %}", "\nx"},
      {"line\n    {# note #}\nnext", "line\nnext"},
      {"x{% if true %}\r\ny{% endif %}", "xy"},
      {"a{{ 'b' }}\n", "ab"},  // keep_trailing_newline=False
      {"a\r\nb\rc", "a\nb\nc"},
  };
  for (const auto& [src, want] : cases) EXPECT_EQ(render(src), want) << src;
}

TEST(Jinja, StrftimeNowUsesTheGivenClock) {
  RenderOptions opt;
  opt.now_unix = 1764504000;  // 2025-11-30 12:00 UTC: the same date in every zone from UTC-11 to UTC+11
  EXPECT_EQ(render("{{ strftime_now('%d %b %Y') }}", Json::object(), opt), "30 Nov 2025");
  EXPECT_NE(render("{{ strftime_now('%Y') }}").find("20"), std::string::npos);
}

TEST(Jinja, ErrorsNameLineAndColumn) {
  auto err = [](const std::string& src, const Json& ctx = Json::object()) { return render(src, ctx); };
  EXPECT_EQ(err("a\n{% if x %}b"),
            "PARSE ERROR: chat template: line 2, column 1: the block starting here is never closed "
            "(expected 'elif' or 'else' or 'endif')");
  EXPECT_EQ(err("{{ 1 + }}"), "PARSE ERROR: chat template: line 1, column 8: expected an expression, found '}}'");
  EXPECT_EQ(err("x\n  {% frobnicate %}"),
            "PARSE ERROR: chat template: line 2, column 3: unsupported statement 'frobnicate'");
  EXPECT_EQ(err("{{ 'abc }}"), "PARSE ERROR: chat template: line 1, column 4: the string literal is not closed");
  EXPECT_EQ(err("{{ x | nosuch }}"), "ERROR: chat template: line 1, column 6: unknown filter 'nosuch'");
  EXPECT_EQ(err("你好\n{{ raise_exception('坏了') }}"),
            "ERROR: chat template: line 2, column 4: the template raised an error: 坏了");
  EXPECT_EQ(err("{{ messages[0]['role'] }}", Json{{"messages", Json::array()}}),
            "ERROR: chat template: line 1, column 15: cannot index an undefined value");
  EXPECT_EQ(err("{{ 1 + 'a' }}"),
            "ERROR: chat template: line 1, column 6: unsupported operand types for +: integer and string");
  EXPECT_EQ(err("{% set x.y = 1 %}"),
            "ERROR: chat template: line 1, column 1: cannot set 'y' on 'x': only namespace() objects take attributes");
  EXPECT_EQ(err("{{ 1 // 0 }}"), "ERROR: chat template: line 1, column 6: integer division or modulo by zero");
}

// A template is untrusted: runaway loops, output, recursion and nesting end in errors.
TEST(Jinja, HostileTemplatesAreBounded) {
  const char* hostile[] = {
      "{% for i in range(100000000) %}x{% endfor %}",
      "{% for i in range(3000) %}{% for j in range(3000) %}{% endfor %}{% endfor %}",
      "{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
      "{% set ns = namespace(s=[1]) %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
      "{{ 'x' * 100000000000 }}",
      "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
      "{% set ns = namespace(v=[]) %}{% for i in range(10000) %}{% set ns.v = [ns.v] %}{% endfor %}{{ ns.v | length }}",
      "{% set ns = namespace() %}{% set ns.self = ns %}{{ ns }}{{ ns == ns }}{{ ns | tojson }}",
  };
  for (const char* src : hostile) {
    const std::string out = render(src);
    EXPECT_TRUE(out.rfind("ERROR", 0) == 0 || out.rfind("PARSE ERROR", 0) == 0 || out.size() < (9u << 20)) << src;
  }
  EXPECT_NE(render(hostile[0]).find("too long"), std::string::npos);
  EXPECT_NE(render(hostile[5]).find("nested too deeply"), std::string::npos);
  // Deep nesting in the source is a parse error, not a stack overflow.
  EXPECT_NE(render("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}").find("nested too deeply"),
            std::string::npos);
  EXPECT_NE(render("{{ " + std::string(3000, '[') + std::string(3000, ']') + " }}").find("nested too deeply"),
            std::string::npos);
  EXPECT_NE(render("{{ " + std::string(3000, '-') + "1 }}").find("nested too deeply"), std::string::npos);
  std::string ifs;
  for (int i = 0; i < 2000; ++i) ifs += "{% if true %}";
  EXPECT_NE(render(ifs).find("nested too deeply"), std::string::npos);
}

// The fuzz seeds, and truncated / byte-flipped copies of them: errors are fine, crashes and hangs
// are not (fuzz/jinja_fuzz.cpp explores further).
TEST(Jinja, FuzzSeedsAndCorruptionsFailCleanly) {
  const std::string seeds = std::string(PM_TEST_DATA_DIR) + "/../../fuzz/seeds/jinja";
  const Json ctx = Json::parse(R"({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "你好"},
      {"role": "assistant", "content": "", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]},
      {"role": "tool", "content": "1"}], "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
      "add_generation_prompt": true, "bos_token": "<s>"})");
  int n = 0;
  for (const auto& f : std::filesystem::directory_iterator(seeds)) {
    const std::string text = pm::test::read_text(f.path().string());
    std::mt19937 rng(7);
    for (size_t cut = 0; cut <= text.size(); cut += std::max<size_t>(1, text.size() / 50)) {
      for (int flip = 0; flip < 4; ++flip) {
        std::string t = text.substr(0, cut);
        if (flip && !t.empty()) t[rng() % t.size()] = char(rng());
        Result<Template> tmpl = Template::parse(t);
        if (tmpl.is_ok()) (void)tmpl->render(ctx).status();
        ++n;
      }
    }
  }
  EXPECT_GT(n, 100);
}

}  // namespace
}  // namespace pm::jinja
