// Turns a streamed answer back into the one chat.completion it amounts to, so the answer
// validator (llm/tool_validation.h) checks streamed and non-streamed answers alike. Pure.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <string>
#include <vector>

namespace sheepdog::llm {

// Assembles a stream's chat.completion.chunk objects into the chat.completion they amount to,
// so AnswerValidator::validate applies to streams too. Per choice index: content, refusal and
// each tool call's arguments are concatenated across deltas; a tool call's id, type and name
// are taken from the first delta that has them (some servers repeat them in later deltas); a
// tool-call delta without `index` counts by its position in the delta. id, created, model,
// system_fingerprint come from the first chunk that has them, usage from the last. Chunks
// without choices (a usage-only chunk, an error object) are fine. Choice and tool-call indexes
// at or above kMaxIndex are ignored (a bound on what a broken upstream can make us allocate).
class ToolCallAssembler {
 public:
  static constexpr size_t kMaxIndex = 128;

  void add(const boost::json::object& chunk);

  // {"id","object":"chat.completion","created","model",("system_fingerprint"),"choices":[
  //   {"index","message":{"role":"assistant","content": string or null,("refusal"),
  //    ("tool_calls":[{"id","type","function":{"name","arguments"}}])},
  //    "finish_reason": string or null,"logprobs":null}],("usage")}
  boost::json::object completion() const;

  // True once any choice has reported a finish_reason.
  bool finished() const { return finished_; }

 private:
  struct Call {
    std::string id;
    std::string type;
    std::string name;
    std::string arguments;
  };
  struct Choice {
    bool seen = false;
    bool has_content = false;
    bool has_refusal = false;
    std::string content;
    std::string refusal;
    std::vector<Call> calls;
    boost::json::value finish_reason;
  };
  static void add_calls(Choice& choice, const boost::json::array& deltas);

  boost::json::object header_;
  std::vector<Choice> choices_;
  boost::json::value usage_;
  bool finished_ = false;
};

}  // namespace sheepdog::llm
