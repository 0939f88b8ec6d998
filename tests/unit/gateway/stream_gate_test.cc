// StreamGate: which events of a streamed answer go out before validation, which wait, and
// that what waits plus what went out is the stream, byte for byte.
#include "gateway/stream_gate.h"

#include <gtest/gtest.h>

#include <string>

namespace sheepdog::gateway {
namespace {

namespace json = boost::json;

std::string event(std::string_view data) { return "data: " + std::string(data) + "\n\n"; }

const std::string kRole =
    event(R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":)"
          R"([{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})");
const std::string kText = event(
    R"({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Let me check."},"finish_reason":null}]})");
const std::string kCallStart = event(
    R"({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]},"finish_reason":null}]})");
const std::string kCallRest = event(
    R"({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"finish_reason":null}]})");
const std::string kFinish = event(
    R"({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})");
const std::string kUsage = event(
    R"({"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}})");
const std::string kDone = "data: [DONE]\n\n";

TEST(StreamGateTest, AToolCallOnlyAnswerIsHeldWhole) {
  StreamGate gate(StreamGate::Hold::kToolCalls);
  std::string forward;
  for (const std::string& e : {kRole, kCallStart, kCallRest, kFinish, kUsage, kDone}) {
    gate.feed(e, forward);
  }
  EXPECT_EQ(forward, "");
  EXPECT_FALSE(gate.forwarded_any());
  EXPECT_EQ(gate.held(), kRole + kCallStart + kCallRest + kFinish + kUsage + kDone);
  const json::object completion = gate.completion();
  const json::object& message = completion.at("choices").as_array()[0].at("message").as_object();
  EXPECT_EQ(message.at("tool_calls").as_array()[0].at("function").at("arguments"),
            R"({"city":"Paris"})");
  EXPECT_EQ(completion.at("choices").as_array()[0].at("finish_reason"), "tool_calls");
}

TEST(StreamGateTest, TextBeforeAToolCallFlowsAndTheCallWaits) {
  StreamGate gate(StreamGate::Hold::kToolCalls);
  std::string forward;
  gate.feed(kRole, forward);
  EXPECT_EQ(forward, "");  // nothing visible yet: the role chunk waits for the first text
  gate.feed(kText, forward);
  EXPECT_EQ(forward, kRole + kText);
  EXPECT_TRUE(gate.forwarded_any());
  forward.clear();
  gate.feed(kCallStart + kCallRest + kFinish + kDone, forward);
  EXPECT_EQ(forward, "");
  EXPECT_EQ(gate.held(), kCallStart + kCallRest + kFinish + kDone);
  EXPECT_EQ(gate.completion().at("choices").as_array()[0].at("message").at("content"),
            "Let me check.");
}

TEST(StreamGateTest, ATextAnswerWaitsOnlyForItsFinalChunk) {
  StreamGate gate(StreamGate::Hold::kToolCalls);
  std::string forward;
  gate.feed(kRole + kText, forward);
  EXPECT_EQ(forward, kRole + kText);
  forward.clear();
  const std::string stop = event(
      R"({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})");
  gate.feed(stop + kDone, forward);
  EXPECT_EQ(forward, "");
  EXPECT_EQ(gate.held(), stop + kDone);
}

TEST(StreamGateTest, StructuredOutputIsHeldWhole) {
  StreamGate gate(StreamGate::Hold::kEverything);
  std::string forward;
  gate.feed(kRole + kText + kDone, forward);
  EXPECT_EQ(forward, "");
  EXPECT_EQ(gate.held(), kRole + kText + kDone);
}

TEST(StreamGateTest, EventsSplitAcrossFeedsAreReassembled) {
  StreamGate gate(StreamGate::Hold::kToolCalls);
  std::string forward;
  const std::string all = kRole + kText + kCallStart;
  for (char c : all) {
    gate.feed(std::string_view(&c, 1), forward);
  }
  EXPECT_EQ(forward, kRole + kText);
  EXPECT_EQ(gate.held(), kCallStart);
}

TEST(StreamGateTest, AnEventThatIsNotJsonFollowsTheHoldingState) {
  StreamGate gate(StreamGate::Hold::kToolCalls);
  std::string forward;
  gate.feed(kText, forward);
  forward.clear();
  gate.feed(event("not json"), forward);
  EXPECT_EQ(forward, event("not json"));  // text is flowing: it goes out like any event
  gate.feed(kCallStart, forward);
  forward.clear();
  gate.feed(event("not json either"), forward);
  EXPECT_EQ(forward, "");  // held with the call
}

}  // namespace
}  // namespace sheepdog::gateway
