#include "store/porter.h"

#include <gtest/gtest.h>

namespace pm::store {
namespace {

// Examples from the rules of M. F. Porter's 1980 paper, step by step.
TEST(PorterStem, PaperExamples) {
  const std::pair<const char*, const char*> cases[] = {{"caresses", "caress"},
                                                       {"ponies", "poni"},
                                                       {"ties", "ti"},
                                                       {"caress", "caress"},
                                                       {"cats", "cat"},
                                                       {"feed", "feed"},
                                                       {"agreed", "agre"},
                                                       {"plastered", "plaster"},
                                                       {"bled", "bled"},
                                                       {"motoring", "motor"},
                                                       {"sing", "sing"},
                                                       {"conflated", "conflat"},
                                                       {"troubled", "troubl"},
                                                       {"sized", "size"},
                                                       {"hopping", "hop"},
                                                       {"tanned", "tan"},
                                                       {"falling", "fall"},
                                                       {"hissing", "hiss"},
                                                       {"fizzed", "fizz"},
                                                       {"failing", "fail"},
                                                       {"filing", "file"},
                                                       {"happy", "happi"},
                                                       {"sky", "sky"},
                                                       {"relational", "relat"},
                                                       {"conditional", "condit"},
                                                       {"rational", "ration"},
                                                       {"valenci", "valenc"},
                                                       {"digitizer", "digit"},
                                                       {"conformabli", "conform"},
                                                       {"radicalli", "radic"},
                                                       {"differentli", "differ"},
                                                       {"vileli", "vile"},
                                                       {"analogousli", "analog"},
                                                       {"vietnamization", "vietnam"},
                                                       {"predication", "predic"},
                                                       {"operator", "oper"},
                                                       {"feudalism", "feudal"},
                                                       {"decisiveness", "decis"},
                                                       {"hopefulness", "hope"},
                                                       {"callousness", "callous"},
                                                       {"formaliti", "formal"},
                                                       {"sensitiviti", "sensit"},
                                                       {"sensibiliti", "sensibl"},
                                                       {"triplicate", "triplic"},
                                                       {"formative", "form"},
                                                       {"formalize", "formal"},
                                                       {"electriciti", "electr"},
                                                       {"electrical", "electr"},
                                                       {"hopeful", "hope"},
                                                       {"goodness", "good"},
                                                       {"revival", "reviv"},
                                                       {"allowance", "allow"},
                                                       {"inference", "infer"},
                                                       {"airliner", "airlin"},
                                                       {"gyroscopic", "gyroscop"},
                                                       {"adjustable", "adjust"},
                                                       {"defensible", "defens"},
                                                       {"irritant", "irrit"},
                                                       {"replacement", "replac"},
                                                       {"adjustment", "adjust"},
                                                       {"dependent", "depend"},
                                                       {"adoption", "adopt"},
                                                       {"homologou", "homolog"},
                                                       {"communism", "commun"},
                                                       {"activate", "activ"},
                                                       {"angulariti", "angular"},
                                                       {"homologous", "homolog"},
                                                       {"effective", "effect"},
                                                       {"bowdlerize", "bowdler"},
                                                       {"probate", "probat"},
                                                       {"rate", "rate"},
                                                       {"cease", "ceas"},
                                                       {"controll", "control"},
                                                       {"roll", "roll"},
                                                       {"connection", "connect"},
                                                       {"connections", "connect"},
                                                       {"connected", "connect"},
                                                       {"connecting", "connect"}};
  for (const auto& [word, stem] : cases) EXPECT_EQ(porter_stem(word), stem) << word;
}

TEST(PorterStem, LeavesOtherWordsAlone) {
  EXPECT_EQ(porter_stem("is"), "is");
  EXPECT_EQ(porter_stem("abc123"), "abc123");
  EXPECT_EQ(porter_stem("Running"), "Running");  // callers fold case first
  EXPECT_EQ(porter_stem("火锅"), "火锅");
  EXPECT_EQ(porter_stem(""), "");
}

}  // namespace
}  // namespace pm::store
